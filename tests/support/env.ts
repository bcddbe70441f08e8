import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import type { Express } from 'express';
import { loadConfig, type Config } from '../../src/server/config/config';

export const TEST_CLIENT_SECRET = 'test-client-secret-0123456789';

/** A configuration as main() would build it, from an env record the test controls. */
export function testConfig(env: Record<string, string | undefined> = {}): Config {
  return loadConfig({ HUBSPOT_CLIENT_SECRET: TEST_CLIENT_SECRET, LOG_LEVEL: 'silent', ...env });
}

/** A fresh directory per test; removed by the returned cleanup. */
export function tempDir(prefix = 'dealgate-test-'): { path: string; cleanup: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
}

/** Listens on a free loopback port; resolves with the base URL and a close function. */
export async function listen(app: Express): Promise<{ url: string; server: Server; close: () => Promise<void> }> {
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    server,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}
