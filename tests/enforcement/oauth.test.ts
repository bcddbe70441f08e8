import { readFileSync, readdirSync } from 'node:fs';
import { dirname } from 'node:path';
import pg from 'pg';
import { ManualClock } from '../../src/server/shared/clock';
import { DEALGATE_PROPERTIES } from '../../src/server/application/dealgateProperties';
import { startStack, type Stack } from '../support/stack';
import { waitUntil } from '../support/process';
import { REP, revertNotes, seedGatedDeal, stageOf } from './world';

/**
 * Multi-account installs through HubSpot's OAuth flow, against the simulator's /oauth/v1/token:
 * tokens stored encrypted, the account provisioned (properties, pipelines), calls made with the
 * account's own token, refreshed before it expires.
 */
describe('OAuth install', () => {
  let stack: Stack;
  let clock: ManualClock;

  beforeEach(async () => {
    clock = new ManualClock(Date.UTC(2026, 10, 2, 9, 0, 0));
    stack = await startStack({ clock, auth: 'oauth', defaults: { valueThreshold: 50_000 } });
  });
  afterEach(async () => {
    await stack.stop();
  });

  /**
   * Every byte SQLite holds for the service (the database and its write-ahead log); on PostgreSQL,
   * every row of every table of the service's database as text.
   */
  async function databaseBytes(): Promise<string> {
    if (stack.config.databaseUrl !== undefined) {
      const client = new pg.Client({ connectionString: stack.config.databaseUrl });
      await client.connect();
      try {
        const tables = await client.query<{ name: string }>(`SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'`);
        const rows: string[] = [];
        for (const { name } of tables.rows) {
          const result = await client.query<{ row: string }>(`SELECT t::text AS row FROM ${client.escapeIdentifier(name)} t`);
          rows.push(...result.rows.map((r) => r.row));
        }
        return rows.join('\n');
      } finally {
        await client.end();
      }
    }
    const dir = dirname(stack.databasePath);
    return readdirSync(dir)
      .map((name) => readFileSync(`${dir}/${name}`).toString('latin1'))
      .join('');
  }

  it('redirects to HubSpot’s consent screen with the project’s scopes and a signed state', async () => {
    const response = await fetch(stack.url + '/oauth/install', { redirect: 'manual' });
    expect(response.status).toBe(302);
    const location = new URL(response.headers.get('location') ?? '');
    expect(location.origin + location.pathname).toBe('https://app.hubspot.com/oauth/authorize');
    expect(location.searchParams.get('client_id')).toBe(stack.sim.clientId);
    expect(location.searchParams.get('redirect_uri')).toBe(stack.url + '/oauth/callback');
    expect(location.searchParams.get('scope')).toContain('crm.objects.deals.write');
    expect(location.searchParams.get('state')?.split('.')).toHaveLength(3);
  });

  it('exchanges the code, stores the tokens encrypted, provisions the account and enforces the gate with its token', async () => {
    const installed = await stack.installViaOAuth();
    expect(installed.status).toBe(200);
    expect(installed.body).toContain(`account ${stack.sim.portalId}`);
    expect(stack.sim.requests.count('POST /oauth/v1/token')).toBe(1);

    const account = await stack.store.accounts.get(stack.sim.portalId);
    expect(account).toEqual(expect.objectContaining({ authMode: 'oauth', tokenExpiresAt: clock.now() + 1800 * 1000, provisionedAt: expect.any(Number) }));
    expect(account?.accessTokenEnc).toMatch(/^v1\./);
    expect(account?.refreshTokenEnc).toMatch(/^v1\./);
    // No token is anywhere in the database in the clear.
    const bytes = await databaseBytes();
    // What was read holds the account (the encrypted token), so the absence below means something.
    expect(bytes).toContain(account!.accessTokenEnc!);
    expect(bytes).not.toContain('sim-at-');
    expect(bytes).not.toContain('sim-rt-');

    // Provisioned at install: the property group, every property, the pipelines.
    const reader = stack.sim.issueAccessToken({ scopes: ['crm.schemas.deals.read'] }); // Dealgate itself never reads properties
    const propertyNames = (await (await fetch(`${stack.sim.url}/crm/v3/properties/deals`, { headers: { authorization: `Bearer ${reader}` } })).json()) as {
      results: { name: string; groupName: string }[];
    };
    for (const property of DEALGATE_PROPERTIES) {
      expect(propertyNames.results).toContainEqual(expect.objectContaining({ name: property.name, groupName: 'dealgate' }));
    }
    expect((await stack.store.pipelines.get(stack.sim.portalId, 'default'))?.stages.map((s) => s.id)).toContain('contractsent');

    const deal = seedGatedDeal(stack);
    stack.sim.moveDealToStage(deal.id, 'closedwon', { userId: REP });
    await stack.settle();
    expect(stageOf(stack, deal.id)).toBe('contractsent');
    expect(revertNotes(stack, deal.id)).toHaveLength(1);
    // Made with the app's OAuth token: HubSpot records the app, so the revert's own webhook is recognised.
    expect(stack.sim.dealHistory(deal.id, 'dealstage')[0]).toEqual(expect.objectContaining({ sourceType: 'INTEGRATION', sourceId: String(stack.sim.appId) }));
  });

  it('refreshes the access token before it expires, and keeps the refresh token', async () => {
    await stack.installViaOAuth();
    const first = await stack.store.accounts.get(stack.sim.portalId);
    clock.advance(26 * 60 * 1000);
    const deal = seedGatedDeal(stack);
    stack.sim.moveDealToStage(deal.id, 'closedwon', { userId: REP });
    await stack.settle();

    expect(stageOf(stack, deal.id)).toBe('contractsent');
    expect(stack.sim.requests.count('POST /oauth/v1/token')).toBe(2);
    const refreshed = await stack.store.accounts.get(stack.sim.portalId);
    expect(refreshed?.tokenExpiresAt).toBe(clock.now() + 1800 * 1000);
    expect(refreshed?.accessTokenEnc).not.toBe(first?.accessTokenEnc);
    // No call was refused for an expired token.
    expect(stack.sim.requests.all().filter((r) => r.status === 401)).toEqual([]);
  });

  it('refuses a callback with a forged or expired state, or a refused consent, and stores nothing', async () => {
    const forged = await fetch(`${stack.url}/oauth/callback?code=abc&state=not.a.token`);
    expect(forged.status).toBe(400);
    expect(((await forged.json()) as { error: { message: string } }).error.message).toContain('/oauth/install');

    const install = await fetch(stack.url + '/oauth/install', { redirect: 'manual' });
    const state = new URL(install.headers.get('location') ?? '').searchParams.get('state') ?? '';
    clock.advance(11 * 60 * 1000);
    const late = await fetch(`${stack.url}/oauth/callback?code=abc&state=${encodeURIComponent(state)}`);
    expect(late.status).toBe(400);

    const refused = await fetch(`${stack.url}/oauth/callback?error=access_denied&error_description=no`);
    expect(refused.status).toBe(400);
    expect(await stack.store.accounts.get(stack.sim.portalId)).toBeUndefined();
    expect(stack.sim.requests.count('POST /oauth/v1/token')).toBe(0);
  });

  it('answers 400 when HubSpot refuses the code', async () => {
    const install = await fetch(stack.url + '/oauth/install', { redirect: 'manual' });
    const state = new URL(install.headers.get('location') ?? '').searchParams.get('state') ?? '';
    // From the browser that started the install (its state cookie), so it is HubSpot that refuses.
    const cookie = install.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
    const response = await fetch(`${stack.url}/oauth/callback?code=sim-code-unknown&state=${encodeURIComponent(state)}`, { headers: { cookie } });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { message: string } }).error.message).toContain('HubSpot refused the authorization code');
    expect(stack.sim.requests.count('POST /oauth/v1/token')).toBe(1);
    expect(await stack.store.accounts.get(stack.sim.portalId)).toBeUndefined();
  });

  it('parks the events of an account that never installed, with a message that says so', async () => {
    stack.sim.createDealAsUser({ dealname: 'x', dealstage: 'closedwon', pipeline: 'default' }, { userId: REP });
    await stack.sim.webhooks.idle();
    // Retries wait on the (manual) clock: move it along until the last attempt is spent.
    await waitUntil(
      async () => {
        clock.advance(60_000);
        // Until its events are parked: "nothing pending, no journal backlog" alone also holds for a moment before the batch is expanded.
        const counts = await stack.store.inbox.countByStatus();
        return counts.parked > 0 && counts.pending === 0 && (await stack.store.inbox.journalBacklog()) === 0;
      },
      5_000,
      'the events to be parked',
    );
    expect(stack.sim.requests.count(/deals/)).toBe(0);
    const parked = await stack.store.inbox.list({ status: 'parked', limit: 10 });
    expect(parked.length).toBeGreaterThan(0);
    expect(parked[0]?.lastError).toContain('/oauth/install');
  });
});
