import { createWorkerLoop } from '../../src/server/workers/workerLoop';
import { silentLogger } from '../../src/server/shared/logger';

async function roundsReach(rounds: () => number, n: number): Promise<void> {
  for (const end = Date.now() + 20_000; rounds() < n && Date.now() < end; ) await new Promise((resolve) => setTimeout(resolve, 10));
}

describe('createWorkerLoop', () => {
  it('lets I/O in between rounds that find work, even when a round never waits on anything', async () => {
    let rounds = 0;
    const loop = createWorkerLoop({
      name: 'busy',
      logger: silentLogger(),
      idleMs: 10,
      // Work for 500 rounds, each finished without a real wait (a round with nothing to ask HubSpot).
      round: async () => (++rounds <= 500 ? 1 : 0),
    });
    // A macrotask on every turn of the event loop (standing in for requests waiting to be
    // answered) notes how many rounds ran since the previous turn.
    const roundsAtTurn: number[] = [rounds];
    let finished = false;
    const turn = () => {
      roundsAtTurn.push(rounds);
      if (!finished && rounds <= 500) setImmediate(turn);
    };
    setImmediate(turn);
    loop.start();
    // Waits for the work to run out (however slow the machine), never on a fixed time.
    const allDone = new Promise<void>((resolve) => {
      const check = () => (rounds > 500 || finished ? resolve() : setTimeout(check, 5));
      check();
    });
    const outOfTime = new Promise<void>((resolve) => setTimeout(resolve, 20_000).unref());
    await Promise.race([allDone, outOfTime]);
    finished = true;
    await loop.stop();
    expect(rounds).toBeGreaterThan(500);
    const perTurn = roundsAtTurn.slice(1).map((n, i) => n - (roundsAtTurn[i] ?? 0));
    // Without the yield, all 500 rounds ran before the first turn came.
    expect(Math.max(...perTurn)).toBeLessThanOrEqual(2);
  }, 60_000);

  it('sleeps when a round finds nothing, and wakes for new work', async () => {
    let rounds = 0;
    const loop = createWorkerLoop({ name: 'idle', logger: silentLogger(), idleMs: 60_000, round: async () => (rounds++, 0) });
    loop.start();
    try {
      // Each wait is for the round itself, up to 20 s of the clock (not 200 turns of a 10 ms timer).
      await roundsReach(() => rounds, 1);
      // Past the first round it sleeps (idle 60 s), so a while later there has still been one round.
      await new Promise((resolve) => setTimeout(resolve, 30));
      expect(rounds).toBe(1);
      loop.wake();
      await roundsReach(() => rounds, 2);
      expect(rounds).toBe(2);
    } finally {
      // Stopped even when an expectation failed: a loop left sleeping 60 s at a time keeps jest from exiting.
      await loop.stop();
    }
  }, 60_000);
});
