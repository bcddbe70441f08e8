import { GATE_STAGE, PAST_GATE, REP } from '../../bench/lib/world';
import type { WebhookEvent } from '../../src/simulator';
import { startInstanceCluster, type Backlog, type ClusterAccount, type InstanceCluster } from '../support/instanceCluster';
import { reportCounts, SEED, seededRandom } from './counts';

/**
 * Several instances (issue 13): three service processes (src/server/main.ts) on one PostgreSQL
 * database behind a round-robin load balancer, two HubSpot accounts installed through OAuth, each
 * HubSpot (a simulator) at its real limit of 110 calls per 10 s and delivering webhooks to the
 * balancer, duplicates included. Users keep moving gated deals past the gate while a random
 * instance is SIGKILLed and started again, 20 times. Afterwards every acknowledged move past the
 * gate has had its effects exactly once across all instances (one revert, one note, one recorded
 * violation), deals under the threshold were never touched, and neither HubSpot ever answered 429:
 * the instances share each account's budget instead of spending it three times over.
 */
const KILLS = Number(process.env.RELIABILITY_KILLS ?? 20);
const INSTANCES = 3;
const ACCOUNTS = 2;
/**
 * Enough gated deals, moved fast enough, that the users ask for more than one account's HubSpot
 * budget can revert (a move costs a deal read, a share of a batch revert and of a batch note):
 * instances that each kept their own budget would spend it two or three times over.
 */
const GATED_PER_ACCOUNT = 150;
const GATED_MOVES_PER_TICK = 6;
const FREE_PER_ACCOUNT = 15;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
/** As in the crash suite: HubSpot's 10 retries over 24 h, compressed to about 2 min, still longer than the kill phase. */
const HUBSPOT_LIKE_RETRIES_MS = [100, 250, 500, 1_000, 2_000, 4_000, 8_000, 15_000, 30_000, 60_000];
/** Only a safety net: the test waits for HubSpot and the instances to settle, not for a time. */
const SETTLE_LIMIT_MS = 150_000;

interface Deals {
  account: ClusterAccount;
  gated: string[];
  free: string[];
  /** Moves past the gate made per gated deal. */
  moves: Map<string, number>;
}

const ownReverts = (account: ClusterAccount, id: string) =>
  account.sim.dealHistory(id, 'dealstage').filter((h) => h.sourceType === 'INTEGRATION' && h.value === GATE_STAGE).length;
const stageOf = (account: ClusterAccount, id: string) => account.sim.getDeal(id)?.properties.dealstage;

/** Users at work: a gated deal is moved past the gate again only once Dealgate has put it back; free deals go back and forth. */
function startUsers(deals: Deals[], random: () => number): { stop: () => Promise<{ gatedMoves: number; freeMoves: number }> } {
  const pick = <T>(items: T[]): T => items[Math.floor(random() * items.length)] as T;
  let moving = true;
  let gatedMoves = 0;
  let freeMoves = 0;
  const loop = (async () => {
    while (moving) {
      for (let k = 0; k < GATED_MOVES_PER_TICK; k++) {
        const { account, gated, moves } = pick(deals);
        const id = pick(gated);
        if (stageOf(account, id) === GATE_STAGE && ownReverts(account, id) === (moves.get(id) ?? 0)) {
          account.sim.moveDealToStage(id, PAST_GATE, { userId: REP.userId });
          moves.set(id, (moves.get(id) ?? 0) + 1);
          gatedMoves += 1;
        }
      }
      const { account, free } = pick(deals);
      const f = pick(free);
      account.sim.moveDealToStage(f, stageOf(account, f) === GATE_STAGE ? PAST_GATE : GATE_STAGE, { userId: REP.userId });
      freeMoves += 1;
      await sleep(40);
    }
  })();
  return {
    stop: async () => {
      moving = false;
      await loop;
      return { gatedMoves, freeMoves };
    },
  };
}

/**
 * Quiet again, judged by conditions (as in the crash suite): every HubSpot has delivered or given
 * up on every event, the shared database holds no journaled batch, pending inbox event or pending
 * outbox row, and no new event appeared meanwhile (reverts make events of their own).
 */
