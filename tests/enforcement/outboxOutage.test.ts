import { ManualClock } from '../../src/server/shared/clock';
import type { OutboxRow } from '../../src/server/storage/outboxStore';
import { PROBE_MAX_MS } from '../../src/server/hubspot/accountOutages';
import { DEFAULT_OUTBOX_RETRY } from '../../src/server/workers/outboxWorker';
import type { Stack } from '../support/stack';
import { waitUntil } from '../support/process';
import { REP, REVIEWER, requestReviewAsRep, seedGatedDeal, stackPerTest } from './world';

/**
 * HubSpot out for Dealgate's writes (issue 12: the outbox gave up after 10 attempts, about 13
 * minutes of failing writes, and the revert, the note or the task was lost). The service runs on
 * a ManualClock with the production outbox policy (DEFAULT_OUTBOX_RETRY, its 72 h window, probes
 * up to a minute apart); the test moves that clock and the workers act on real timers in between.
 */
interface WaitingAccount {
  portalId: number;
  since: string;
  forMs: number;
  pending: number;
  failures: number;
  nextProbeAt: string;
  nextProbeInMs: number;
  lastError: string;
}
interface Metrics {
  inbox: { pending: number; parked: number; waitingForHubSpot: WaitingAccount[] };
  outbox: { pending: number; failed: number; waitingForHubSpot: WaitingAccount[] };
}

/** Hours of the service's clock pass in a second of real time: the governor's real-time budget must not pace the probes. */
const UNPACED = { requestsPerWindow: 100_000, windowMs: 10_000 };
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const WRITES = /^(POST \/crm\/v3\/objects\/\w+\/batch\/(create|update)|PATCH )/;
const ownReverts = (stack: Stack, id: string) => stack.sim.dealHistory(id, 'dealstage').filter((h) => h.sourceType === 'INTEGRATION' && h.value === 'contractsent').length;

/**
 * Moves the clock `stepMs` at a time; after each step, a probe the step made due gets real time to
 * run (up to 5 s) before the clock moves on, so a slow machine does not leave the probes behind the
 * clock (CI on PostgreSQL once saw the next probe 75 s overdue).
 */
async function runClock(clock: ManualClock, totalMs: number, stepMs: number, stack?: Stack): Promise<void> {
  for (let moved = 0; moved < totalMs; moved += stepMs) {
    clock.advance(Math.min(stepMs, totalMs - moved));
    await sleep(25);
    const overdue = () => stack?.background.outbox.outages().some((o) => o.nextProbeAt <= clock.now()) ?? false;
    if (overdue()) await waitUntil(() => !overdue(), 5_000).catch(() => undefined);
  }
}

/**
 * Steps the clock a second at a time until the outbox has nothing pending; returns how long that
 * took on the service's clock. The clock stands still while effects are being delivered or a probe
 * is due and not yet run: it skips the service's waits, it does not race its work.
 */
async function untilOutboxDrained(stack: Stack, clock: ManualClock, maxMs: number, realMaxMs = 8_000): Promise<number> {
  const from = clock.now();
  const realDeadline = Date.now() + realMaxMs;
  const outbox = stack.background.outbox;
  // A due probe holds the clock at most 2 s of real time (its rows may not be due yet: nothing would run).
  let heldFor: { probeAt: number; since: number } | undefined;
  while ((await stack.store.outbox.countByStatus()).pending > 0) {
    if (clock.now() - from > maxMs || Date.now() > realDeadline) throw new Error(`the outbox did not drain within ${maxMs} ms (${realMaxMs} ms real): ${JSON.stringify(await stack.store.outbox.countByStatus())}`);
    const due = outbox.outages().find((o) => o.nextProbeAt <= clock.now());
    if (due && heldFor?.probeAt !== due.nextProbeAt) heldFor = { probeAt: due.nextProbeAt, since: Date.now() };
    const probeHolds = due !== undefined && heldFor !== undefined && Date.now() - heldFor.since < 2_000;
    if (outbox.delivering().size === 0 && !probeHolds) clock.advance(1_000);
    await sleep(20);
  }
  return clock.now() - from;
}

