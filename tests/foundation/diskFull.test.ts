import { readdirSync, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { createDb, type Db } from '../../src/server/storage/db';
import { LOW_SPACE_AUTOCHECKPOINT_PAGES, startWalCheckpointer } from '../../src/server/storage/walCheckpointer';
import { tempDir } from '../support/env';
import { fillVolume, smallVolume } from '../support/volume';

/**
 * Issue 12 #7: the database on a small volume that filled and then got space back: the WAL refilled
 * it and every write failed from then on. Here on a real 12 MB tmpfs volume (only where this
 * process may mount one: root on Linux; elsewhere the test checks nothing), with the checkpointer
 * at main()'s defaults and a steady writer whose data stays about 1 MB (an inbox that is drained).
 * Before the fix the WAL never started over below 3,000 pages: it grew to fill the volume (7.5 MB
 * for that 1 MB in a run by hand) and, once space was given back, grew into it again (1,337 of
 * 1,500 writes failed); here the first 1,000 steady writes would already fail. Now: the steady
 * writes succeed, something else fills the volume so that a write needing new pages fails with
 * SQLITE_FULL, the space is freed, and 3,000 writes succeed with the WAL file under 6 MB. Not
 * covered: a database whose data itself outgrows the volume, and the HTTP routes (the webhook
 * route fails with the same SQLITE_FULL as these inserts and uses the same connection).
 */
describe('a database on a small volume that fills up, then gets space back', () => {
  let dir: ReturnType<typeof tempDir>;
  let db: Db | undefined;
  beforeEach(() => {
    dir = tempDir();
  });
  afterEach(() => {
    if (db?.open) db.close();
    dir.cleanup();
  });

  it('keeps the WAL bounded, and writes succeed again by themselves once space is back', async () => {
    const volume = join(dir.path, 'volume');
    const unmount = smallVolume(volume, '12m');
    if (!unmount) return; // see above: this machine cannot mount a tmpfs
    try {
      const path = join(volume, 'db.sqlite');
      db = createDb(path);
      db.exec('CREATE TABLE filler (id INTEGER PRIMARY KEY, body BLOB NOT NULL)');
      const checkpointer = startWalCheckpointer(db);
      const insert = db.prepare('INSERT INTO filler (body) VALUES (?)');
      const dropOldest = db.prepare('DELETE FROM filler WHERE id = (SELECT MIN(id) FROM filler)');
      const walBytes = () => statSync(`${path}-wal`, { throwIfNoEntry: false })?.size ?? 0;
      const ballast = () => readdirSync(volume).filter((name) => name.startsWith('ballast-'));
      let written = 0;
      let largestWal = 0;
      /** One small commit per event-loop turn (a pause every 20 so the thread gets its turns); returns the SQLITE_FULL count. */
      async function write(commits: number): Promise<number> {
        let full = 0;
        for (let i = 0; i < commits; i++) {
          try {
            db!.transaction(() => {
              insert.run(Buffer.alloc(3_000, written));
              if (written >= 300) dropOldest.run();
            })();
            written += 1;
          } catch (error) {
            if ((error as { code?: string }).code !== 'SQLITE_FULL') throw error;
            full += 1;
          }
          largestWal = Math.max(largestWal, walBytes());
          await new Promise((resolve) => (i % 20 === 19 ? setTimeout(resolve, 2) : setImmediate(resolve)));
        }
        return full;
      }

      // The thread has seen that the volume is small (12 MB free is under its 256 MB): the service's
      // commits checkpoint every 250 pages.
      while (db.pragma('wal_autocheckpoint', { simple: true }) !== LOW_SPACE_AUTOCHECKPOINT_PAGES) await new Promise((resolve) => setTimeout(resolve, 10));
      expect(await write(1_000)).toBe(0);
      fillVolume(volume); // something else fills the volume to its last bytes: now writes fail
      let fullFailures = 0;
      // Data that needs new pages (no row dropped): it cannot be written on a full volume.
      const grow = db.prepare('INSERT INTO filler (body) VALUES (?)');
      for (let i = 0; i < 200 && fullFailures === 0; i++) {
        try {
          grow.run(Buffer.alloc(100_000, i));
        } catch (error) {
          if ((error as { code?: string }).code !== 'SQLITE_FULL') throw error;
          fullFailures += 1;
        }
      }
      expect(fullFailures).toBeGreaterThan(0);
      for (const name of ballast()) unlinkSync(join(volume, name)); // space is back

      largestWal = 0;
      expect(await write(3_000)).toBe(0);
      // Bounded: what the thread truncates from (4 MB under low space) plus what is written between two of its ticks.
      expect(largestWal).toBeLessThan(6 * 1024 * 1024);
      await checkpointer.stop();
      expect(written).toBe(4_000);
      db.close();
    } finally {
      unmount();
    }
  });
});
