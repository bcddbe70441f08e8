import { ManualClock } from '../../src/server/shared/clock';
import { DEFAULT_INBOX_RETRY, INBOX_RETRY_WINDOW_MS, PROBE_MAX_MS } from '../../src/server/workers/inboxWorker';
import { startStack, type Stack } from '../support/stack';
import { reportCounts } from './counts';
import { waitUntil } from '../support/process';

/**
 * HubSpot down for a long time while Dealgate has acknowledged webhooks (issue 12, finding #2:
 * unreachable for 130 s, every event was parked after 8 attempts and 100 gated deals stayed won).
 * The service runs on a ManualClock with the production inbox retry policy (DEFAULT_INBOX_RETRY,
 * its 72 h window and its probes up to a minute apart): the simulator fails every call for a span
 * of the service's clock, the test moves that clock in steps, and the workers run on real timers
 * in between. An outage delays enforcement, never drops it: once HubSpot answers, every gated move
 * is reverted exactly once (one revert, one note, one violation per deal), by itself.
 */
const REP = 1001;
const REVIEWER = '1002';
const ADMIN = '1003';
const READS = 'POST /crm/v3/objects/deals/batch/read';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function outageStack(clock: ManualClock, callTimeoutMs?: number): Promise<Stack> {
  const stack = await startStack({
    clock,
    defaults: { valueThreshold: 50_000, reviewers: [REVIEWER], admins: [ADMIN] },
    // The production inbox policy, not the stack's shrunk one: the clock is what is compressed.
    background: { inboxRetry: DEFAULT_INBOX_RETRY, ...(callTimeoutMs !== undefined ? { callTimeoutMs } : {}) },
  });
  try {
    await stack.provision();
  } catch (error) {
    await stack.stop();
    throw error;
  }
  return stack;
}

function seedDeals(stack: Stack, n: number, from: number, amount: string): string[] {
  return Array.from(
    { length: n },
    (_, i) =>
      stack.sim.seedDeal({
        properties: {
          dealname: `Outage deal ${from + i}`,
          dealstage: 'contractsent',
          pipeline: 'default',
          amount,
          dealgate_commitment: 'true',
          dealgate_commitment_summary: 'Custom SSO',
          dealgate_effort_weeks: '3',
        },
      }).id,
  );
}

/** Every call to HubSpot answers 503 while the service's clock is before `until`. */
function failUntil(stack: Stack, clock: ManualClock, until: number): void {
  stack.sim.faults.failNext(Number.MAX_SAFE_INTEGER, { status: 503, match: () => clock.now() < until });
}

/** The service's clock moves `stepMs` at a time, the workers get real time to act on each step. */
async function runClock(clock: ManualClock, totalMs: number, stepMs: number, each?: () => void | Promise<void>, realMsPerStep = 25): Promise<void> {
  for (let moved = 0; moved < totalMs; moved += stepMs) {
    clock.advance(Math.min(stepMs, totalMs - moved));
    await sleep(realMsPerStep);
    await each?.();
  }
}

const ownReverts = (stack: Stack, id: string) => stack.sim.dealHistory(id, 'dealstage').filter((h) => h.sourceType === 'INTEGRATION' && h.value === 'contractsent').length;

async function expectRevertedOnce(stack: Stack, gated: string[]): Promise<void> {
  const all = [];
  for (const id of gated) {
    all.push({
      id,
      stage: stack.sim.getDeal(id)?.properties.dealstage,
      reverts: ownReverts(stack, id),
      notes: stack.sim.notesForDeal(id).length,
      violations: (await stack.store.gateViolations.listForDeal(stack.sim.portalId, id)).length,
    });
  }
  const wrong = all.filter((d) => d.stage !== 'contractsent' || d.reverts !== 1 || d.notes !== 1 || d.violations !== 1);
  expect(wrong).toEqual([]);
}

function expectUntouched(stack: Stack, allowed: string[]): void {
  const wrong = allowed.filter((id) => stack.sim.getDeal(id)?.properties.dealstage !== 'closedwon' || ownReverts(stack, id) !== 0 || stack.sim.notesForDeal(id).length !== 0);
  expect(wrong).toEqual([]);
}

/**
 * Waits (real time, the worker's own pace) until every webhook batch HubSpot delivered is stored as
 * inbox events: on a loaded machine the journal may not be expanded yet when the deliveries end.
 */
