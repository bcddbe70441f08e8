import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startSimulator, type Simulator } from '../../src/simulator';
import { CALLBACK_PATH, INSTALL_PATH } from '../../src/server/http/oauthRoutes';
import { WEBHOOK_PATH } from '../../src/server/http/webhookRoute';
import { startStack, type Stack, type StackOptions } from '../support/stack';
import { cardRequest, type CardRequest, type CardResponse } from '../support/cardClient';
import { openDatabaseReader } from '../support/databaseReader';

/**
 * Two HubSpot accounts installed in one Dealgate through OAuth. The simulator holds one account, so
 * each account is its own simulator (same app: client id, secret and app id; different portal
 * ids), and the service's HUBSPOT_API_BASE_URL is a small router in front of both that sends
 * each call to the simulator that issued its token (learned from the token endpoint's answers) or
 * its authorization code. Both simulators send their webhooks to the service. Deal ids are chosen
 * so that one id exists in both accounts with different data (SHARED_DEAL_ID) and the others in
 * one account only.
 */
export const PORTAL_A = 24_681_357;
export const PORTAL_B = 35_792_468;
/** An account that never installed. */
export const PORTAL_NEVER_INSTALLED = 46_803_579;

export interface Person {
  rep: string;
  reviewer: string;
  admin: string;
}
export const PEOPLE_A: Person = { rep: '1001', reviewer: '1002', admin: '1003' };
export const PEOPLE_B: Person = { rep: '2001', reviewer: '2002', admin: '2003' };

/** The same deal id in both accounts, different deals. */
export const SHARED_DEAL_ID = '7000000001';

export interface Account {
  portalId: number;
  sim: Simulator;
  people: Person;
  /** Deal ids that exist in this account only. */
  ownDeals: string[];
}

