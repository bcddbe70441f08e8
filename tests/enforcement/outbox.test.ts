import type { InboxEvent } from '../../src/server/storage/inboxStore';
import type { OutboxRow } from '../../src/server/storage/outboxStore';
import { waitUntil } from '../support/process';
import { REP, requestReviewAsRep, revertNotes, seedGatedDeal, stackPerTest, stageOf } from './world';

/**
 * HubSpot failing for a while delays Dealgate's effects but loses none and repeats none; effects
 * that cannot be delivered, and events that cannot be processed, end up visible on the ops routes.
 */
describe('the outbox and the inbox under HubSpot faults', () => {
  const start = stackPerTest();

  const updates = 'POST /crm/v3/objects/deals/batch/update';
  const noteCreates = 'POST /crm/v3/objects/notes/batch/create';

  it('retries through 5xx answers: the revert and the note arrive late, once', async () => {
    const s = await start();
    const deal = seedGatedDeal(s);
    s.sim.faults.failNext(3, { status: 503, match: updates });
    s.sim.faults.failNext(2, { status: 500, match: noteCreates });
    s.sim.moveDealToStage(deal.id, 'closedwon', { userId: REP });
    await s.settle();

    expect(stageOf(s, deal.id)).toBe('contractsent');
    expect(revertNotes(s, deal.id)).toHaveLength(1);
    expect(s.sim.requests.all().filter((r) => r.endpoint === updates && r.status === 503)).toHaveLength(3);
    const rows = await s.store.outbox.list({ limit: 20, dealId: deal.id });
    expect(rows.every((r) => r.status === 'done')).toBe(true);
    // Rows retry on their own jittered schedules, so the three failures may be shared between them.
    expect(rows.find((r) => r.kind === 'revert_stage')?.attempts).toBeGreaterThan(1);
    expect(rows.find((r) => r.kind === 'create_note')?.attempts).toBeGreaterThan(1);
  });

  it('waits out 429s without spending attempts: nothing is lost', async () => {
    // Attempts would run out after 2 failures if a 429 counted as one.
    const s = await start({ background: { outboxRetry: { baseMs: 20, maxMs: 100, maxAttempts: 2 } } });
    const deal = seedGatedDeal(s);
    s.sim.faults.failNext(4, { status: 429, match: updates });
    s.sim.moveDealToStage(deal.id, 'closedwon', { userId: REP });
    await s.settle();

    expect(stageOf(s, deal.id)).toBe('contractsent');
    expect(s.sim.requests.all().filter((r) => r.endpoint === updates && r.status === 429)).toHaveLength(4);
    const revert = (await s.store.outbox.list({ limit: 20, dealId: deal.id })).find((r) => r.kind === 'revert_stage');
    expect(revert).toEqual(expect.objectContaining({ status: 'done', attempts: 1 }));
  });

  it('lets a rep’s later edit of the commitment in HubSpot win over our write of it still waiting on 429s', async () => {
    const s = await start();
    const deal = s.sim.seedDeal({ properties: { dealname: 'Acme', dealstage: 'qualifiedtobuy', pipeline: 'default', amount: '80000' } });
    s.sim.faults.failNext(100_000, { status: 429, match: updates });
    await requestReviewAsRep(s, deal.id, { summary: 'SSO with Okta and SCIM', effortWeeks: 3 });
    await waitUntil(() => s.sim.requests.all().some((r) => r.endpoint === updates && r.status === 429), 5_000, 'our write to be refused once');

    // Meanwhile the rep trims the promise in HubSpot itself.
    s.sim.updateDealAsUser(deal.id, { dealgate_commitment_summary: 'SSO with Okta' }, { userId: REP });
    await s.sim.webhooks.idle();
    await waitUntil(async () => (await s.store.inbox.countByStatus()).pending === 0 && await s.store.inbox.journalBacklog() === 0, 5_000, 'the edit to be processed');
    s.sim.faults.clear();
    await s.settle();

    const properties = s.sim.getDeal(deal.id)?.properties;
    expect(properties).toEqual(expect.objectContaining({ dealgate_commitment_summary: 'SSO with Okta', dealgate_commitment: 'true', dealgate_effort_weeks: '3' }));
    expect(properties?.dealgate_status).toBeTruthy();
    expect(await s.store.outbox.list({ status: 'failed', limit: 10 })).toEqual([]);
  });

  it('handles a bulk edit of 30 deals in batch calls: one read, one update, one note create', async () => {
    // The outbox polls at its production interval (it is woken when the inbox's share of the
    // account ends): at the stack's 20 ms it would claim each revert as its event commits, which on
    // PostgreSQL (every statement is I/O) makes a call per deal.
    const s = await start({ background: { outboxIdleMs: 1_000 } });
    const deals = Array.from({ length: 30 }, (_, i) => seedGatedDeal(s, { dealname: `bulk ${i}` }));
    s.sim.requests.reset();
    s.sim.moveDealsToStage(
      deals.map((d) => d.id),
      'closedwon',
      { userId: REP },
    );
    await s.settle();
    for (const deal of deals) {
      expect(stageOf(s, deal.id)).toBe('contractsent');
      expect(revertNotes(s, deal.id)).toHaveLength(1);
    }
    // Dealgate's own moves back are recognised without reading the deals again. The owners list
    // is read once, for the names in the notes (cached for every later batch): the active owners
    // and the archived ones (deactivated users, named too).
    expect(s.sim.requests.countsByEndpoint()).toEqual({
      'POST /crm/v3/objects/deals/batch/read': 1,
      'GET /crm/v3/owners': 2,
      [updates]: 1,
      [noteCreates]: 1,
    });
  });

  it('gives a note HubSpot keeps failing (502) up only once its attempts and the retry window are spent, says so on /ops/outbox, while the revert itself lands', async () => {
    // The window shrunk to 300 ms (72 h in production): before, the note failed after its attempts alone.
    const s = await start({ background: { outboxRetry: { baseMs: 20, maxMs: 100, maxAttempts: 3, windowMs: 300 } } });
    const deal = seedGatedDeal(s);
    s.sim.faults.failNext(1_000, { status: 502, match: noteCreates });
    s.sim.moveDealToStage(deal.id, 'closedwon', { userId: REP });
    await s.settle();
    s.sim.faults.clear();

    expect(stageOf(s, deal.id)).toBe('contractsent');
    expect(s.sim.notesForDeal(deal.id)).toEqual([]);
    expect(s.sim.requests.count(noteCreates)).toBeGreaterThanOrEqual(3);

    const failed = await s.ops<{ rows: OutboxRow[] }>('/ops/outbox?status=failed');
    expect(failed.status).toBe(200);
    expect(failed.json.rows).toEqual([
      expect.objectContaining({ kind: 'create_note', dealId: deal.id, status: 'failed', lastError: expect.stringMatching(/given up after retrying for \d+ s since it was queued \(the retry window is 0 s\) and \d+ attempts: HubSpot 502/) }),
    ]);
    const row = failed.json.rows[0] as OutboxRow;
    expect(row.attempts).toBeGreaterThanOrEqual(3);
    expect((row.completedAt ?? 0) - row.createdAt).toBeGreaterThanOrEqual(300);
    const metrics = await s.ops<{ outbox: Record<string, number> }>('/ops/metrics');
    expect(metrics.json.outbox).toEqual(expect.objectContaining({ failed: 1, pending: 0 }));
  });

  it('fails a row HubSpot refuses outright (400) without retrying it, and says why', async () => {
    const s = await start();
    const deal = seedGatedDeal(s);
    s.sim.faults.failNext(1, { status: 400, match: noteCreates });
    s.sim.moveDealToStage(deal.id, 'closedwon', { userId: REP });
    await s.settle();
    expect(s.sim.requests.count(noteCreates)).toBe(1);
    expect(await s.store.outbox.list({ status: 'failed', limit: 10 })).toEqual([
      expect.objectContaining({ kind: 'create_note', attempts: 1, lastError: expect.stringMatching(/^given up, retrying cannot cure it: HubSpot 400/) }),
    ]);
  });

  it('an event HubSpot keeps failing to read waits without spending attempts (shown on /ops/inbox) and is applied once HubSpot answers, by itself', async () => {
    const s = await start();
    const deal = seedGatedDeal(s);
    s.sim.faults.failNext(1_000, { status: 503, match: 'POST /crm/v3/objects/deals/batch/read' });
    s.sim.moveDealToStage(deal.id, 'closedwon', { userId: REP });
    // More failed reads than the 4 attempts of the test policy: before, the event was parked by then.
    await waitUntil(() => s.sim.requests.all().filter((r) => r.endpoint === 'POST /crm/v3/objects/deals/batch/read' && r.status === 503).length >= 6, 10_000, 'six failed reads');

    const pending = await s.ops<{ events: (InboxEvent & { payload: { propertyValue: string } })[] }>('/ops/inbox?status=pending');
    expect(pending.json.events).toEqual([
      expect.objectContaining({ objectId: deal.id, status: 'pending', attempts: 0, lastError: expect.stringMatching(/^waiting for HubSpot.*503/s) }),
    ]);
    expect(pending.json.events[0]?.payload.propertyValue).toBe('closedwon');
    expect((await s.store.inbox.countByStatus()).parked).toBe(0);
    expect(s.background.inbox.outages()).toEqual([expect.objectContaining({ portalId: s.sim.portalId })]);
    expect(stageOf(s, deal.id)).toBe('closedwon');

    s.sim.faults.clear();
    await s.settle();
    expect(stageOf(s, deal.id)).toBe('contractsent');
    expect(revertNotes(s, deal.id)).toHaveLength(1);
    expect(s.background.inbox.outages()).toEqual([]);
  });

  it('parks at once an event HubSpot refuses to read (a 4xx that is not 429), says why, and applies it once when requeued', async () => {
    const s = await start();
    const deal = seedGatedDeal(s);
    s.sim.faults.failNext(1, { status: 403, match: 'POST /crm/v3/objects/deals/batch/read' });
    s.sim.moveDealToStage(deal.id, 'closedwon', { userId: REP });
    await s.settle();

    const parked = await s.ops<{ events: (InboxEvent & { payload: { propertyValue: string } })[] }>('/ops/inbox?status=parked');
    expect(parked.json.events).toEqual([
      expect.objectContaining({ objectId: deal.id, status: 'parked', attempts: 1, lastError: expect.stringContaining('retrying cannot cure it: HubSpot answered 403') }),
    ]);
    expect(stageOf(s, deal.id)).toBe('closedwon');

    const id = parked.json.events[0]?.id ?? 0;
    expect((await s.ops(`/ops/inbox/${id}/retry`, 'POST')).json).toEqual({ requeued: id });
    expect((await s.ops(`/ops/inbox/${id}/retry`, 'POST')).status).toBe(404);
    s.background.inbox.wake();
    await s.settle();
    expect(stageOf(s, deal.id)).toBe('contractsent');
    expect(revertNotes(s, deal.id)).toHaveLength(1);
  });

  it('answers the ops routes only with the ops token', async () => {
    const s = await start();
    const anonymous = await fetch(s.url + '/ops/metrics');
    expect(anonymous.status).toBe(401);
    const wrong = await fetch(s.url + '/ops/outbox', { headers: { authorization: 'Bearer not-the-token-at-all' } });
    expect(wrong.status).toBe(401);
    expect((await s.ops('/ops/metrics')).status).toBe(200);
  });

  it('loses and repeats nothing when the process dies while HubSpot creates the note', async () => {
    const s = await start();
    const deal = seedGatedDeal(s);
    // The note's creation takes a while; the process is killed before it hears the answer.
    s.sim.faults.hangNext(1, { ms: 300, match: noteCreates });
    s.sim.moveDealToStage(deal.id, 'closedwon', { userId: REP });
    await waitUntil(async () => s.sim.requests.count(noteCreates) === 0 && (await s.store.outbox.list({ limit: 20 })).some((r) => r.kind === 'create_note' && r.attempts === 1), 5_000, 'the note delivery to start');
    await s.restart({ crash: true });
    await s.settle();

    expect(stageOf(s, deal.id)).toBe('contractsent');
    // HubSpot did create it; after the restart the worker found it by its reference instead of creating it again.
    expect(revertNotes(s, deal.id)).toHaveLength(1);
    expect(await s.store.gateViolations.listForDeal(s.sim.portalId, deal.id)).toHaveLength(1);
    expect((await s.store.outbox.list({ limit: 20 })).every((r) => r.status === 'done')).toBe(true);
  });

  it('loses and repeats nothing when the process dies in the middle of an inbox batch', async () => {
    const s = await start();
    const deals = Array.from({ length: 5 }, (_, i) => seedGatedDeal(s, { dealname: `batch ${i}` }));
    // The inbox worker's read of the moved deals hangs; the process dies meanwhile.
    s.sim.faults.hangNext(1, { ms: 300, match: 'POST /crm/v3/objects/deals/batch/read' });
    s.sim.moveDealsToStage(
      deals.map((d) => d.id),
      'closedwon',
      { userId: REP },
    );
    await s.sim.webhooks.idle();
    await waitUntil(async () => (await s.store.inbox.countByStatus()).pending === 5, 5_000, 'the events to be stored');
    await s.restart({ crash: true });
    await s.settle();

    for (const deal of deals) {
      expect(stageOf(s, deal.id)).toBe('contractsent');
      expect(revertNotes(s, deal.id)).toHaveLength(1);
      expect(await s.store.gateViolations.listForDeal(s.sim.portalId, deal.id)).toHaveLength(1);
    }
  });
});
