import { createWorkerLoop } from '../../src/server/workers/workerLoop';
import { silentLogger } from '../../src/server/logger';

describe('createWorkerLoop', () => {
  it('lets I/O in between rounds that find work, even when a round never waits on anything', async () => {
    let rounds = 0;
    let roundsWhenTimerRan: number | undefined;
    const loop = createWorkerLoop({
      name: 'busy',
      logger: silentLogger(),
      idleMs: 10,
      // Work for 500 rounds, each finished without a real wait (a round with nothing to ask HubSpot).
      round: async () => (++rounds <= 500 ? 1 : 0),
    });
    setTimeout(() => {
      roundsWhenTimerRan = rounds;
    }, 0);
    loop.start();
    await new Promise((resolve) => setTimeout(resolve, 50));
    await loop.stop();
    expect(rounds).toBeGreaterThan(500);
    // The timer (standing in for a request) ran long before the backlog was done.
    expect(roundsWhenTimerRan).toBeLessThan(10);
  });

  it('sleeps when a round finds nothing, and wakes for new work', async () => {
    let rounds = 0;
    const loop = createWorkerLoop({ name: 'idle', logger: silentLogger(), idleMs: 60_000, round: async () => (rounds++, 0) });
    loop.start();
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(rounds).toBe(1);
    loop.wake();
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(rounds).toBe(2);
    await loop.stop();
  });
});