describe('the outbox during a HubSpot outage', () => {
  const start = stackPerTest({ defaults: { valueThreshold: 50_000, reviewers: [REVIEWER] } });

  it('HubSpot refusing every write with 503 for 2 hours: nothing failed, the account waits (shown on /ops/metrics), then every effect lands once by itself', async () => {
    const clock = new ManualClock();
    const s = await start({ clock, background: { outboxRetry: DEFAULT_OUTBOX_RETRY, rate: UNPACED } });
    const outageMs = 2 * 60 * 60_000;
    const end = clock.now() + outageMs;
    s.sim.faults.failNext(Number.MAX_SAFE_INTEGER, { status: 503, match: (r) => clock.now() < end && WRITES.test(r.endpoint) });

    const gated = Array.from({ length: 5 }, (_, i) => seedGatedDeal(s, { dealname: `Outage ${i}` }).id);
    const reviewed = seedGatedDeal(s, { dealname: 'Reviewed', dealstage: 'qualifiedtobuy' }).id;
    s.sim.moveDealsToStage(gated, 'closedwon', { userId: REP });
    await requestReviewAsRep(s, reviewed);
    await s.sim.webhooks.idle(10_000);
    await waitUntil(async () => (await s.store.inbox.countByStatus()).pending === 0 && await s.store.inbox.journalBacklog() === 0, 10_000, 'the moves to be processed');
    await waitUntil(() => s.sim.requests.all().some((r) => r.status === 503), 10_000, 'a write refused');

    // Up to a minute before the end: HubSpot still refuses, nothing is given up.
    await runClock(clock, outageMs - 60_000, 60_000, s);
    const refused = s.sim.requests.all().filter((r) => r.status === 503);
    const rows = await s.store.outbox.list({ limit: 100 });
    expect(rows.filter((r) => r.status === 'failed')).toEqual([]);
    expect(rows.filter((r) => r.status === 'pending').map((r) => r.kind).sort()).toEqual(
      expect.arrayContaining(['create_note', 'create_task', 'revert_stage', 'update_deal']),
    );
    expect(gated.every((id) => s.sim.getDeal(id)?.properties.dealstage === 'closedwon')).toBe(true);
    // Probes, not a storm: rows retried at most a minute apart, one call per kind and probe at most.
    expect(refused.length).toBeLessThan(4 * (outageMs / PROBE_MAX_MS) + 40);

    const during = await s.ops<Metrics>('/ops/metrics');
    expect(during.status).toBe(200);
    expect(during.json.outbox.failed).toBe(0);
    expect(during.json.outbox.waitingForHubSpot).toEqual([
      expect.objectContaining({
        portalId: s.sim.portalId,
        pending: during.json.outbox.pending,
        failures: expect.any(Number),
        lastError: expect.stringContaining('HubSpot 503'),
      }),
    ]);
    const waiting = during.json.outbox.waitingForHubSpot[0] as WaitingAccount;
    expect(waiting.pending).toBeGreaterThanOrEqual(4);
    expect(waiting.forMs).toBeGreaterThan(outageMs - 3 * 60_000);
    expect(Date.parse(waiting.since)).toBeLessThan(clock.now() - (outageMs - 3 * 60_000));
    expect(Date.parse(waiting.nextProbeAt)).toBeGreaterThanOrEqual(clock.now() - 60_000);
    expect(waiting.nextProbeInMs).toBeLessThanOrEqual(PROBE_MAX_MS);
    expect(during.json.inbox.waitingForHubSpot).toEqual([]);

    // HubSpot answers again: within a probe or two everything lands, no one requeues anything.
    clock.advance(60_000);
    const resumedAfterMs = await untilOutboxDrained(s, clock, 5 * 60_000);
    expect(resumedAfterMs).toBeLessThanOrEqual(2 * PROBE_MAX_MS);

    for (const id of gated) {
      expect(s.sim.getDeal(id)?.properties.dealstage).toBe('contractsent');
      expect(ownReverts(s, id)).toBe(1);
      expect(s.sim.notesForDeal(id)).toHaveLength(1);
    }
    expect(s.sim.tasksForDeal(reviewed)).toHaveLength(1);
    expect(s.sim.getDeal(reviewed)?.properties.dealgate_status).toBe('pending');
    expect((await s.store.outbox.list({ limit: 100 })).filter((r: OutboxRow) => r.status !== 'done')).toEqual([]);
    const after = await s.ops<Metrics>('/ops/metrics');
    expect(after.json.outbox).toEqual(expect.objectContaining({ failed: 0, pending: 0, waitingForHubSpot: [] }));
  });

  it('an outage longer than the retry window (72 h) gives the effects up, saying how long they were retried', async () => {
    const clock = new ManualClock();
    const s = await start({ clock, background: { outboxRetry: { ...DEFAULT_OUTBOX_RETRY, maxAttempts: 3 }, rate: UNPACED } });
    s.sim.faults.failNext(Number.MAX_SAFE_INTEGER, { status: 503, match: (r) => WRITES.test(r.endpoint) });
    const deal = seedGatedDeal(s).id;
    s.sim.moveDealToStage(deal, 'closedwon', { userId: REP });
    await s.sim.webhooks.idle(10_000);
    await waitUntil(() => s.sim.requests.all().some((r) => r.status === 503), 10_000, 'a write refused');
    await runClock(clock, 71 * 60 * 60_000, 60 * 60_000);
    expect((await s.store.outbox.countByStatus()).failed).toBe(0);
    await runClock(clock, 60 * 60_000, 10 * 60_000);
    // Past the window: each row is given up at its next try (a loaded machine may need a few more steps).
    await untilOutboxDrained(s, clock, 60 * 60_000);

    const failed = await s.store.outbox.list({ status: 'failed', limit: 10 });
    expect([...new Set(failed.map((r) => r.kind))].sort()).toEqual(['create_note', 'revert_stage', 'update_deal']);
    for (const row of failed) expect(row.lastError).toMatch(/given up after retrying for 7\d(\.\d)? h since it was queued \(the retry window is 72 h\) and \d+ attempts: HubSpot 503/);
  });
});