async function untilStored(stack: Stack, events: number): Promise<void> {
  await waitUntil(async () => await stack.store.inbox.journalBacklog() === 0 && (await stack.store.inbox.countByStatus()).pending >= events, 20_000, `${events} inbox events stored`);
}

/**
 * Steps the clock until the inbox no longer waits for HubSpot for the account (its probe answered
 * and resumed it); returns the service's time that took. The clock moves at most to the next probe;
 * a due probe gets real time to run first.
 */
async function untilResumed(stack: Stack, clock: ManualClock, maxMs: number, realMaxMs = 60_000): Promise<number> {
  const from = clock.now();
  const realDeadline = Date.now() + realMaxMs;
  const outage = () => stack.background.inbox.outages().find((o) => o.portalId === stack.sim.portalId);
  for (let current = outage(); current; current = outage()) {
    if (clock.now() - from > maxMs || Date.now() > realDeadline) throw new Error(`the account was not resumed within ${maxMs} ms of the service's clock (${realMaxMs} ms real)`);
    if (clock.now() < current.nextProbeAt) {
      clock.advance(Math.min(1_000, current.nextProbeAt - clock.now()));
      await sleep(20);
      continue;
    }
    // The probe is due on the service's clock: give it real time to run before the clock moves on, so
    // a slow machine does not count its own delay as the service's (CI once measured 68 s this way).
    const due = current.nextProbeAt;
    await waitUntil(() => outage()?.nextProbeAt !== due, 5_000).catch(() => undefined);
    if (outage()?.nextProbeAt === due) clock.advance(1_000);
  }
  return clock.now() - from;
}

/**
 * Steps the clock until the inbox has nothing pending (HubSpot answers again: the next probe resumes it).
 * The clock stands still while an account's events are being applied: compressing the service's time
 * is for skipping its waits (retries, probes), not for racing its work. Racing it made every periodic
 * sweep run each step and starved the store on a slow machine (PostgreSQL in CI: 2–4 ms a statement).
 */
async function untilDrained(stack: Stack, clock: ManualClock, maxMs: number, realMaxMs = 120_000): Promise<number> {
  const from = clock.now();
  const realDeadline = Date.now() + realMaxMs;
  while ((await stack.store.inbox.countByStatus()).pending > 0 || await stack.store.inbox.journalBacklog() > 0) {
    const late = clock.now() - from > maxMs || Date.now() > realDeadline;
    if (late) throw new Error(`the inbox did not drain within ${maxMs} ms of the service's clock (${realMaxMs} ms real): ${JSON.stringify(await stack.store.inbox.countByStatus())}`);
    if (stack.background.inbox.applying().size === 0) clock.advance(1_000);
    await sleep(20);
  }
  return clock.now() - from;
}

