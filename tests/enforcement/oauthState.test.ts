import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import express from 'express';
import { ManualClock } from '../../src/server/shared/clock';
import { loadConfig } from '../../src/server/config/config';
import { hubSpotClientsFor } from '../../src/server/hubspot/clients';
import { silentLogger } from '../../src/server/shared/logger';
import { CALLBACK_PATH, INSTALL_PATH, STATE_COOKIE, oauthRoutes } from '../../src/server/http/oauthRoutes';
import { testStore } from '../support/testStore';
import type { Store } from '../../src/server/storage/store';
import { startSimulator, type Simulator } from '../../src/simulator';
import { listen, tempDir } from '../support/env';
import { startStack, type Stack } from '../support/stack';

/**
 * Issue 12, findings 8 and 9 and the echoed `error`: the install's state is single-use and bound
 * to the browser that asked for it (a cookie); the token exchange has a timeout; the callback's
 * pages are escaped and never sniffed.
 */

interface Install {
  state: string;
  redirectUri: string;
  /** `name=value`, as the browser sends it back. */
  cookie: string;
  setCookie: string;
}

async function startInstall(baseUrl: string): Promise<Install> {
  const response = await fetch(baseUrl + INSTALL_PATH, { redirect: 'manual' });
  expect(response.status).toBe(302);
  const location = new URL(response.headers.get('location') ?? '');
  const setCookie = response.headers.getSetCookie().find((c) => c.startsWith(`${STATE_COOKIE}=`)) ?? '';
  return {
    state: location.searchParams.get('state') ?? '',
    redirectUri: location.searchParams.get('redirect_uri') ?? '',
    cookie: setCookie.split(';')[0] ?? '',
    setCookie,
  };
}

function callbackUrl(install: Install, code: string): string {
  const url = new URL(install.redirectUri);
  url.searchParams.set('code', code);
  url.searchParams.set('state', install.state);
  return url.toString();
}

