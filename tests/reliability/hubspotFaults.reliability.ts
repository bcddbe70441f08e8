import type { LoggedRequest } from '../../src/simulator';
import { startStack, type Stack, type StackOptions } from '../support/stack';
import { reportCounts } from './counts';

/**
 * HubSpot misbehaving while Dealgate enforces the gate: 5xx storms, 429 storms (injected, and the
 * real rolling limit), slow answers, and calls that hang past the workers' timeout after HubSpot
 * has in fact done the work. Each effect (the revert, the note, the violation, the status) lands
 * exactly once, or (refused with a 4xx) is recorded failed for ops; after a 429 nothing is sent to HubSpot before the
 * pause is over, and the simulator's request log shows HubSpot's 10-second limit never exceeded.
 */
const REP = 1001;
const REVIEWER = '1002';
const ADMIN = '1003';

const RETRY = { baseMs: 20, maxMs: 400, maxAttempts: 12 };

/** HubSpot's real limit for OAuth apps: requests per rolling 10 s per app and account. */
const HUBSPOT_LIMIT = 110;
const WINDOW_MS = 10_000;

async function stackWith(options: StackOptions = {}): Promise<Stack> {
  const stack = await startStack({
    defaults: { valueThreshold: 50_000, reviewers: [REVIEWER], admins: [ADMIN] },
    ...options,
    background: { inboxRetry: RETRY, outboxRetry: RETRY, ...options.background },
  });
  try {
    await stack.provision();
  } catch (error) {
    await stack.stop();
    throw error;
  }
  return stack;
}

function seedGated(stack: Stack, n: number): string[] {
  return Array.from(
    { length: n },
    (_, i) =>
      stack.sim.seedDeal({
        properties: {
          dealname: `Fault deal ${i}`,
          dealstage: 'contractsent',
          pipeline: 'default',
          amount: '80000',
          dealgate_commitment: 'true',
          dealgate_commitment_summary: 'Custom SSO',
          dealgate_effort_weeks: '3',
        },
      }).id,
  );
}

const ownReverts = (stack: Stack, id: string) => stack.sim.dealHistory(id, 'dealstage').filter((h) => h.sourceType === 'INTEGRATION' && h.value === 'contractsent').length;

/** Every deal reverted once, one note, one violation, its status in HubSpot; nothing failed or parked. */
async function expectExactlyOnce(stack: Stack, ids: string[]): Promise<void> {
  const found = [];
  for (const id of ids) {
    found.push({
      id,
      stage: stack.sim.getDeal(id)?.properties.dealstage,
      reverts: ownReverts(stack, id),
      notes: stack.sim.notesForDeal(id).length,
      violations: (await stack.store.gateViolations.listForDeal(stack.sim.portalId, id)).length,
      // A property value, so writing it again is harmless: what matters is that it landed.
      status: stack.sim.getDeal(id)?.properties.dealgate_status,
    });
  }
  const wrong = found.filter((d) => d.stage !== 'contractsent' || d.reverts !== 1 || d.notes !== 1 || d.violations !== 1 || d.status !== 'required');
  expect(wrong).toEqual([]);
  expect((await stack.store.outbox.countByStatus()).failed).toBe(0);
  expect((await stack.store.inbox.countByStatus()).parked).toBe(0);
}

/**
 * The most requests that started within any rolling window of `windowMs` (HubSpot counts a request
 * when it arrives). `accepted` counts only those HubSpot let through (429s do not use the allowance).
 */
function busiestWindow(log: LoggedRequest[], windowMs: number, accepted: boolean): number {
  const times = log.filter((r) => !accepted || r.status !== 429).map((r) => r.at).sort((a, b) => a - b);
  let most = 0;
  let first = 0;
  for (let last = 0; last < times.length; last++) {
    while ((times[last] as number) - (times[first] as number) >= windowMs) first += 1;
    most = Math.max(most, last - first + 1);
  }
  return most;
}

/**
 * How long after HubSpot answered a 429 a request may still reach it without having been sent
 * during the pause. The service learns of the 429 only once it has read the answer, and a request
 * past its last check by then (its permit taken and the pause looked at again, permitOutsidePause,
 * then on its way through the HubSpot client) still arrives: on a loaded machine that took more
 * than 5 ms once (a CI run of 2026-12-01: a deal update whose claim check, a transaction, ran
 * between its permit and its request; it now looks at the pause again after that check). A service
 * ignoring the pause keeps sending through the rest of it (250 ms of the storm case's 300, 950 of
 * the rolling limit's 1,000), which this still catches; a request that slips in within the first
 * 50 ms is not caught here (permitOutsidePause.test.ts pins the look after the grant).
 */
const ON_ITS_WAY_MS = 50;

