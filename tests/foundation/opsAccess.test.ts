import { join } from 'node:path';
import { request } from 'node:http';
import { createApp } from '../../src/server/http/app';
import { createDb } from '../../src/server/storage/db';
import { createSqliteStore } from '../../src/server/storage/sqliteStore';
import type { Store } from '../../src/server/storage/store';
import { staticHubSpotClients } from '../../src/server/hubspot/clients';
import { createHubSpotGateway } from '../../src/server/hubspot/gateway';
import { ManualClock } from '../../src/server/shared/clock';
import { silentLogger } from '../../src/server/shared/logger';
import { ConfigError, loadConfig } from '../../src/server/config/config';
import { freePort, startTs, waitUntil } from '../support/process';
import { listen, tempDir, testConfig } from '../support/env';

/**
 * Issue 12 #4: /ops reached through a reverse proxy on the same host (no forwarding header) answered
 * inbox payloads to an outside caller, since every such request comes from loopback; and the service
 * listened on every interface. Now the ops routes are closed without DEALGATE_OPS_TOKEN unless the
 * operator opts in to loopback (DEALGATE_OPS_LOOPBACK=true), and HOST (default 127.0.0.1) chooses the
 * listening address.
 */
const SECRET_PAYLOAD = 'payload-only-ops-may-read-7f3a';
const TOKEN = 'ops-token-0123456789abcdef';

describe('the ops routes', () => {
  let dir: ReturnType<typeof tempDir>;
  let store: Store;
  let server: Awaited<ReturnType<typeof listen>>;
  beforeEach(() => {
    dir = tempDir();
  });
  afterEach(async () => {
    await server?.close();
    await store?.close();
    dir.cleanup();
  });

  async function serve(env: Record<string, string>) {
    const config = testConfig({ DATABASE_PATH: join(dir.path, 'db.sqlite'), ...env });
    store = createSqliteStore(createDb(config.databasePath));
    await store.inbox.insertBatch(
      [
        {
          portalId: 7,
          eventKey: 'k1',
          objectId: '1',
          subscriptionType: 'deal.propertyChange',
          propertyName: 'dealstage',
          propertyValue: 'closedwon',
          changeSource: 'CRM_UI',
          sourceId: null,
          occurredAt: 1,
          payload: JSON.stringify({ note: SECRET_PAYLOAD }),
        },
      ],
      1,
    );
    server = await listen(createApp({ config, store, clock: new ManualClock(), hubspot: staticHubSpotClients(config), gateway: createHubSpotGateway(staticHubSpotClients(config)), logger: silentLogger() }));
  }

  async function get(path: string, headers: Record<string, string> = {}) {
    const response = await fetch(server.url + path, { headers });
    const text = await response.text();
    return { status: response.status, text, json: JSON.parse(text) as { error?: { code: string; message: string } } };
  }

  it('are closed without DEALGATE_OPS_TOKEN, even to a loopback caller (what a proxy on the same host looks like); /healthz and /readyz still answer', async () => {
    await serve({});
    for (const path of ['/ops/inbox', '/ops/metrics', '/ops/outbox', '/ops/sweeps']) {
      const answer = await get(path);
      expect(answer.status).toBe(403);
      expect(answer.json.error?.code).toBe('forbidden');
      expect(answer.json.error?.message).toContain('DEALGATE_OPS_TOKEN');
      expect(answer.text).not.toContain(SECRET_PAYLOAD);
    }
    const retry = await fetch(server.url + '/ops/inbox/1/retry', { method: 'POST' });
    expect(retry.status).toBe(403);
    expect((await get('/healthz')).status).toBe(200);
    expect((await get('/readyz')).status).toBe(200);
  });

  it('answer direct loopback callers when the operator opts in, and refuse a request a proxy forwarded', async () => {
    await serve({ DEALGATE_OPS_LOOPBACK: 'true' });
    const direct = await get('/ops/inbox');
    expect(direct.status).toBe(200);
    expect(direct.text).toContain(SECRET_PAYLOAD);
    for (const header of ['x-forwarded-for', 'forwarded', 'x-real-ip', 'via']) {
      const proxied = await get('/ops/inbox', { [header]: header === 'forwarded' ? 'for=203.0.113.9' : '203.0.113.9' });
      expect(proxied.status).toBe(403);
      expect(proxied.text).not.toContain(SECRET_PAYLOAD);
    }
  });

  it('with a token, need it from every caller, loopback included', async () => {
    await serve({ DEALGATE_OPS_TOKEN: TOKEN });
    expect((await get('/ops/inbox')).status).toBe(401);
    expect((await get('/ops/inbox', { authorization: 'Bearer wrong-token-0123456789' })).status).toBe(401);
    const allowed = await get('/ops/inbox', { authorization: `Bearer ${TOKEN}` });
    expect(allowed.status).toBe(200);
    expect(allowed.text).toContain(SECRET_PAYLOAD);
  });
});

