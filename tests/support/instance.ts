import { createPostgresStore } from '../../src/server/storage/postgresStore';
import type { Store } from '../../src/server/storage/store';
import type { Config } from '../../src/server/config/config';
import { silentLogger } from '../../src/server/shared/logger';
import type { Background, BackgroundOptions } from '../../src/server/workers/background';
import { createService } from '../../src/server/service';
import { listen } from './env';
import { FAST_BACKGROUND, type Stack } from './stack';

/**
 * Another instance of the service beside a stack's: its own process state (workers, caches,
 * leases held, HTTP app on a port of its own), the stack's database and simulator, and its own
 * DEALGATE_INSTANCE_ID. HubSpot's webhooks still go to the stack's instance; card requests can go
 * to either (sign them for the stack's public URL: both instances sit behind it).
 */
export interface Instance {
  readonly config: Config;
  readonly store: Store;
  readonly background: Background;
  /** The instance's own base URL (not the public one). */
  readonly url: string;
  /** A clean stop (SIGTERM): the workers finish their round and release their leases. */
  stop(): Promise<void>;
  /**
   * A death (SIGKILL): the database goes away under the workers first, so nothing they hold is
   * released and their leases stay until they expire.
   */
  kill(): Promise<void>;
}

export interface InstanceOptions {
  instanceId: string;
  background?: BackgroundOptions;
  startWorkers?: boolean;
}

/**
 * The instance's store on the stack's database, and the way to take it away. PostgreSQL: a pool of
 * its own, as another process has. SQLite: the stack's own connection, shared (a second connection
 * in one process would wait for the first one's open transaction while blocking the event loop
 * that transaction needs; SQLite serves one process, and several instances run on PostgreSQL).
 * After `kill` every use of it throws, as the store of a dead process is gone.
 */
async function storeOnStackDatabase(stack: Stack, config: Config, instanceId: string): Promise<{ store: Store; kill(): Promise<void> }> {
  const own = config.databaseUrl !== undefined ? await createPostgresStore(config.databaseUrl, { maxConnections: 5 }) : undefined;
  let dead = false;
  const store = new Proxy({} as Store, {
    get(_target, property) {
      if (dead) throw new Error(`instance ${instanceId} is dead: its store is gone`);
      const target = own ?? stack.store;
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
  return {
    store,
    async kill() {
      dead = true;
      await own?.close();
    },
  };
}

export async function startInstance(stack: Stack, options: InstanceOptions): Promise<Instance> {
  const config: Config = { ...stack.config, instanceId: options.instanceId };
  const logger = silentLogger();
  const database = await storeOnStackDatabase(stack, config, options.instanceId);
  const store = database.store;
  const service = await createService(config, { store, clock: stack.clock, logger, options: { ...FAST_BACKGROUND, ...options.background } });
  const { background } = service;
  const server = await listen(service.app);
  if (options.startWorkers !== false) service.start();
  let down = false;
  async function shutdown(crash: boolean): Promise<void> {
    if (down) return;
    down = true;
    await server.close();
    if (crash) {
      await Promise.all([database.kill(), background.stop()]);
      return;
    }
    await background.stop();
    await database.kill();
  }
  return { config, store, background, url: server.url, stop: () => shutdown(false), kill: () => shutdown(true) };
}

/** What a test started: its stack and the other instance beside it. */
export interface InstancesOfTest {
  stack?: Stack;
  other?: Instance;
}

/** Registers an afterEach that stops the test's other instance, then its stack; the test fills in what it starts. */
export function instancesPerTest(): InstancesOfTest {
  const running: InstancesOfTest = {};
  afterEach(async () => {
    await running.other?.stop();
    await running.stack?.stop();
    delete running.other;
    delete running.stack;
  });
  return running;
}