/** Requests that reached HubSpot after a 429 had been answered (and ON_ITS_WAY_MS more) and before `pauseMs` had passed. */
function sentDuringPause(log: LoggedRequest[], pauseMs: number): LoggedRequest[] {
  const tooSoon: LoggedRequest[] = [];
  for (const limited of log.filter((r) => r.status === 429)) {
    const answeredAt = limited.at + limited.durationMs;
    for (const r of log) if (r.at > answeredAt + ON_ITS_WAY_MS && r.at < answeredAt + pauseMs - 5) tooSoon.push(r);
  }
  return tooSoon;
}

describe('HubSpot faults during enforcement', () => {
  let stack: Stack | undefined;
  afterEach(async () => {
    await stack?.stop();
    stack = undefined;
  });

  it('a 5xx storm: every revert, note and violation lands exactly once', async () => {
    stack = await stackWith();
    const ids = seedGated(stack, 60);
    stack.sim.faults.failNext(12, { status: 503 });
    stack.sim.faults.failNext(6, { status: 500, match: 'POST /crm/v3/objects/notes' });
    stack.sim.moveDealsToStage(ids, 'closedwon', { userId: REP });
    await stack.settle({ timeoutMs: 60_000 });
    await expectExactlyOnce(stack, ids);
    const failed = stack.sim.requests.all().filter((r) => r.status >= 500).length;
    expect(failed).toBe(18);
    expect(busiestWindow(stack.sim.requests.all(), WINDOW_MS, false)).toBeLessThanOrEqual(HUBSPOT_LIMIT);
    reportCounts('faults-5xx', { deals: ids.length, injected5xx: failed, calls: stack.sim.requests.count() });
  });

  it('a 429 storm: effects land once, and nothing is sent during the pause that follows each 429', async () => {
    const pauseMs = 300;
    stack = await stackWith({ background: { rate: { requestsPerWindow: 90, windowMs: 10_000, minPauseMs: pauseMs, maxPauseMs: 2_000 } } });
    const ids = seedGated(stack, 60);
    stack.sim.requests.reset();
    stack.sim.faults.failNext(8, { status: 429 });
    stack.sim.moveDealsToStage(ids, 'closedwon', { userId: REP });
    await stack.settle({ timeoutMs: 60_000 });
    await expectExactlyOnce(stack, ids);
    const log = stack.sim.requests.all();
    expect(log.filter((r) => r.status === 429)).toHaveLength(8);
    expect(sentDuringPause(log, pauseMs)).toEqual([]);
    expect(busiestWindow(log, WINDOW_MS, false)).toBeLessThanOrEqual(HUBSPOT_LIMIT);
    reportCounts('faults-429-injected', { deals: ids.length, injected429: 8, calls: log.length });
  });

  it("HubSpot's real rolling limit (8 per 10 s here): all effects land, 429s are answered with pauses, the limit is never exceeded", async () => {
    const pauseMs = 1_000;
    const limit = 8;
    stack = await stackWith({ background: { rate: { requestsPerWindow: 90, windowMs: WINDOW_MS, minPauseMs: pauseMs, maxPauseMs: 10_000 } } });
    // Provisioning (properties, pipelines) ran at HubSpot's usual 110; the tight limit starts with a fresh window.
    stack.sim.setRateLimit(limit);
    await new Promise((r) => setTimeout(r, WINDOW_MS + 100));
    const ids = seedGated(stack, 250);
    stack.sim.requests.reset();
    stack.sim.moveDealsToStage(ids, 'closedwon', { userId: REP });
    await stack.settle({ timeoutMs: 180_000 });
    await expectExactlyOnce(stack, ids);
    const log = stack.sim.requests.all();
    const limited = log.filter((r) => r.status === 429).length;
    expect(sentDuringPause(log, pauseMs)).toEqual([]);
    // What HubSpot let through never exceeds its limit in any 10 s window.
    expect(busiestWindow(log, WINDOW_MS, true)).toBeLessThanOrEqual(limit);
    reportCounts('faults-429-real-limit', {
      deals: ids.length,
      limitPer10s: limit,
      calls: log.length,
      rateLimited429: limited,
      busiestWindowAccepted: busiestWindow(log, WINDOW_MS, true),
      seconds: Math.round((log[log.length - 1]!.at - log[0]!.at) / 1000),
    });
  });

  it('a bulk move of 1,000 gated deals at the real limit (110 per 10 s): Dealgate never reaches it, so HubSpot never answers 429', async () => {
    stack = await stackWith({ background: { rate: { requestsPerWindow: 90, windowMs: WINDOW_MS, minPauseMs: 1_000, maxPauseMs: 10_000 } } });
    await new Promise((r) => setTimeout(r, WINDOW_MS + 100));
    const ids = seedGated(stack, 1_000);
    stack.sim.requests.reset();
    stack.sim.moveDealsToStage(ids, 'closedwon', { userId: REP });
    await stack.settle({ timeoutMs: 120_000 });
    await expectExactlyOnce(stack, ids);
    const log = stack.sim.requests.all();
    expect(log.filter((r) => r.status === 429)).toEqual([]);
    // Every request Dealgate sent, accepted or not, fits in HubSpot's allowance for any 10 s window.
    expect(busiestWindow(log, WINDOW_MS, false)).toBeLessThanOrEqual(HUBSPOT_LIMIT);
    reportCounts('faults-real-limit-bulk', { deals: ids.length, calls: log.length, busiestWindow: busiestWindow(log, WINDOW_MS, false), rateLimited429: 0 });
  });

  it('slow answers (250 ms each): every effect lands once', async () => {
    stack = await stackWith();
    const ids = seedGated(stack, 40);
    stack.sim.faults.latency(250);
    stack.sim.moveDealsToStage(ids, 'closedwon', { userId: REP });
    await stack.settle({ timeoutMs: 60_000 });
    stack.sim.faults.latency(0);
    await expectExactlyOnce(stack, ids);
    reportCounts('faults-slow', { deals: ids.length, latencyMs: 250, calls: stack.sim.requests.count() });
  });

  it('writes that hang past the timeout although HubSpot did them: no duplicate notes, no duplicate reverts', async () => {
    stack = await stackWith({ background: { callTimeoutMs: 300 } });
    const ids = seedGated(stack, 40);
    // HubSpot holds the answer for 1.5 s, then does the work: Dealgate gave up at 300 ms and does not know.
    stack.sim.faults.hangNext(2, { ms: 1_500, match: 'POST /crm/v3/objects/notes' });
    stack.sim.faults.hangNext(1, { ms: 1_500, match: 'POST /crm/v3/objects/deals/batch/update' });
    stack.sim.moveDealsToStage(ids, 'closedwon', { userId: REP });
    await stack.settle({ timeoutMs: 60_000 });
    await new Promise((r) => setTimeout(r, 2_000));
    await stack.settle({ timeoutMs: 30_000 });
    await expectExactlyOnce(stack, ids);
    reportCounts('faults-hang', { deals: ids.length, noteCreates: stack.sim.requests.count(/notes/), updates: stack.sim.requests.count(/deals\/batch\/update|PATCH/) });
  });

  it('a read that hangs does not stall enforcement for good', async () => {
    stack = await stackWith({ background: { callTimeoutMs: 300 } });
    const ids = seedGated(stack, 10);
    // Held until the simulator stops: only the workers' own timeout gets enforcement going again.
    stack.sim.faults.hangNext(1, { match: 'POST /crm/v3/objects/deals/batch/read' });
    stack.sim.moveDealsToStage(ids, 'closedwon', { userId: REP });
    await stack.settle({ timeoutMs: 20_000 });
    await expectExactlyOnce(stack, ids);
    reportCounts('faults-read-hang', { deals: ids.length, hungReads: 1, callTimeoutMs: 300, calls: stack.sim.requests.count() });
  });

  it('notes HubSpot keeps refusing (400): the reverts land once and the notes are recorded failed for ops, with the reason', async () => {
    // A 5xx is an outage (retried for the 72 h window, tests/enforcement/outboxOutage.test.ts); a 400 is given up at once.
    stack = await stackWith({ background: { outboxRetry: { baseMs: 10, maxMs: 50, maxAttempts: 3 } } });
    const ids = seedGated(stack, 20);
    stack.sim.faults.failNext(1_000, { status: 400, match: 'POST /crm/v3/objects/notes' });
    stack.sim.moveDealsToStage(ids, 'closedwon', { userId: REP });
    await stack.settle({ timeoutMs: 30_000 });
    for (const id of ids) {
      expect(stack.sim.getDeal(id)?.properties.dealstage).toBe('contractsent');
      expect(ownReverts(stack, id)).toBe(1);
      expect(stack.sim.notesForDeal(id)).toHaveLength(0);
    }
    const failed = await stack.ops<{ rows: { kind: string; status: string; lastError: string | null }[] }>('/ops/outbox?status=failed');
    expect(failed.status).toBe(200);
    expect(failed.json.rows.length).toBeGreaterThan(0);
    expect(failed.json.rows.every((r) => r.status === 'failed' && (r.lastError ?? '').startsWith('given up, retrying cannot cure it: HubSpot 400'))).toBe(true);
    reportCounts('faults-notes-refused', { deals: ids.length, notes400: stack.sim.requests.all().filter((r) => r.status === 400).length, failedRows: failed.json.rows.length });
  });
});