describe('HOST and DEALGATE_OPS_LOOPBACK', () => {
  const base = { HUBSPOT_CLIENT_SECRET: 's3cret' };

  it('default to listening on 127.0.0.1 with the ops routes closed', () => {
    const config = loadConfig(base);
    expect(config.host).toBe('127.0.0.1');
    expect(config.opsLoopback).toBe(false);
    expect(config.opsToken).toBeUndefined();
  });

  it('take IP addresses and true/false', () => {
    expect(loadConfig({ ...base, HOST: '0.0.0.0' }).host).toBe('0.0.0.0');
    expect(loadConfig({ ...base, HOST: '::' }).host).toBe('::');
    expect(loadConfig({ ...base, HOST: '[::1]' }).host).toBe('::1');
    expect(loadConfig({ ...base, HOST: 'localhost' }).host).toBe('localhost');
    expect(loadConfig({ ...base, HOST: ' 10.0.0.5 ' }).host).toBe('10.0.0.5');
    expect(loadConfig({ ...base, DEALGATE_OPS_LOOPBACK: 'true' }).opsLoopback).toBe(true);
    expect(loadConfig({ ...base, DEALGATE_OPS_LOOPBACK: 'false' }).opsLoopback).toBe(false);
  });

  it.each([
    [{ HOST: 'dealgate.acme.io' }, 'HOST', 'must be an IP address'],
    [{ HOST: '0.0.0.0:3000' }, 'HOST', 'must be an IP address'],
    [{ DEALGATE_OPS_LOOPBACK: 'yes' }, 'DEALGATE_OPS_LOOPBACK', 'must be true or false'],
    [{ DEALGATE_OPS_LOOPBACK: 'true', DEALGATE_OPS_TOKEN: TOKEN }, 'DEALGATE_OPS_LOOPBACK', 'cannot be true when DEALGATE_OPS_TOKEN is set'],
  ])('refuse %j, naming %s', (env, variable, message) => {
    let thrown: unknown;
    try {
      loadConfig({ ...base, ...env });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    const problem = (thrown as ConfigError).problems.find((p) => p.variable === variable);
    expect(problem?.message).toContain(message);
  });
});

/** Whether a TCP connection to host:port is accepted (a refused connection resolves false). */
function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ host, port, path: '/healthz', method: 'GET' }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.end();
  });
}

// On Linux all of 127.0.0.0/8 is loopback, so 127.0.0.2 stands for "another interface of this host":
// a server on 127.0.0.1 refuses it, one on every interface accepts it.
const linux = process.platform === 'linux' ? describe : describe.skip;
linux('the service process listens on HOST only', () => {
  let dir: ReturnType<typeof tempDir>;
  beforeEach(() => {
    dir = tempDir();
  });
  afterEach(() => dir.cleanup());

  async function run(env: Record<string, string>, reachable: string, unreachable: string) {
    const port = await freePort();
    const proc = startTs('src/server/main.ts', { HUBSPOT_CLIENT_SECRET: 'only-this', PORT: String(port), DATABASE_PATH: join(dir.path, 'db.sqlite'), ...env });
    try {
      await waitUntil(() => accepts(reachable, port), 20000, `/healthz on ${reachable}`);
      expect(await accepts(unreachable, port)).toBe(false);
      expect(proc.output()).toContain(`"host":"${env.HOST ?? '127.0.0.1'}"`);
      expect(proc.output()).toContain('"opsRoutes":"closed"');
    } finally {
      proc.child.kill('SIGKILL');
      await proc.exited;
    }
  }

  // Each starts the service in a child process (compiled by tsx first) and waits up to 20 s for it:
  // more than jest's default 20 s for the whole test would leave.
  it('by default 127.0.0.1: another address of the host is refused', async () => {
    await run({}, '127.0.0.1', '127.0.0.2');
  }, 60_000);

  it('HOST=127.0.0.2: there, and not on 127.0.0.1', async () => {
    await run({ HOST: '127.0.0.2' }, '127.0.0.2', '127.0.0.1');
  }, 60_000);
});