describe('the outbox gives up at once what retrying cannot cure, and says why', () => {
  const start = stackPerTest({ defaults: { valueThreshold: 50_000, reviewers: [REVIEWER] } });

  it.each([
    [400, 'POST /crm/v3/objects/notes/batch/create', 'create_note'],
    [403, 'POST /crm/v3/objects/tasks/batch/create', 'create_task'],
    [404, 'POST /crm/v3/objects/deals/batch/update', 'revert_stage'],
  ])('a %i on %s: the %s row fails after one attempt, the account does not wait', async (status, endpoint, kind) => {
    // The outbox polls at its production interval (it is woken when the inbox's share of the
    // account ends): at the stack's 20 ms, on PostgreSQL (every statement is I/O) it would claim
    // the status write of the deal's creation alone, mid-share, and send it without the revert.
    const s = await start({ background: { outboxIdleMs: 1_000 } });
    const deal = seedGatedDeal(s).id;
    s.sim.faults.failNext(1, { status, match: endpoint });
    if (kind === 'create_task') await requestReviewAsRep(s, deal);
    else s.sim.moveDealToStage(deal, 'closedwon', { userId: REP });
    await s.settle();

    expect(s.sim.requests.count(endpoint)).toBeGreaterThanOrEqual(1);
    // The deal's status writes share the revert's call: they are refused with it.
    const failed = await s.store.outbox.list({ status: 'failed', limit: 10 });
    expect(failed.map((r) => r.kind)).toContain(kind);
    expect(failed.filter((r) => r.kind !== kind && r.kind !== 'update_deal')).toEqual([]);
    for (const row of failed) expect(row).toEqual(expect.objectContaining({ attempts: 1, lastError: expect.stringContaining(`given up, retrying cannot cure it: HubSpot ${status}`) }));
    expect(s.background.outbox.outages()).toEqual([]);
    const metrics = await s.ops<Metrics>('/ops/metrics');
    expect(metrics.json.outbox).toEqual(expect.objectContaining({ failed: failed.length, waitingForHubSpot: [] }));
  });
});

describe('POST /ops/outbox/:id/retry', () => {
  const start = stackPerTest({ defaults: { valueThreshold: 50_000, reviewers: [REVIEWER] } });

  it('puts a failed row back once its cause is fixed (a 403 missing scopes, then the scope granted): delivered once', async () => {
    const s = await start();
    const deal = seedGatedDeal(s).id;
    s.sim.faults.failNext(1, { status: 403, match: 'POST /crm/v3/objects/notes/batch/create' });
    s.sim.moveDealToStage(deal, 'closedwon', { userId: REP });
    await s.settle();
    const failed = await s.ops<{ rows: OutboxRow[] }>('/ops/outbox?status=failed');
    expect(failed.json.rows).toEqual([expect.objectContaining({ kind: 'create_note', lastError: expect.stringContaining('retrying cannot cure it: HubSpot 403') })]);
    expect(s.sim.notesForDeal(deal)).toHaveLength(0);

    const id = failed.json.rows[0]?.id ?? 0;
    expect(await s.ops(`/ops/outbox/${id}/retry`, 'POST')).toEqual({ status: 200, json: { requeued: id } });
    expect((await s.ops(`/ops/outbox/${id}/retry`, 'POST')).status).toBe(404);
    expect((await s.ops('/ops/outbox/1e3/retry', 'POST')).status).toBe(400);
    s.background.outbox.wake();
    await s.settle();
    expect(s.sim.notesForDeal(deal)).toHaveLength(1);
    expect(await s.store.outbox.get(id)).toEqual(expect.objectContaining({ status: 'done' }));
  });
});

describe('/ops/metrics: the inbox waiting on HubSpot', () => {
  const start = stackPerTest();

  it('names the account whose events wait for HubSpot reads, since when, how many, and the next probe', async () => {
    const s = await start();
    const deal = seedGatedDeal(s).id;
    s.sim.faults.failNext(Number.MAX_SAFE_INTEGER, { status: 503, match: 'POST /crm/v3/objects/deals/batch/read' });
    const before = Date.now();
    s.sim.moveDealToStage(deal, 'closedwon', { userId: REP });
    await waitUntil(() => s.sim.requests.all().filter((r) => r.status === 503).length >= 2, 10_000, 'two failed reads');

    const metrics = await s.ops<Metrics>('/ops/metrics');
    expect(metrics.json.inbox.waitingForHubSpot).toEqual([
      expect.objectContaining({ portalId: s.sim.portalId, pending: 1, failures: expect.any(Number), lastError: expect.stringContaining('503') }),
    ]);
    const waiting = metrics.json.inbox.waitingForHubSpot[0] as WaitingAccount;
    expect(Date.parse(waiting.since)).toBeGreaterThanOrEqual(before - 1_000);
    expect(Number.isNaN(Date.parse(waiting.nextProbeAt))).toBe(false);
    expect(metrics.json.outbox.waitingForHubSpot).toEqual([]);

    s.sim.faults.clear();
    await s.settle();
    expect((await s.ops<Metrics>('/ops/metrics')).json.inbox.waitingForHubSpot).toEqual([]);
  });
});
