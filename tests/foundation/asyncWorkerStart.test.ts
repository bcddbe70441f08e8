import { ManualClock } from '../../src/server/shared/clock';
import { silentLogger } from '../../src/server/shared/logger';
import type { HubSpotGateway } from '../../src/server/hubspot/gateway';
import { createDb } from '../../src/server/storage/db';
import { createSqliteStore } from '../../src/server/storage/sqliteStore';
import type { Store } from '../../src/server/storage/store';
import { createOutboxWorker } from '../../src/server/workers/outboxWorker';
import { createRateGovernor } from '../../src/server/hubspot/rateGovernor';

/**
 * The outbox worker's start recovers the claims a previous process left (a database statement,
 * asynchronous since the store is) before its loop runs. A stop that comes meanwhile (a service
 * stopped right after it started, as the test stacks and a quick SIGTERM do) must leave it
 * stopped: the loop must not start afterwards, on a database that is closing or closed.
 */
describe('outbox worker start and stop', () => {
  const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

  function outboxOn(store: Store) {
    const clock = new ManualClock();
    return createOutboxWorker({
      store,
      gateway: {} as HubSpotGateway,
      clock,
      logger: silentLogger(),
      governor: createRateGovernor(clock),
      idleMs: 10,
    });
  }

  it('stays stopped when stop() comes before the recovery of old claims has finished', async () => {
    const store = createSqliteStore(createDb(':memory:'));
    const outbox = outboxOn(store);
    // A transaction holds the connection (another worker's), so the recovery waits for it.
    let release!: () => void;
    const held = store.transaction(async () => await new Promise<void>((resolve) => (release = resolve)));
    outbox.start();
    const stopping = outbox.stop();
    release();
    await held;
    await stopping;
    await sleep(50);
    try {
      expect(outbox.running).toBe(false);
    } finally {
      await outbox.stop();
      await store.close();
    }
  });

  it('does not answer start() with a rejection nobody handles when the recovery fails', async () => {
    const store = createSqliteStore(createDb(':memory:'));
    await store.close();
    const outbox = outboxOn(store);
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      outbox.start();
      await sleep(50);
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
      await outbox.stop();
    }
  });
});