describe('a long HubSpot outage', () => {
  let stack: Stack | undefined;
  afterEach(async () => {
    await stack?.stop();
    stack = undefined;
  });

  it('a 10-minute outage under load ends with every gated move reverted once', async () => {
    const clock = new ManualClock();
    stack = await outageStack(clock);
    const s = stack;
    const outageMs = 10 * 60_000;
    const outageEnd = clock.now() + outageMs;
    failUntil(s, clock, outageEnd);

    // 100 gated deals won as the outage starts, then 20 more and 10 that need no review every minute of it.
    const gated = seedDeals(s, 100, 0, '80000');
    const allowed: string[] = [];
    s.sim.moveDealsToStage(gated, 'closedwon', { userId: REP });
    let minute = 0;
    let parkedDuring = 0;
    // Stopped one step before the end: from the end on HubSpot answers, and a probe may resume the
    // account before the checks below run.
    await runClock(clock, outageMs - 5_000, 5_000, async () => {
      parkedDuring = Math.max(parkedDuring, (await s.store.inbox.countByStatus()).parked);
      if (clock.now() >= outageEnd || clock.now() < outageEnd - outageMs + (minute + 1) * 60_000) return;
      minute += 1;
      const more = seedDeals(s, 20, 100 + minute * 100, '80000');
      const small = seedDeals(s, 10, 100 + minute * 100 + 50, '20000');
      gated.push(...more);
      allowed.push(...small);
      s.sim.moveDealsToStage([...more, ...small], 'closedwon', { userId: REP });
    });
    await s.sim.webhooks.idle(10_000);
    await untilStored(s, gated.length + allowed.length);

    // The outage is nearly over on the service's clock; nothing was given up, nothing was reverted yet.
    const during = s.sim.requests.all().filter((r) => r.status === 503);
    const counts = await s.store.inbox.countByStatus();
    expect(parkedDuring).toBe(0);
    expect(counts.parked).toBe(0);
    expect(counts.pending).toBe(gated.length + allowed.length);
    // No attempt spent; those tried say they wait for HubSpot (the last minute's may not be tried yet).
    const waiting = await s.store.inbox.list({ status: 'pending', limit: 500 });
    expect(waiting.every((e) => e.attempts === 0 && (e.lastError === null || /^waiting for HubSpot/.test(e.lastError)))).toBe(true);
    expect(waiting.filter((e) => /^waiting for HubSpot/.test(e.lastError ?? '')).length).toBeGreaterThanOrEqual(100);
    expect(gated.every((id) => s.sim.getDeal(id)?.properties.dealstage === 'closedwon')).toBe(true);
    // Probes, not a storm: about one read per probe, probes at most a minute apart.
    expect(during.every((r) => r.endpoint === READS)).toBe(true);
    expect(during.length).toBeLessThan(40);
    expect(s.background.inbox.outages()).toEqual([expect.objectContaining({ portalId: s.sim.portalId })]);

    // HubSpot answers again: the next probe resumes the account by itself, no one requeues anything.
    const resumedAfterMs = await untilResumed(s, clock, 5 * 60_000);
    expect(resumedAfterMs).toBeLessThanOrEqual(PROBE_MAX_MS + 5_000);
    await untilDrained(s, clock, 5 * 60_000);
    await s.settle({ timeoutMs: 60_000 });

    await expectRevertedOnce(s, gated);
    expectUntouched(s, allowed);
    expect((await s.store.inbox.countByStatus()).parked).toBe(0);
    expect((await s.store.outbox.countByStatus()).failed).toBe(0);
    expect(s.background.inbox.outages()).toEqual([]);
    reportCounts('outage-10-minutes', {
      gatedDeals: gated.length,
      allowedDeals: allowed.length,
      failedCallsDuringOutage: during.length,
      resumedSecondsAfterOutage: Math.round(resumedAfterMs / 1000),
    });
  });

  it('a 25-hour outage (longer than HubSpot retries a webhook) parks nothing; the events resume when HubSpot answers', async () => {
    const clock = new ManualClock();
    stack = await outageStack(clock);
    const s = stack;
    const outageMs = 25 * 60 * 60_000;
    failUntil(s, clock, clock.now() + outageMs);
    const gated = seedDeals(s, 30, 0, '80000');
    s.sim.moveDealsToStage(gated, 'closedwon', { userId: REP });
    await s.sim.webhooks.idle(10_000);
    await untilStored(s, gated.length);
    let parkedDuring = 0;
    // Up to the last 20 minutes of the outage: still down, still waiting.
    await runClock(clock, outageMs - 20 * 60_000, 20 * 60_000, async () => {
      parkedDuring = Math.max(parkedDuring, (await s.store.inbox.countByStatus()).parked);
    });
    expect(parkedDuring).toBe(0);
    expect(await s.store.inbox.countByStatus()).toEqual(expect.objectContaining({ pending: gated.length, parked: 0 }));
    clock.advance(20 * 60_000);

    await untilDrained(s, clock, 5 * 60_000);
    await s.settle({ timeoutMs: 60_000 });
    await expectRevertedOnce(s, gated);
    expect((await s.store.outbox.countByStatus()).failed).toBe(0);
    reportCounts('outage-25-hours', { gatedDeals: gated.length, failedCalls: s.sim.requests.all().filter((r) => r.status === 503).length });
  });

  it('an outage longer than the retry window parks the events, saying so, and a requeue applies each once', async () => {
    const clock = new ManualClock();
    stack = await outageStack(clock);
    const s = stack;
    const outageMs = INBOX_RETRY_WINDOW_MS + 60 * 60_000;
    failUntil(s, clock, clock.now() + outageMs);
    const gated = seedDeals(s, 10, 0, '80000');
    s.sim.moveDealsToStage(gated, 'closedwon', { userId: REP });
    await s.sim.webhooks.idle(10_000);
    await sleep(100);
    await runClock(clock, INBOX_RETRY_WINDOW_MS - 60 * 60_000, 2 * 60 * 60_000);
    expect((await s.store.inbox.countByStatus()).parked).toBe(0);
    await runClock(clock, outageMs - (INBOX_RETRY_WINDOW_MS - 60 * 60_000), 10 * 60_000);

    const parked = await s.ops<{ events: { id: number; attempts: number; lastError: string }[] }>('/ops/inbox?status=parked');
    expect(parked.json.events).toHaveLength(gated.length);
    for (const event of parked.json.events) {
      expect(event.attempts).toBe(0);
      expect(event.lastError).toMatch(/^parked after retrying for 7\d(\.\d)? h since it was acknowledged \(the retry window is 72 h\): .*503/s);
    }
    for (const event of parked.json.events) expect((await s.ops(`/ops/inbox/${event.id}/retry`, 'POST')).status).toBe(200);
    s.background.inbox.wake();
    await untilDrained(s, clock, 5 * 60_000);
    await s.settle({ timeoutMs: 60_000 });
    await expectRevertedOnce(s, gated);
  });

  it('HubSpot unreachable for 10 minutes (every call hangs past the timeout): nothing parked, every gated move reverted once', async () => {
    const clock = new ManualClock();
    stack = await outageStack(clock, 200);
    const s = stack;
    const outageMs = 10 * 60_000;
    const end = clock.now() + outageMs;
    // Held until the simulator stops: only Dealgate's own timeout answers these calls.
    s.sim.faults.hangNext(Number.MAX_SAFE_INTEGER, { match: () => clock.now() < end });
    const gated = seedDeals(s, 60, 0, '80000');
    s.sim.moveDealsToStage(gated, 'closedwon', { userId: REP });
    await s.sim.webhooks.idle(10_000);
    await untilStored(s, gated.length);
    let parkedDuring = 0;
    // Real time enough per step for a probe to time out (200 ms). Stopped one step before the end:
    // from the end on HubSpot answers, and the worker may resume before the checks below run.
    await runClock(clock, outageMs - 15_000, 15_000, async () => {
      parkedDuring = Math.max(parkedDuring, (await s.store.inbox.countByStatus()).parked);
    }, 60);
    expect(parkedDuring).toBe(0);
    expect((await s.store.inbox.countByStatus()).pending).toBe(gated.length);
    expect((await s.store.inbox.list({ status: 'pending', limit: 100 })).every((e) => e.attempts === 0 && /^waiting for HubSpot.*did not answer within 200 ms/s.test(e.lastError ?? ''))).toBe(true);
    await untilDrained(s, clock, 5 * 60_000);
    await s.settle({ timeoutMs: 60_000 });
    await expectRevertedOnce(s, gated);
    expect((await s.store.inbox.countByStatus()).parked).toBe(0);
    expect((await s.store.outbox.countByStatus()).failed).toBe(0);
  });

  it('a restart in the middle of an outage: the new process probes again and parks nothing; every gated move reverted once', async () => {
    const clock = new ManualClock();
    stack = await outageStack(clock);
    const s = stack;
    const outageMs = 10 * 60_000;
    failUntil(s, clock, clock.now() + outageMs);
    const gated = seedDeals(s, 40, 0, '80000');
    s.sim.moveDealsToStage(gated, 'closedwon', { userId: REP });
    await s.sim.webhooks.idle(10_000);
    await untilStored(s, gated.length);
    await runClock(clock, outageMs / 2, 10_000);
    // The outage as this process saw it is in memory only; the events' waiting is in the database.
    await s.restart();
    expect(s.background.inbox.outages()).toEqual([]);
    await runClock(clock, outageMs / 2 - 10_000, 10_000);
    expect(await s.store.inbox.countByStatus()).toEqual(expect.objectContaining({ pending: gated.length, parked: 0 }));
    expect(s.background.inbox.outages()).toEqual([expect.objectContaining({ portalId: s.sim.portalId })]);
    await untilDrained(s, clock, 5 * 60_000);
    await s.settle({ timeoutMs: 60_000 });
    await expectRevertedOnce(s, gated);
    expect((await s.store.inbox.countByStatus()).parked).toBe(0);
  });
});