async function settle(cluster: InstanceCluster): Promise<number> {
  const from = Date.now();
  const by = from + SETTLE_LIMIT_MS;
  const generated = () => cluster.accounts.reduce((n, a) => n + a.sim.webhooks.events().length, 0);
  const allIdle = async () => {
    for (const a of cluster.accounts) await a.sim.webhooks.idle(Math.max(1, by - Date.now()));
  };
  let left: Backlog;
  for (;;) {
    await allIdle();
    const before = generated();
    left = await cluster.backlog();
    if (left.journal + left.inbox + left.outbox === 0 && generated() === before) {
      await allIdle();
      if (generated() === before) return Date.now() - from;
    }
    if (Date.now() > by) {
      throw new Error(`not settled after ${SETTLE_LIMIT_MS} ms: ${left.journal} journaled batches, ${left.inbox} pending inbox events, ${left.outbox} pending outbox rows:\n${left.rows.join('\n')}`);
    }
    await sleep(250);
  }
}

/** The gated moves (past the gate, by a user) of `deals` no delivery attempt got a 2xx for. */
function unacknowledgedMoves({ account, gated }: Deals): WebhookEvent[] {
  const acked = new Set<number>();
  for (const d of account.sim.webhooks.deliveries()) if (d.status !== undefined && d.status >= 200 && d.status < 300) for (const e of d.events) acked.add(e.eventId);
  const gatedSet = new Set(gated);
  return account.sim.webhooks
    .events()
    .filter((e) => e.propertyName === 'dealstage' && e.propertyValue === PAST_GATE && e.changeSource !== 'INTEGRATION' && gatedSet.has(String(e.objectId)) && !acked.has(e.eventId));
}

/** Per deal: acknowledged moves had their effects exactly once; unacknowledged ones may go either way, never twice. */
function problemsOf(deals: Deals, unacknowledged: WebhookEvent[], violations: Map<string, number>): string[] {
  const { account, gated, free, moves } = deals;
  const problems: string[] = [];
  for (const id of gated) {
    const expected = moves.get(id) ?? 0;
    const unacked = unacknowledged.filter((e) => String(e.objectId) === id).length;
    const notes = account.sim.notesForDeal(id).length;
    const reverts = ownReverts(account, id);
    const recorded = violations.get(`${account.portalId}/${id}`) ?? 0;
    const ok = (x: number) => x >= expected - unacked && x <= expected;
    if (!ok(notes) || !ok(reverts) || !ok(recorded) || stageOf(account, id) !== GATE_STAGE) {
      problems.push(`account ${account.portalId} deal ${id}: ${expected} moves (${unacked} unacknowledged), ${reverts} reverts, ${notes} notes, ${recorded} violations, now in ${stageOf(account, id)}`);
    }
  }
  for (const id of free) {
    if (ownReverts(account, id) !== 0 || account.sim.notesForDeal(id).length !== 0 || violations.has(`${account.portalId}/${id}`)) problems.push(`account ${account.portalId}: free deal ${id} was touched`);
  }
  return problems;
}

