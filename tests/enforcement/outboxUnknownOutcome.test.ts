import { IN_DOUBT } from '../../src/server/storage/outboxStore';
import { waitUntil } from '../support/process';
import type { Stack } from '../support/stack';
import { decideAsReviewer, REP, REVIEWER, requestReviewAsRep, revertNotes, seedGatedDeal, stackPerTest, stageOf } from './world';

/**
 * Issue 12, findings 1 and 6: effects exactly once, whatever HubSpot answers. An answer that does
 * not prove a create did not happen (a 5xx, a timeout, a crash or a restart while the call is in
 * flight) leaves the note or task "outcome unknown": the next attempt looks for it by its
 * reference first, and while the earlier call may still land (no answer, or a 504) it keeps
 * looking instead of creating it again, across restarts (the send time is stored with the row).
 */
const SECOND_REVIEWER = '201';
const OWNERS = [
  { email: 'rev.one@example.com', userId: Number(REVIEWER), id: '7001' },
  { email: 'rev.two@example.com', userId: Number(SECOND_REVIEWER), id: '7002' },
];
const NOTE_CREATE = 'POST /crm/v3/objects/notes/batch/create';
const TASK_CREATE = 'POST /crm/v3/objects/tasks/batch/create';

// A call timeout of 600 ms: a call nothing can hear any more may land for 1.8 s (three times that).
const FAST_TIMEOUT = { callTimeoutMs: 600 };

const notesOf = (s: Stack, dealId: string) => s.sim.notesForDeal(dealId).length;

describe('outcome unknown: HubSpot did the work but the answer says otherwise', () => {
  const start = stackPerTest({ defaults: { valueThreshold: 50_000, reviewers: [REVIEWER, SECOND_REVIEWER] }, simulator: { owners: OWNERS } });

  it.each([504, 500])('notes HubSpot created although it answered %i are not created again (one note per deal)', async (status) => {
    // The outbox polls at its production interval (it is woken when the inbox's share of the
    // account ends): at the stack's 20 ms it would claim each note as its event commits, which on
    // PostgreSQL (every statement is I/O) splits the three notes over three calls.
    const s = await start({ background: { ...FAST_TIMEOUT, outboxIdleMs: 1_000 } });
    const deals = Array.from({ length: 3 }, (_, i) => seedGatedDeal(s, { dealname: `applied ${status} ${i}` }));
    // Three times HubSpot creates the batch's notes and answers a 5xx all the same.
    s.sim.faults.failNext(3, { status, applied: true, match: NOTE_CREATE });
    s.sim.moveDealsToStage(
      deals.map((d) => d.id),
      'closedwon',
      { userId: REP },
    );
    await s.settle({ timeoutMs: 20_000 });

    for (const deal of deals) {
      expect(stageOf(s, deal.id)).toBe('contractsent');
      expect(revertNotes(s, deal.id)).toHaveLength(1);
    }
    // The first create landed; every later attempt found it by its reference instead.
    expect(s.sim.requests.all().filter((r) => r.endpoint === NOTE_CREATE).map((r) => r.status)).toEqual([status]);
    expect((await s.store.outbox.list({ limit: 50 })).filter((r) => r.kind === 'create_note').map((r) => r.status)).toEqual(['done', 'done', 'done']);
  });

  it('a 504 for a create that did not happen: looked for until the call cannot land, then created once', async () => {
    const s = await start({ background: FAST_TIMEOUT });
    const deal = seedGatedDeal(s);
    s.sim.faults.failNext(1, { status: 504, match: NOTE_CREATE });
    s.sim.moveDealToStage(deal.id, 'closedwon', { userId: REP });
    await waitUntil(async () => (await s.store.outbox.list({ limit: 20 })).some((r) => r.kind === 'create_note' && (r.lastError ?? '').startsWith(IN_DOUBT)), 5_000, 'the 504');
    await s.settle({ timeoutMs: 20_000 });

    expect(revertNotes(s, deal.id)).toHaveLength(1);
    expect(s.sim.requests.all().filter((r) => r.endpoint === NOTE_CREATE).map((r) => r.status)).toEqual([504, 201]);
  });

  it('tasks HubSpot created although it answered 500: one per reviewer, recorded, and completed by the decision', async () => {
    const s = await start({ background: FAST_TIMEOUT });
    const deal = seedGatedDeal(s);
    // Both tasks go out in one batch create, which HubSpot does and answers 500.
    s.sim.faults.failNext(1, { status: 500, applied: true, match: TASK_CREATE });
    const reviewId = await requestReviewAsRep(s, deal.id);
    await s.settle({ timeoutMs: 20_000 });

    const tasks = s.sim.tasksForDeal(deal.id);
    expect(tasks.map((t) => t.properties.hubspot_owner_id).sort()).toEqual(['7001', '7002']);
    expect(s.sim.requests.all().filter((r) => r.endpoint === TASK_CREATE).map((r) => r.status)).toEqual([500]);

    await decideAsReviewer(s, reviewId, { outcome: 'no', note: 'not this quarter' });
    await s.settle({ timeoutMs: 20_000 });
    expect(s.sim.tasksForDeal(deal.id).map((t) => t.properties.hs_task_status)).toEqual(['COMPLETED', 'COMPLETED']);
    expect(await s.store.outbox.list({ status: 'failed', limit: 10 })).toEqual([]);
  });
});

describe('outcome unknown across a restart: the record of a call in flight is durable', () => {
  const start = stackPerTest();

  async function moveWithHungNote(s: Stack): Promise<string> {
    const deal = seedGatedDeal(s);
    // HubSpot holds the note's create for 1.5 s, then does it.
    s.sim.faults.hangNext(1, { ms: 1_500, match: NOTE_CREATE });
    s.sim.moveDealToStage(deal.id, 'closedwon', { userId: REP });
    await waitUntil(() => s.sim.faults.hangsStarted() === 1, 5_000, 'the note create to reach HubSpot');
    return deal.id;
  }

  async function expectOneNote(s: Stack, dealId: string): Promise<void> {
    // The held create is answered (to whichever process sent it) and logged.
    await waitUntil(() => s.sim.faults.hangsFinished() === 1, 10_000, 'the held create to be done');
    await s.settle({ timeoutMs: 20_000 });
    expect(stageOf(s, dealId)).toBe('contractsent');
    expect(notesOf(s, dealId)).toBe(1);
    expect(s.sim.requests.count(NOTE_CREATE)).toBe(1);
    expect((await s.store.outbox.list({ limit: 20 })).every((r) => r.status === 'done')).toBe(true);
  }

  it('a create that hangs across a graceful stop (SIGTERM) and start: the new process finds it, one note', async () => {
    const s = await start({ background: FAST_TIMEOUT });
    const dealId = await moveWithHungNote(s);
    // The stop lets the round finish: the call times out (600 ms) and is recorded in doubt.
    await s.restart();
    await expectOneNote(s, dealId);
  });

  it('a create in flight when the process dies: after the start it is looked for until it lands, one note', async () => {
    const s = await start({ background: { callTimeoutMs: 1_000 } }); // may land for 3 s
    const dealId = await moveWithHungNote(s);
    await s.restart({ crash: true });
    await expectOneNote(s, dealId);
  });
});
