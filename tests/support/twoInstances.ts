import { join } from 'node:path';
import type { Store } from '../../src/server/storage/store';
import { tempDir } from './env';
import { testDatabase, testStoreEngine, type TestStoreEngine } from './testStore';

/**
 * Two instances of Dealgate on one database, in one jest process. On PostgreSQL each has a store
 * (a pool) of its own, as two processes would. SQLite has one owning process, so both share one
 * store there (a second connection to the file from the same thread would wait on the first's
 * lock synchronously): what differs between the instances is their instance id.
 */
export interface TwoInstances {
  engine: TestStoreEngine;
  a: Store;
  b: Store;
  close(): Promise<void>;
}

export async function twoInstances(engine: TestStoreEngine = testStoreEngine()): Promise<TwoInstances> {
  const dir = tempDir('dealgate-instances-');
  const database = await testDatabase(join(dir.path, 'db.sqlite'), engine);
  const a = await database.open();
  const b = database.engine === 'postgres' ? await database.open() : a;
  return {
    engine: database.engine,
    a,
    b,
    async close() {
      await a.close();
      if (b !== a) await b.close();
      await database.drop();
      dir.cleanup();
    },
  };
}

/** A promise the test resolves when it chooses: the point where an instance is held. */
export function gate(): { opened: Promise<void>; open: () => void } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}