describe('several instances: three on one PostgreSQL, SIGKILL under webhook load', () => {
  let cluster: InstanceCluster | undefined;

  afterAll(async () => {
    await cluster?.stop();
  });

  it(`after ${KILLS} kills of a random instance every acknowledged move past the gate was reverted, noted and recorded exactly once, and HubSpot never answered 429`, async () => {
    const random = seededRandom(SEED);
    cluster = await startInstanceCluster({
      instances: INSTANCES,
      accounts: ACCOUNTS,
      // HubSpot retries what timed out or failed and sometimes delivers an event twice anyway.
      sim: { webhooks: { retryDelaysMs: HUBSPOT_LIKE_RETRIES_MS, duplicateRate: 0.1, seed: SEED } },
    });
    const c = cluster;
    const deals: Deals[] = c.accounts.map((account) => ({
      account,
      gated: Array.from({ length: GATED_PER_ACCOUNT }, () => account.seedGatedDeal(GATE_STAGE)),
      free: Array.from({ length: FREE_PER_ACCOUNT }, () => account.seedGatedDeal(GATE_STAGE, { amount: '1000' })),
      moves: new Map(),
    }));

    const users = startUsers(deals, random);
    const downtimes: number[] = [];
    const killed: string[] = [];
    for (let kill = 0; kill < KILLS; kill++) {
      await sleep(300 + random() * 1_700);
      const index = Math.floor(random() * INSTANCES);
      await c.instances.kill(index);
      const down = Date.now();
      killed.push(c.instances.instances[index]?.id ?? String(index));
      await sleep(random() * 300);
      await c.instances.start(index);
      downtimes.push(Date.now() - down);
    }
    await sleep(1_000);
    const { gatedMoves, freeMoves } = await users.stop();

    const settleMs = await settle(c);
    // Long enough for a late duplicate (a retried outbox row, a redelivered batch) to show up.
    await sleep(3_000);
    await c.instances.stopAll();

    const violations = await c.violationsByDeal();
    const unacknowledged = deals.map(unacknowledgedMoves);
    const problems = deals.flatMap((d, i) => problemsOf(d, unacknowledged[i] ?? [], violations));
    const tooMany = c.accounts.flatMap((a) => a.sim.requests.all().filter((r) => r.status === 429).map((r) => `account ${a.portalId}: 429 on ${r.method} ${r.endpoint}`));
    const traffic = c.balancer.stats();
    const deliveries = c.accounts.flatMap((a) => a.sim.webhooks.deliveries());
    const notes = deals.reduce((n, d) => n + d.gated.reduce((m, id) => m + d.account.sim.notesForDeal(id).length, 0), 0);
    const unackedCount = unacknowledged.reduce((n, u) => n + u.length, 0);
    reportCounts('multiInstance', {
      seed: SEED,
      instances: INSTANCES,
      accounts: ACCOUNTS,
      kills: KILLS,
      killed: Object.fromEntries(c.instances.instances.map((i) => [i.id, killed.filter((k) => k === i.id).length])),
      settleMs,
      medianDowntimeMs: downtimes.sort((a, b) => a - b)[Math.floor(downtimes.length / 2)],
      gatedMoves,
      freeMoves,
      webhookEvents: c.accounts.reduce((n, a) => n + a.sim.webhooks.events().length, 0),
      deliveryAttempts: deliveries.length,
      failedDeliveryAttempts: deliveries.filter((d) => d.status === undefined || d.status < 200 || d.status >= 300).length,
      balancer: traffic.map((t) => ({ answered: t.answered, refused: t.refused, lost: t.lost })),
      unacknowledgedMoves: unackedCount,
      notes,
      violations: [...violations.values()].reduce((a, b) => a + b, 0),
      hubspotCalls: c.accounts.map((a) => a.sim.requests.count()),
      answered429: Object.fromEntries([...new Set(tooMany)].map((line) => [line, tooMany.filter((l) => l === line).length])),
      problems: problems.length,
    });
    expect(gatedMoves).toBeGreaterThan(100);
    // Every instance served webhooks, and the kills really hit the balancer's traffic.
    for (const t of traffic) expect(t.answered['2xx'] ?? 0).toBeGreaterThan(0);
    expect(traffic.reduce((n, t) => n + t.refused + t.lost, 0)).toBeGreaterThan(0);
    // What each failing deal went through, at HubSpot and in the shared inbox (the first few).
    const failing = deals.flatMap((d) => d.gated.filter((id) => problems.some((p) => p.startsWith(`account ${d.account.portalId} deal ${id}:`))).map((id) => ({ d, id })));
    for (const { d, id } of failing.slice(0, 5)) {
      const stages = d.account.sim.dealHistory(id, 'dealstage').map((h) => `${h.value} by ${h.sourceType} at ${h.timestamp}`);
      process.stdout.write(`[multiInstance] account ${d.account.portalId} deal ${id}\n  stages as HubSpot lists them: ${stages.join('; ')}\n  ${(await c.inboxTrail(d.account.portalId, id)).join('\n  ')}\n`);
    }
    expect(problems).toEqual([]);
    expect(tooMany).toEqual([]);
    expect(notes).toBeGreaterThanOrEqual(gatedMoves - unackedCount);
    expect(notes).toBeLessThanOrEqual(gatedMoves);
  }, SETTLE_LIMIT_MS + 150_000);
});
