import Database from 'better-sqlite3';
import { GATE_STAGE, PAST_GATE, REP, startWorld, until, type World } from '../../bench/lib/world';
import { reportCounts, SEED, seededRandom } from './counts';

/**
 * Crash: the service (src/server/main.ts, its own process) is killed with SIGKILL at random
 * moments, 20 times, while users keep moving deals past the gate, and started again on the same
 * database. HubSpot (the simulator) redelivers whatever was not acknowledged. Afterwards every
 * acknowledged move past the gate has had its effects exactly once: one revert, one note on the
 * deal, one recorded violation; deals that may move were never touched.
 */
const KILLS = Number(process.env.RELIABILITY_KILLS ?? 20);
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

describe('crash: SIGKILL under webhook load', () => {
  let world: World;

  afterAll(async () => {
    await world?.stop();
  });

  it(`after ${KILLS} kills every acknowledged move past the gate was reverted, noted and recorded exactly once`, async () => {
    const random = seededRandom(SEED);
    const pick = <T>(items: T[]): T => items[Math.floor(random() * items.length)] as T;
    world = await startWorld({ name: 'crash' });
    const { sim } = world;
    await world.startService();

    const gated = Array.from({ length: 150 }, () => world.seedGatedDeal(GATE_STAGE));
    // Under the threshold: these may move freely.
    const free = Array.from({ length: 30 }, () => world.seedGatedDeal(GATE_STAGE, { amount: '1000' }));
    const moves = new Map<string, number>();
    const ownReverts = (id: string) => sim.dealHistory(id, 'dealstage').filter((h) => h.sourceType === 'INTEGRATION' && h.value === GATE_STAGE).length;
    const stageOf = (id: string) => sim.getDeal(id)?.properties.dealstage;

    let moving = true;
    let userMoves = 0;
    let freeMoves = 0;
    const mover = (async () => {
      while (moving) {
        for (let k = 0; k < 3; k++) {
          const id = pick(gated);
          // A user moves a deal again only once Dealgate has put it back.
          if (stageOf(id) === GATE_STAGE && ownReverts(id) === (moves.get(id) ?? 0)) {
            sim.moveDealToStage(id, PAST_GATE, { userId: REP.userId });
            moves.set(id, (moves.get(id) ?? 0) + 1);
            userMoves += 1;
          }
        }
        const f = pick(free);
        sim.moveDealToStage(f, stageOf(f) === GATE_STAGE ? PAST_GATE : GATE_STAGE, { userId: REP.userId });
        freeMoves += 1;
        await sleep(40);
      }
    })();

    const downtimes: number[] = [];
    for (let kill = 0; kill < KILLS; kill++) {
      await sleep(300 + random() * 1_700);
      await world.killService();
      const down = Date.now();
      await sleep(random() * 300);
      await world.startService();
      downtimes.push(Date.now() - down);
    }
    await sleep(1_000);
    moving = false;
    await mover;

    // Quiet again: every move reverted and noted (HubSpot redelivers for up to ~14 s with these settings).
    await until(
      () => gated.every((id) => ownReverts(id) === (moves.get(id) ?? 0) && sim.notesForDeal(id).length >= (moves.get(id) ?? 0)),
      120_000,
      'every move reverted and noted',
      100,
    );
    await sim.webhooks.idle(60_000);
    // Long enough for a late duplicate (a retried outbox row, a redelivered batch) to show up.
    await sleep(3_000);
    await world.stopService();

    // Which moves HubSpot saw acknowledged (a 2xx to some delivery attempt of its event).
    const deliveries = sim.webhooks.deliveries();
    const acked = new Set<number>();
    for (const d of deliveries) if (d.status !== undefined && d.status >= 200 && d.status < 300) for (const e of d.events) acked.add(e.eventId);
    const stageEvents = sim.webhooks.events().filter((e) => e.propertyName === 'dealstage' && e.propertyValue === PAST_GATE && e.changeSource !== 'INTEGRATION');
    const gatedSet = new Set(gated);
    const gatedMoveEvents = stageEvents.filter((e) => gatedSet.has(String(e.objectId)));
    const unacknowledged = gatedMoveEvents.filter((e) => !acked.has(e.eventId));

    const db = new Database(world.dbPath, { readonly: true });
    const violations = new Map(
      (db.prepare('SELECT deal_id AS id, COUNT(*) AS n FROM gate_violations GROUP BY deal_id').all() as { id: string; n: number }[]).map((r) => [r.id, r.n]),
    );
    db.close();

    const problems: string[] = [];
    let notes = 0;
    let reverts = 0;
    for (const id of gated) {
      const expected = moves.get(id) ?? 0;
      const unacked = unacknowledged.filter((e) => String(e.objectId) === id).length;
      const n = sim.notesForDeal(id).length;
      const r = ownReverts(id);
      const v = violations.get(id) ?? 0;
      notes += n;
      reverts += r;
      // Acknowledged moves: exactly once. Unacknowledged ones may go either way, never twice.
      const ok = (x: number) => x >= expected - unacked && x <= expected;
      if (!ok(n) || !ok(r) || !ok(v) || stageOf(id) !== GATE_STAGE) {
        problems.push(`deal ${id}: ${expected} moves (${unacked} unacknowledged), ${r} reverts, ${n} notes, ${v} violations, now in ${stageOf(id)}`);
      }
    }
    for (const id of free) {
      if (ownReverts(id) !== 0 || sim.notesForDeal(id).length !== 0 || violations.has(id)) problems.push(`free deal ${id} was touched`);
    }
    const failedAttempts = deliveries.filter((d) => d.status === undefined || d.status < 200 || d.status >= 300).length;
    reportCounts('crash', {
      seed: SEED,
      kills: KILLS,
      medianDowntimeMs: downtimes.sort((a, b) => a - b)[Math.floor(downtimes.length / 2)],
      gatedMoves: userMoves,
      freeMoves,
      webhookEvents: sim.webhooks.events().length,
      deliveryAttempts: deliveries.length,
      failedDeliveryAttempts: failedAttempts,
      unacknowledgedMoves: unacknowledged.length,
      reverts,
      notes,
      violations: [...violations.values()].reduce((a, b) => a + b, 0),
      lost: problems.filter((p) => /moves/.test(p)).length,
      problems: problems.length,
    });
    expect(userMoves).toBeGreaterThan(100);
    expect(failedAttempts).toBeGreaterThan(0); // the kills really hit deliveries
    expect(problems).toEqual([]);
    expect(notes).toBeGreaterThanOrEqual(userMoves - unacknowledged.length);
    expect(notes).toBeLessThanOrEqual(userMoves);
  });
});
