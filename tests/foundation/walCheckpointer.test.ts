import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { createDb, type Db } from '../../src/server/storage/db';
import { startWalCheckpointer } from '../../src/server/storage/walCheckpointer';
import { tempDir } from '../support/env';

/** Checkpoints in a worker thread: the WAL reaches the database file without the writer copying it. */
describe('startWalCheckpointer', () => {
  let dir: ReturnType<typeof tempDir>;
  let db: Db;
  let path: string;

  beforeEach(() => {
    dir = tempDir();
    path = join(dir.path, 'db.sqlite');
    db = createDb(path);
    db.exec('CREATE TABLE filler (id INTEGER PRIMARY KEY, body BLOB NOT NULL)');
  });
  afterEach(() => {
    if (db.open) db.close();
    dir.cleanup();
  });

  /** About 2,000 pages: below the backstop, so only the thread can have moved them into the file. */
  function writeFiller(): void {
    const insert = db.prepare('INSERT INTO filler (body) VALUES (?)');
    for (let i = 0; i < 200; i++) insert.run(Buffer.alloc(40_000, i));
  }

  async function until(condition: () => boolean): Promise<boolean> {
    for (let i = 0; i < 200; i++) {
      if (condition()) return true;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    return condition();
  }

  it('copies committed pages into the database file from its own thread; automatic checkpoints stay as a backstop only', async () => {
    const checkpointer = startWalCheckpointer(db, { intervalMs: 10 });
    expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(10_000);
    const before = statSync(path).size;
    writeFiller();
    expect(await until(() => statSync(path).size > before + 4_000_000)).toBe(true);
    await checkpointer.stop();
    expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(1000);
  });

  it('leaves the WAL alone below the threshold (read from the WAL-index header), and checkpoints once it is reached', async () => {
    const checkpointer = startWalCheckpointer(db, { intervalMs: 5, thresholdPages: 1500 });
    const insert = db.prepare('INSERT INTO filler (body) VALUES (?)');
    const before = statSync(path).size;
    for (let i = 0; i < 100; i++) insert.run(Buffer.alloc(40_000, i)); // about 1,000 pages
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(statSync(path).size).toBe(before);
    for (let i = 0; i < 60; i++) insert.run(Buffer.alloc(40_000, i)); // past 1,500
    expect(await until(() => statSync(path).size > before + 4_000_000)).toBe(true);
    await checkpointer.stop();
  });

  it('keeps the WAL starting over while the service writes (it does not grow to the backstop)', async () => {
    const checkpointer = startWalCheckpointer(db, { intervalMs: 5, thresholdPages: 200 });
    const insert = db.prepare('INSERT INTO filler (body) VALUES (?)');
    const framesInWal = () => readFileSync(`${path}-shm`).readUInt32LE(16);
    let mostFrames = 0;
    // About 12,000 pages, one small commit per event-loop turn, so commits land while the thread
    // checkpoints (it then never sees every frame copied on its own).
    // A fixed amount of writing (not a time budget: a busy machine writes less in the same time),
    // with a short pause every 20 commits so the thread gets its turns however loaded the machine is.
    for (let i = 0; i < 4_000; i++) {
      insert.run(Buffer.alloc(10_000, i));
      mostFrames = Math.max(mostFrames, framesInWal());
      await new Promise((resolve) => (i % 20 === 19 ? setTimeout(resolve, 2) : setImmediate(resolve)));
    }
    await checkpointer.stop();
    // Without the service's own tail checkpoint the WAL grows to the 10,000-page backstop every time.
    expect(mostFrames).toBeLessThan(8_000);
  });

  it('loses nothing it checkpointed: a fresh connection reads every committed row after stop and close', async () => {
    const checkpointer = startWalCheckpointer(db, { intervalMs: 10 });
    writeFiller();
    await checkpointer.stop();
    db.close();
    const reader = new Database(path, { readonly: true });
    expect(reader.prepare('SELECT COUNT(*) AS n, SUM(length(body)) AS bytes FROM filler').get()).toEqual({ n: 200, bytes: 200 * 40_000 });
    reader.close();
  });

  it('without it, the same writes stay in the WAL (the backstop has not been reached)', () => {
    db.pragma('wal_autocheckpoint = 10000');
    const before = statSync(path).size;
    writeFiller();
    expect(statSync(path).size).toBe(before);
  });

  it('does nothing for an in-memory database', async () => {
    const memory = createDb(':memory:');
    const checkpointer = startWalCheckpointer(memory);
    await checkpointer.stop();
    memory.close();
  });
});