export interface TwoAccounts {
  stack: Stack;
  a: Account;
  b: Account;
  /** Waits for both simulators' webhooks, then for the service to drain (see Stack.settle). */
  settle(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

export interface Router {
  url: string;
  route(sim: Simulator): void;
  /** The simulator that issued `code` (an install in progress). */
  ownsCode(code: string, sim: Simulator): void;
  close(): Promise<void>;
}

export async function startRouter(): Promise<Router> {
  const sims: Simulator[] = [];
  const owners = new Map<string, Simulator>();
  const ownerOf = (key: string | undefined | null): Simulator | undefined => (key ? owners.get(key) : undefined);

  function pick(req: IncomingMessage, body: Buffer): Simulator {
    const fallback = sims[0] as Simulator;
    const path = req.url ?? '/';
    if (path.startsWith('/oauth/v1/token')) {
      const form = new URLSearchParams(body.toString('utf8'));
      return ownerOf(form.get('code')) ?? ownerOf(form.get('refresh_token')) ?? fallback;
    }
    const introspect = /^\/oauth\/v1\/access-tokens\/([^/?]+)/.exec(path);
    if (introspect) return ownerOf(decodeURIComponent(introspect[1] ?? '')) ?? fallback;
    const bearer = /^Bearer\s+(\S+)/i.exec(req.headers.authorization ?? '');
    return ownerOf(bearer?.[1]) ?? fallback;
  }

  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const sim = pick(req, body);
      const target = new URL(sim.url);
      const upstream = httpRequest(
        { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: { ...req.headers, host: target.host } },
        (answer) => {
          const parts: Buffer[] = [];
          answer.on('data', (c: Buffer) => parts.push(c));
          answer.on('end', () => {
            const text = Buffer.concat(parts);
            if ((req.url ?? '').startsWith('/oauth/v1/token') && answer.statusCode === 200) {
              const tokens = JSON.parse(text.toString('utf8')) as { access_token?: string; refresh_token?: string };
              if (tokens.access_token) owners.set(tokens.access_token, sim);
              if (tokens.refresh_token) owners.set(tokens.refresh_token, sim);
            }
            res.writeHead(answer.statusCode ?? 502, answer.headers).end(text);
          });
        },
      );
      upstream.on('error', () => res.destroy());
      res.on('close', () => upstream.destroy());
      upstream.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    route: (sim) => {
      sims.push(sim);
      owners.set(sim.accessToken, sim);
    },
    ownsCode: (code, sim) => owners.set(code, sim),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function seedDeals(sim: Simulator, prefix: string, label: string): string[] {
  const gated = { dealstage: 'contractsent', pipeline: 'default', amount: '80000', dealgate_commitment: 'true', dealgate_commitment_summary: `${label} custom SSO`, dealgate_effort_weeks: '3' };
  sim.seedDeal({ id: SHARED_DEAL_ID, properties: { ...gated, dealname: `${label} shared-id deal`, amount: label === 'A' ? '81000' : '92000' } });
  return Array.from({ length: 6 }, (_, i) => sim.seedDeal({ id: `${prefix}${String(i + 1).padStart(3, '0')}`, properties: { ...gated, dealname: `${label} deal ${i + 1}` } }).id);
}

async function install(stack: Stack, router: Router, sim: Simulator, userId: number): Promise<void> {
  await installAccount(stack.url, router, sim, userId);
}

/** Runs the install as a browser would for the account of `sim` at the service `serviceUrl`: /oauth/install, HubSpot's consent, /oauth/callback. */
export async function installAccount(serviceUrl: string, router: Router, sim: Simulator, userId: number): Promise<void> {
  const start = await fetch(serviceUrl + INSTALL_PATH, { redirect: 'manual' });
  const authorize = new URL(start.headers.get('location') ?? '');
  const redirectUri = authorize.searchParams.get('redirect_uri') ?? '';
  const code = sim.issueAuthorizationCode({ redirectUri, userId });
  router.ownsCode(code, sim);
  const callback = new URL(redirectUri);
  callback.searchParams.set('code', code);
  callback.searchParams.set('state', authorize.searchParams.get('state') ?? '');
  if (!callback.toString().startsWith(serviceUrl + CALLBACK_PATH)) throw new Error(`unexpected redirect_uri ${redirectUri}`);
  // The browser that started the install finishes it: it sends back the cookie /oauth/install set.
  const cookie = start.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  const answer = await fetch(callback, { headers: { cookie } });
  if (answer.status !== 200) throw new Error(`installing account ${sim.portalId} answered ${answer.status}: ${await answer.text()}`);
}

export async function startTwoAccounts(options: Pick<StackOptions, 'background'> = {}): Promise<TwoAccounts> {
  const router = await startRouter();
  const stack = await startStack({
    auth: 'oauth',
    simulator: { portalId: PORTAL_A },
    // Both accounts start from these; each account's admin then saves its own people.
    defaults: { valueThreshold: 50_000, reviewers: [PEOPLE_A.reviewer, PEOPLE_B.reviewer], admins: [PEOPLE_A.admin, PEOPLE_B.admin] },
    env: { HUBSPOT_API_BASE_URL: router.url },
    ...options,
  });
  let simB: Simulator | undefined;
  try {
    router.route(stack.sim);
    simB = await startSimulator({
      portalId: PORTAL_B,
      appId: stack.sim.appId,
      clientId: stack.sim.clientId,
      clientSecret: stack.sim.clientSecret,
      webhookTargetUrl: stack.url + WEBHOOK_PATH,
    });
    router.route(simB);
    await install(stack, router, stack.sim, Number(PEOPLE_A.admin));
    await install(stack, router, simB, Number(PEOPLE_B.admin));
    const a: Account = { portalId: PORTAL_A, sim: stack.sim, people: PEOPLE_A, ownDeals: seedDeals(stack.sim, '71000', 'A') };
    const b: Account = { portalId: PORTAL_B, sim: simB, people: PEOPLE_B, ownDeals: seedDeals(simB, '72000', 'B') };
    const sb = simB;
    return {
      stack,
      a,
      b,
      async settle(timeoutMs = 30_000) {
        await sb.webhooks.idle(timeoutMs);
        await stack.settle({ timeoutMs });
        await sb.webhooks.idle(timeoutMs);
        await stack.settle({ timeoutMs });
      },
      async stop() {
        await stack.stop();
        await sb.stop();
        await router.close();
      },
    };
  } catch (error) {
    await stack.stop();
    await simB?.stop();
    await router.close();
    throw error;
  }
}

/**
 * Every row of every table of the service's database (SQLite's file or PostgreSQL's database,
 * `env` as the stack's databaseEnv), in a stable order (for before/after comparisons on the same
 * engine), leaving out the tables named in `except`. Rows are ordered by all their columns, which
 * also works for WITHOUT ROWID tables.
 */
export async function databaseRows(env: Readonly<Record<string, string>>, portalId?: number, except: readonly string[] = []): Promise<Record<string, unknown[]>> {
  const db = await openDatabaseReader(env);
  try {
    const rows: Record<string, unknown[]> = {};
    for (const name of await db.tables()) {
      if (except.includes(name)) continue;
      const columns = await db.columns(name);
      const order = columns.map((c) => `"${c}"`).join(', ');
      if (portalId !== undefined) {
        if (!columns.includes('portal_id')) continue;
        rows[name] = await db.rows(`SELECT * FROM "${name}" WHERE portal_id = ? ORDER BY ${order}`, [portalId]);
      } else {
        rows[name] = await db.rows(`SELECT * FROM "${name}" ORDER BY ${order}`);
      }
    }
    return rows;
  } finally {
    await db.close();
  }
}

/** What HubSpot (one simulator) holds for Dealgate's purposes: deals with their properties, stage history, notes, tasks. */
export function crmRecord(sim: Simulator): unknown {
  return sim
    .deals()
    .sort((x, y) => x.id.localeCompare(y.id))
    .map((deal) => ({
      deal,
      stages: sim.dealHistory(deal.id, 'dealstage'),
      notes: sim.notesForDeal(deal.id),
      tasks: sim.tasksForDeal(deal.id),
    }));
}

/** A card request signed as hubspot.fetch signs it, by `userId` of `portalId`. */
export function card<T = unknown>(world: TwoAccounts, portalId: number, userId: string, method: CardRequest['method'], path: string, body?: unknown): Promise<CardResponse<T>> {
  return cardRequest<T>(world.stack.url, world.stack.clientSecret, { method, path: `/api/v1${path}`, userId, portalId, ...(body !== undefined ? { body } : {}) });
}

export interface AccountData {
  /** Deals moved past the gate (reverted, noted, a violation each). */
  violated: string[];
  /** Review ids by deal: pending ones and one approved. */
  pendingReviews: number[];
  approvedReview: number;
  threshold: number;
}

/**
 * Gives an account data of every kind: its admin saves its own settings (its own people, its own
 * threshold), its rep moves deals past the gate (reverts, notes, violations, outbox and inbox
 * rows) and requests reviews, its reviewer approves one.
 */
export async function populate(world: TwoAccounts, account: Account, threshold: number): Promise<AccountData> {
  const { people, portalId } = account;
  const expectOk = <T>(what: string, r: CardResponse<T>): T => {
    if (r.status >= 300) throw new Error(`${what} in account ${portalId} answered ${r.status}: ${JSON.stringify(r.json)}`);
    return r.json;
  };
  const current = expectOk('GET /settings', await card<{ settings: Record<string, unknown> }>(world, portalId, people.admin, 'GET', '/settings'));
  expectOk(
    'PUT /settings',
    await card(world, portalId, people.admin, 'PUT', '/settings', {
      ...current.settings,
      valueThreshold: threshold,
      reviewers: [people.reviewer],
      admins: [people.admin],
      escalationReviewer: null,
      capacity: { engineerWeeksPerQuarter: 40, commitmentShare: 0.5 },
    }),
  );
  const [d1, d2, d3, d4, d5] = account.ownDeals as [string, string, string, string, string];
  const violated = [d1, d2, SHARED_DEAL_ID];
  account.sim.moveDealsToStage(violated, 'closedwon', { userId: Number(people.rep) });
  await world.settle();
  const reviewOf = async (dealId: string): Promise<number> => {
    const review = await world.stack.store.reviews.latestForDeal(portalId, dealId);
    if (!review) throw new Error(`no review of deal ${dealId} in account ${portalId}`);
    return review.id;
  };
  for (const dealId of [d3, d4, d5, SHARED_DEAL_ID]) {
    expectOk('POST /reviews', await card(world, portalId, people.rep, 'POST', `/deals/${dealId}/reviews`, { summary: `Custom SSO for ${dealId}`, effortWeeks: 2 }));
  }
  const approvedReview = await reviewOf(d3);
  expectOk('POST /decision', await card(world, portalId, people.reviewer, 'POST', `/reviews/${approvedReview}/decision`, { outcome: 'yes', note: 'fits' }));
  await world.settle();
  const pendingReviews: number[] = [];
  for (const dealId of [d4, d5, SHARED_DEAL_ID]) pendingReviews.push(await reviewOf(dealId));
  return { violated, pendingReviews, approvedReview, threshold };
}
