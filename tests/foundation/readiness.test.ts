import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { createApp } from '../../src/server/http/app';
import { createDb } from '../../src/server/storage/db';
import { createSqliteStore } from '../../src/server/storage/sqliteStore';
import { staticHubSpotClients } from '../../src/server/hubspot/clients';
import { createHubSpotGateway } from '../../src/server/hubspot/gateway';
import { ManualClock } from '../../src/server/shared/clock';
import { silentLogger } from '../../src/server/shared/logger';
import type { Store } from '../../src/server/storage/store';
import { listen, tempDir, testConfig } from '../support/env';
import { fillVolume, smallVolume } from '../support/volume';

/**
 * Issue 12 #7: /readyz answered 200 while every write failed (it only ran SELECT 1). It now commits
 * a write and checks the volume's free space, and answers 503 when either fails.
 */
async function readyz(store: Store, databasePath: string) {
  const config = testConfig({ DATABASE_PATH: databasePath });
  const server = await listen(createApp({ config, store, clock: new ManualClock(), hubspot: staticHubSpotClients(config), gateway: createHubSpotGateway(staticHubSpotClients(config)), logger: silentLogger() }));
  try {
    const response = await fetch(`${server.url}/readyz`);
    return { status: response.status, json: (await response.json()) as { status?: string; error?: { code: string; message: string; details?: { cause: string } } } };
  } finally {
    await server.close();
  }
}

describe('/readyz', () => {
  let dir: ReturnType<typeof tempDir>;
  beforeEach(() => {
    dir = tempDir();
  });
  afterEach(() => dir.cleanup());

  it('is 200 when the database can write', async () => {
    const path = join(dir.path, 'db.sqlite');
    const store = createSqliteStore(createDb(path));
    try {
      expect(await readyz(store, path)).toEqual({ status: 200, json: { status: 'ready', database: 'ok' } });
    } finally {
      await store.close();
    }
  });

  it('is 503 not_ready when the database reads but cannot write (a read-only connection)', async () => {
    const path = join(dir.path, 'db.sqlite');
    createDb(path).close();
    const store = createSqliteStore(new Database(path, { readonly: true }));
    try {
      expect(await store.ping()).toBe(true);
      const answer = await readyz(store, path);
      expect(answer.status).toBe(503);
      expect(answer.json.error?.code).toBe('not_ready');
      expect(answer.json.error?.message).toContain('the database cannot write');
      expect(answer.json.error?.details?.cause).toBe('SQLITE_READONLY');
    } finally {
      await store.close();
    }
  });
});

describe('/readyz on a volume that fills up (tmpfs; skipped where this process cannot mount one)', () => {
  let dir: ReturnType<typeof tempDir>;
  beforeEach(() => {
    dir = tempDir();
  });
  afterEach(() => dir.cleanup());

  it('is 503 while the volume is full, and 200 again once space is back', async () => {
    const volume = join(dir.path, 'volume');
    const unmount = smallVolume(volume, '4m');
    if (!unmount) return; // stated in the describe: this machine cannot mount a tmpfs
    try {
      const path = join(volume, 'db.sqlite');
      const store = createSqliteStore(createDb(path));
      try {
        expect((await readyz(store, path)).status).toBe(200);
        // Fill the volume to the last byte with a file that is not the database's.
        const ballast = join(volume, 'ballast');
        fillVolume(volume);
        const full = await readyz(store, path);
        expect(full.status).toBe(503);
        expect(full.json.error?.code).toBe('not_ready');
        expect(full.json.error?.details?.cause).toBe('SQLITE_FULL');
        execFileSync('sh', ['-c', `rm -f '${ballast}'-*`]);
        expect((await readyz(store, path)).status).toBe(200);
      } finally {
        await store.close();
      }
    } finally {
      unmount();
    }
  });
});