const asBrowser = { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' };

describe('OAuth install: the state', () => {
  let stack: Stack;
  beforeEach(async () => {
    stack = await startStack({ clock: new ManualClock(Date.UTC(2026, 10, 2, 9, 0, 0)), auth: 'oauth' });
  });
  afterEach(() => stack.stop());

  const code = () => stack.sim.issueAuthorizationCode({ redirectUri: stack.url + CALLBACK_PATH });

  it('sets a cookie for the browser that asked: HttpOnly, SameSite=Lax, for the callback only, not Secure on http', async () => {
    const install = await startInstall(stack.url);
    expect(install.setCookie).toMatch(new RegExp(`^${STATE_COOKIE}=[A-Za-z0-9_-]{43}; `));
    expect(install.setCookie).toContain('HttpOnly');
    expect(install.setCookie).toContain('SameSite=Lax');
    expect(install.setCookie).toContain(`Path=${CALLBACK_PATH}`);
    expect(install.setCookie).toContain('Max-Age=600');
    expect(install.setCookie).not.toContain('Secure');
  });

  it('is single-use: a second install with the same state is refused and exchanges nothing', async () => {
    const install = await startInstall(stack.url);
    const first = await fetch(callbackUrl(install, code()), { headers: { cookie: install.cookie } });
    expect(first.status).toBe(200);
    expect(first.headers.get('set-cookie')).toContain('Max-Age=0');

    const second = await fetch(callbackUrl(install, code()), { headers: { cookie: install.cookie } });
    expect(second.status).toBe(400);
    expect(((await second.json()) as { error: { message: string } }).error.message).toContain('already used');
    expect(stack.sim.requests.count('POST /oauth/v1/token')).toBe(1);
  });

  it('belongs to the browser that started the install: without its cookie, or with another install’s, nothing is installed', async () => {
    const victim = await startInstall(stack.url);
    const other = await startInstall(stack.url);
    for (const cookie of [undefined, other.cookie, `${STATE_COOKIE}=`, `${STATE_COOKIE}=${'A'.repeat(43)}`]) {
      const response = await fetch(callbackUrl(victim, code()), cookie === undefined ? {} : { headers: { cookie } });
      expect(response.status).toBe(400);
      expect(((await response.json()) as { error: { message: string } }).error.message).toContain('not started in this browser');
      // A callback this browser did not start leaves its own install alone (its cookie is not cleared).
      expect(response.headers.get('set-cookie')).toBeNull();
    }
    expect(stack.sim.requests.count('POST /oauth/v1/token')).toBe(0);
    expect(await stack.store.accounts.get(stack.sim.portalId)).toBeUndefined();
    // The state was not spent by those attempts: its own browser still finishes the install.
    expect((await fetch(callbackUrl(victim, code()), { headers: { cookie: victim.cookie } })).status).toBe(200);
  });

  it('escapes HubSpot’s error, answers a browser an HTML page, and is never sniffed', async () => {
    const probe = '<script>alert(1)</script>';
    const page = await fetch(`${stack.url}${CALLBACK_PATH}?error=${encodeURIComponent(probe)}&error_description=${encodeURIComponent(probe)}`, { headers: asBrowser });
    expect(page.status).toBe(400);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    const html = await page.text();
    expect(html).not.toContain('<script>');
    expect(html).toContain('HubSpot did not authorize the install');
    expect(html).toContain(`href="${INSTALL_PATH}"`);

    const denied = await fetch(`${stack.url}${CALLBACK_PATH}?error=access_denied`, { headers: asBrowser });
    expect(await denied.text()).toContain('(access_denied)');
    const api = await fetch(`${stack.url}${CALLBACK_PATH}?error=${encodeURIComponent(probe)}`);
    expect(api.headers.get('x-content-type-options')).toBe('nosniff');
    expect(JSON.stringify(await api.json())).not.toContain('script');
    expect((await fetch(stack.url + INSTALL_PATH, { redirect: 'manual' })).headers.get('x-content-type-options')).toBe('nosniff');
  });
});

describe('OAuth install: the cookie over https', () => {
  let stack: Stack;
  afterEach(() => stack.stop());

  it('is Secure when the public URL is https, and for the callback path the browser sees behind a proxy', async () => {
    stack = await startStack({ auth: 'oauth', env: { PUBLIC_BASE_URL: 'https://acme-corp.test/dealgate' } });
    const { setCookie } = await startInstall(stack.url);
    expect(setCookie).toMatch(/; Secure$/);
    expect(setCookie).toContain(`Path=/dealgate${CALLBACK_PATH};`);
  });
});

describe('OAuth install: HubSpot’s token endpoint hangs', () => {
  let sim: Simulator;
  let store: Store;
  let server: Awaited<ReturnType<typeof listen>>;
  let dir: ReturnType<typeof tempDir>;

  beforeEach(async () => {
    dir = tempDir('dealgate-oauth-');
    sim = await startSimulator();
    const app = express();
    server = await listen(app);
    const config = loadConfig({
      HUBSPOT_CLIENT_ID: sim.clientId,
      HUBSPOT_CLIENT_SECRET: sim.clientSecret,
      HUBSPOT_API_BASE_URL: sim.url,
      DEALGATE_TOKEN_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      PUBLIC_BASE_URL: server.url,
      DATABASE_PATH: join(dir.path, 'db.sqlite'),
      LOG_LEVEL: 'silent',
    });
    store = await testStore(config.databasePath);
    const clock = new ManualClock(Date.UTC(2026, 10, 2, 9, 0, 0));
    const logger = silentLogger();
    // The routes as createApp mounts them, with a short timeout so the test does not wait 15 s.
    app.use(oauthRoutes({ config, clock, logger, store, hubspot: hubSpotClientsFor({ config, store, clock, logger }), tokenTimeoutMs: 200 }));
  });
  afterEach(async () => {
    await server.close();
    await sim.stop();
    await store.close();
    dir.cleanup();
  });

  it('answers the admin with a clear error page instead of never answering, and installs nothing', async () => {
    sim.faults.hangNext(1, { match: 'POST /oauth/v1/token' });
    const install = await startInstall(server.url);
    const response = await fetch(callbackUrl(install, sim.issueAuthorizationCode({ redirectUri: install.redirectUri })), {
      headers: { ...asBrowser, cookie: install.cookie },
    });
    expect(response.status).toBe(502);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    const html = await response.text();
    expect(html).toContain('Dealgate was not installed');
    expect(html).toContain('did not answer within 200 ms, so nothing was installed');
    expect(html).toContain(`href="${INSTALL_PATH}"`);
    expect(await store.accounts.get(sim.portalId)).toBeUndefined();
  });
});
