import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, startTs, waitUntil } from '../support/process';
import { tempDir } from '../support/env';

describe('the service process', () => {
  let dir: ReturnType<typeof tempDir>;
  beforeEach(() => {
    dir = tempDir();
  });
  afterEach(() => dir.cleanup());

  it('starts with only the client secret, creates the database, answers /healthz and stops on SIGTERM', async () => {
    const port = await freePort();
    const databasePath = join(dir.path, 'data', 'dealgate.db');
    const proc = startTs('src/server/main.ts', {
      HUBSPOT_CLIENT_SECRET: 'only-this',
      PORT: String(port),
      DATABASE_PATH: databasePath,
    });
    try {
      await waitUntil(async () => (await fetch(`http://127.0.0.1:${port}/healthz`)).ok, 20000, '/healthz');
      expect(existsSync(databasePath)).toBe(true);
      expect(proc.output()).not.toContain('only-this');
      proc.child.kill('SIGTERM');
      const exit = await proc.exited;
      expect(exit).toEqual({ code: 0, signal: null });
      expect(proc.output()).toContain('stopped');
    } finally {
      proc.child.kill('SIGKILL');
    }
  });

  it('refuses to start without HUBSPOT_CLIENT_SECRET and says which variable', async () => {
    const proc = startTs('src/server/main.ts', { DATABASE_PATH: join(dir.path, 'db.sqlite'), PORT: 'abc' });
    const exit = await proc.exited;
    expect(exit.code).toBe(1);
    expect(proc.output()).toContain('HUBSPOT_CLIENT_SECRET is required');
    expect(proc.output()).toContain('PORT');
    expect(existsSync(join(dir.path, 'db.sqlite'))).toBe(false);
  });
});
