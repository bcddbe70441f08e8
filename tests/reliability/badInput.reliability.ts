import fc from 'fast-check';
import { Agent, request as httpRequest } from 'node:http';
import jwt from 'jsonwebtoken';
import type { z } from 'zod';
import { decisionBody, requestReviewBody, settingsBody } from '../../extensions/contract/api';
import { signedHeaders } from '../../src/server/hubspot/signature';
import { authorizeUrl } from '../../src/server/http/oauthRoutes';
import { webhookBatch } from '../../src/server/hubspot/webhookEvent';
import { reportCounts, SEED } from './counts';
import { crmRecord, databaseRows, populate, PORTAL_NEVER_INSTALLED, SHARED_DEAL_ID, startTwoAccounts, type AccountData, type TwoAccounts } from './twoAccounts';

// The signatures of refused card requests are kept (a copy of one is refused as a replay): a
// record of what was sent, not state the bad input changed; so is the readiness probe's write, and
// so are the SLA and sweep workers' renewals of their leases (worker_leases, every round).
const NOT_STATE = ['seen_signatures', 'readiness_probe', 'worker_leases'];

/**
 * The service's rows to compare before and after (all but NOT_STATE), the pipelines cache without
 * the time it was last read: a refused request naming a pipeline or stage the cache lacks (PUT
 * /api/v1/settings) reads HubSpot's pipelines again once the last read is a minute old
 * (PIPELINE_REREAD_MS), which a loaded machine reaches part way through this suite. What was read
 * (every pipeline and stage) is still compared.
 */
async function stateRows(env: Readonly<Record<string, string>>): Promise<Record<string, unknown[]>> {
  const rows = await databaseRows(env, undefined, NOT_STATE);
  return { ...rows, pipelines: (rows.pipelines ?? []).map((row) => ({ ...(row as Record<string, unknown>), fetched_at: 'not compared' })) };
}

/**
 * Bad input: generated malformed requests (fast-check) against every route of the service, with
 * two installed accounts holding data. Each request is broken in one generated way (fuzzed JSON,
 * wrong types, unknown fields, bodies over the 1 MB limit, missing/forged/wrong-secret signatures,
 * tampered bodies or URLs, stale, future, replayed or malformed timestamps, compressed bodies,
 * bad query strings, bad or badly encoded path ids, wrong methods, the other account's deal,
 * review and user ids, forged OAuth states and refused codes, missing or wrong ops tokens).
 * Every answer is below 500; every refusal is a 4xx with `{"error": {"code", "message"}}` and a
 * message; only routes that take no input (health, metrics, the install redirect) may say yes.
 * After each route: the service still answers /healthz and /readyz, every row of the database is
 * as before, both accounts' HubSpot records are as before, and HubSpot was only read.
 */
const RUNS_PER_ROUTE = Number(process.env.RELIABILITY_FUZZ_RUNS ?? 650);
const MB = 1024 * 1024;

interface Raw {
  method: string;
  /** Path and query string as sent. */
  path: string;
  headers: Record<string, string | string[]>;
  body?: Buffer;
}

interface Answer {
  status: number;
  contentType: string;
  text: string;
  location?: string;
}

const agent = new Agent({ keepAlive: true, maxSockets: 4 });

/** Sends exactly these bytes (fetch would refuse a GET body, fix up headers, or decode the path). */
function send(base: string, raw: Raw): Promise<Answer> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    let answered = false;
    const req = httpRequest(
      {
        agent,
        host: url.hostname,
        port: url.port,
        method: raw.method,
        path: raw.path,
        headers: { ...raw.headers, ...(raw.body !== undefined ? { 'content-length': String(raw.body.length) } : {}) },
        timeout: 30_000,
      },
      (res) => {
        answered = true;
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            contentType: String(res.headers['content-type'] ?? ''),
            text: Buffer.concat(chunks).toString('utf8'),
            ...(res.headers.location !== undefined ? { location: res.headers.location } : {}),
          }),
        );
        res.on('error', reject);
      },
    );
    // The service may answer (413, 401) before it has read a large body and close the connection:
    // an error after the answer is not a failure.
    req.on('error', (error) => {
      if (!answered) reject(error);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within 30 s to ${raw.method} ${raw.path}`)));
    req.end(raw.body);
  });
}

const isJson = (text: string): boolean => {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
};

/** Text that is not JSON: random strings, truncated or mangled JSON, very deep nesting. */
const notJson: fc.Arbitrary<string> = fc
  .oneof(
    fc.string({ minLength: 1, maxLength: 200 }),
    fc.json({ maxDepth: 3 }).map((j) => j.slice(0, Math.max(1, j.length - 1)) + '{'),
    fc.json({ maxDepth: 3 }).map((j) => `${j}${j}`),
    fc.constantFrom('{', '[1,2', '{"a":}', 'nul', '\u0000', '{"__proto__":', "{'summary': 'x'}", '{"a":1,}', 'NaN', '[01]'),
    fc.integer({ min: 1_000, max: 200_000 }).map((n) => '['.repeat(n)),
    fc.uint8Array({ minLength: 1, maxLength: 100 }).map((bytes) => Buffer.from(bytes).toString('latin1')),
  )
  .filter((text) => text.trim() !== '' && !isJson(text));

/** A JSON value that `schema` refuses: the valid body with one field replaced, something else entirely, or wrong at the top. */
function wrongTypes<T extends Record<string, unknown>>(valid: T, schema: z.ZodType): fc.Arbitrary<unknown> {
  const fields = Object.keys(valid);
  return fc
    .oneof(
      fc.tuple(fc.constantFrom(...fields), fc.jsonValue({ maxDepth: 2 })).map(([field, value]) => ({ ...valid, [field]: value })),
      fc.constantFrom(...fields).map((field) => Object.fromEntries(Object.entries(valid).filter(([k]) => k !== field))),
      fc.jsonValue({ maxDepth: 3 }),
      fc.array(fc.constant(valid), { minLength: 1, maxLength: 3 }),
      fc.constantFrom(...fields).map((field) => ({ ...valid, [field]: '9'.repeat(400) })),
    )
    .filter((body) => !schema.safeParse(body).success);
}

/** The valid body with fields the (strict) schema does not know. */
function unknownFields<T extends Record<string, unknown>>(valid: T): fc.Arbitrary<unknown> {
  return fc
    .dictionary(
      fc.string({ minLength: 1, maxLength: 20 }).filter((k) => !(k in valid) && k !== '__proto__'),
      fc.jsonValue({ maxDepth: 2 }),
      { minKeys: 1, maxKeys: 4 },
    )
    .map((extra) => ({ ...valid, ...extra }));
}

/** Anything but a valid signature value. */
const forgedSignature = fc.oneof(fc.base64String({ minLength: 4, maxLength: 64 }), fc.string({ maxLength: 60 }), fc.constant(''));
/** Timestamp header values that are not milliseconds. */
const malformedTimestamp = fc.oneof(fc.constantFrom('abc', '-1', '1e12', '17.5', ' ', '0x1F', '99999999999999999'), fc.string({ maxLength: 20 }).filter((s) => !/^\d{1,16}$/.test(s)));
/** More than 5 minutes away. */
const staleOffsetMs = fc.integer({ min: 5 * 60_000 + 1_000, max: 30 * 24 * 3_600_000 });
const hugeSize = fc.integer({ min: MB + 1, max: Math.round(1.3 * MB) });

describe('bad input: generated malformed requests against every route', () => {
  let world: TwoAccounts;
  let dataA: AccountData;
  let dataB: AccountData;
  let dbBefore: Record<string, unknown[]>;
  let crmBefore: unknown[];
  let hubspotLogStart: [number, number];
  const perRoute: Record<string, { requests: number; statuses: Record<string, number>; faults: Record<string, number> }> = {};
  const started = Date.now();

  beforeAll(async () => {
    world = await startTwoAccounts();
    dataA = await populate(world, world.a, 50_000);
    dataB = await populate(world, world.b, 70_000);
    await world.settle();
    dbBefore = await stateRows(world.stack.databaseEnv);
    crmBefore = [crmRecord(world.a.sim), crmRecord(world.b.sim)];
    hubspotLogStart = [world.a.sim.requests.all().length, world.b.sim.requests.all().length];
  });

  afterAll(async () => {
    const total = Object.values(perRoute).reduce((n, r) => n + r.requests, 0);
    reportCounts('bad-input', {
      seed: SEED,
      total,
      seconds: Math.round((Date.now() - started) / 1000),
      perRoute: Object.fromEntries(Object.entries(perRoute).map(([route, r]) => [route, r.requests])),
      statuses: Object.fromEntries(Object.entries(perRoute).map(([route, r]) => [route, r.statuses])),
      faults: Object.values(perRoute).reduce<Record<string, number>>((acc, r) => {
        for (const [fault, n] of Object.entries(r.faults)) acc[fault] = (acc[fault] ?? 0) + n;
        return acc;
      }, {}),
    });
    agent.destroy();
    await world?.stop();
  });

  // ---- building requests -------------------------------------------------------------------

  const base = () => world.stack.url;

  /** HubSpot's hubspot.fetch query for a caller, in HubSpot's order. */
  const callerQuery = (portalId: number | string, userId: string) => `userId=${userId}&userEmail=user${userId}%40example.com&appId=${world.a.sim.appId}&portalId=${portalId}`;

  function signed(method: string, path: string, body: Buffer | undefined, options: { timestamp?: number; secret?: string; signedPath?: string; signedBody?: Buffer } = {}): Record<string, string> {
    return signedHeaders(
      options.secret ?? world.stack.clientSecret,
      { method, uri: base() + (options.signedPath ?? path), body: options.signedBody ?? body ?? Buffer.alloc(0) },
      options.timestamp ?? Date.now(),
    );
  }

  const json = (value: unknown) => Buffer.from(JSON.stringify(value), 'utf8');
  const jsonHeaders = { 'content-type': 'application/json' };

  /** A generated way to break a request, with what the break is called (for the counts). */
  interface Broken {
    fault: string;
    raw: Raw;
  }

  type SignedFault = fc.Arbitrary<Broken>;

  /**
   * The ways to break a HubSpot-signed request (card API and webhooks) whose valid form is
   * `method path` with `body`: everything about the signature and timestamp, plus huge,
   * compressed and wrongly typed bodies, each otherwise signed correctly.
   */
  function signatureFaults(method: string, path: () => string, body: () => Buffer | undefined): SignedFault[] {
    const withBody = (): Record<string, string> => (body() !== undefined ? jsonHeaders : {});
    return [
      fc.constantFrom('no signature', 'no timestamp', 'neither').map((which) => {
        const p = path();
        const b = body();
        const headers: Record<string, string> = { ...withBody(), ...signed(method, p, b) };
        if (which !== 'no timestamp') delete headers['x-hubspot-signature-v3'];
        if (which !== 'no signature') delete headers['x-hubspot-request-timestamp'];
        return { fault: 'unsigned', raw: { method, path: p, headers, ...(b !== undefined ? { body: b } : {}) } };
      }),
      forgedSignature.map((signature) => {
        const p = path();
        const b = body();
        return { fault: 'forged signature', raw: { method, path: p, headers: { ...withBody(), ...signed(method, p, b), 'x-hubspot-signature-v3': signature }, ...(b !== undefined ? { body: b } : {}) } };
      }),
      fc.string({ minLength: 1, maxLength: 40 }).filter((s) => s !== world.stack.clientSecret).map((secret) => {
        const p = path();
        const b = body();
        return { fault: 'wrong secret', raw: { method, path: p, headers: { ...withBody(), ...signed(method, p, b, { secret }) }, ...(b !== undefined ? { body: b } : {}) } };
      }),
      fc.oneof(staleOffsetMs, staleOffsetMs.map((ms) => -ms)).map((offset) => {
        const p = path();
        const b = body();
        return { fault: offset > 0 ? 'replayed (stale timestamp)' : 'future timestamp', raw: { method, path: p, headers: { ...withBody(), ...signed(method, p, b, { timestamp: Date.now() - offset }) }, ...(b !== undefined ? { body: b } : {}) } };
      }),
      malformedTimestamp.map((timestamp) => {
        const p = path();
        const b = body();
        return { fault: 'malformed timestamp', raw: { method, path: p, headers: { ...withBody(), ...signed(method, p, b), 'x-hubspot-request-timestamp': timestamp }, ...(b !== undefined ? { body: b } : {}) } };
      }),
      fc.tuple(fc.string({ minLength: 1, maxLength: 30 }), fc.boolean()).map(([junk, inBody]) => {
        // Signed for one request, sent as another: the body, or the query string (the caller's identity).
        const p = path();
        const b = body() ?? Buffer.alloc(0);
        if (inBody || !p.includes('?')) {
          const sent = Buffer.concat([b, Buffer.from(junk)]);
          return { fault: 'tampered after signing', raw: { method, path: p, headers: { ...jsonHeaders, ...signed(method, p, b, { signedBody: b }) }, body: sent } };
        }
        // Signed for one caller, sent as another (a different user of this account, or the other account).
        const sentPath = junk.length % 2 === 0 ? p.replace(/userId=\d+/, `userId=${world.a.people.rep}1`) : p.replace(/portalId=\d+/, `portalId=${world.b.portalId}`);
        return { fault: 'tampered after signing', raw: { method, path: sentPath, headers: { ...withBody(), ...signed(method, p, body(), { signedPath: p }) }, ...(body() !== undefined ? { body: body() as Buffer } : {}) } };
      }),
      fc.tuple(hugeSize, fc.boolean()).map(([size, sign]) => {
        const p = path();
        const huge = Buffer.from(`{"summary":"${'x'.repeat(size)}"}`);
        return { fault: 'huge body', raw: { method, path: p, headers: { ...jsonHeaders, ...(sign ? signed(method, p, huge) : {}) }, body: huge } };
      }),
      fc.tuple(fc.constantFrom('text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml', 'jsonp'), fc.json({ maxDepth: 2 })).map(([type, text]) => {
        const p = path();
        const b = Buffer.from(text.trim() === '' ? '{}' : text);
        return { fault: 'not JSON content type', raw: { method, path: p, headers: { 'content-type': type, ...signed(method, p, b) }, body: b } };
      }),
      fc.tuple(fc.constantFrom('gzip', 'deflate', 'br', 'compress'), fc.uint8Array({ minLength: 1, maxLength: 200 })).map(([encoding, bytes]) => {
        const p = path();
        const b = Buffer.from(bytes);
        return { fault: 'compressed body', raw: { method, path: p, headers: { ...jsonHeaders, 'content-encoding': encoding, ...signed(method, p, b) }, body: b } };
      }),
      notJson.map((text) => {
        const p = path();
        const b = Buffer.from(text, 'latin1');
        return { fault: 'fuzzed JSON', raw: { method, path: p, headers: { ...jsonHeaders, ...signed(method, p, b) }, body: b } };
      }),
    ];
  }

  /** Correctly signed, with `body` as given (wrong types, unknown fields...). */
  const signedWith = (fault: string, method: string, path: () => string) => (value: unknown) => {
    const p = path();
    const b = json(value);
    return { fault, raw: { method, path: p, headers: { ...jsonHeaders, ...signed(method, p, b) }, body: b } };
  };

  /** Correctly signed, at a path that is broken. */
  const signedPath = (fault: string, method: string, body: () => Buffer | undefined) => (p: string) => {
    const b = body();
    return { fault, raw: { method, path: p, headers: { ...(b !== undefined ? jsonHeaders : {}), ...signed(method, p, b) }, ...(b !== undefined ? { body: b } : {}) } };
  };

  /** The caller's query broken: missing, repeated, non-numeric or too long ids. */
  const badCallerQuery = (): fc.Arbitrary<string> => fc.oneof(
    fc.constant(`userId=${PEOPLE_ADMIN()}&appId=1`),
    fc.constant(`portalId=${PORTAL_A()}`),
    fc.string({ minLength: 1, maxLength: 20 }).filter((s) => !/^\d{1,18}$/.test(s)).map((s) => `userId=${PEOPLE_ADMIN()}&portalId=${encodeURIComponent(s)}`),
    fc.string({ minLength: 1, maxLength: 20 }).filter((s) => !/^\d{1,18}$/.test(s)).map((s) => `userId=${encodeURIComponent(s)}&portalId=${PORTAL_A()}`),
    fc.constant(`userId=${PEOPLE_ADMIN()}&portalId=${PORTAL_A()}&portalId=${PORTAL_B()}`),
    fc.constant(`userId=${PEOPLE_ADMIN()}&userId=1&portalId=${PORTAL_A()}`),
    fc.bigInt({ min: 10n ** 18n, max: 10n ** 30n }).map((n) => `userId=${PEOPLE_ADMIN()}&portalId=${n}`),
    fc.constant(`userId[]=${PEOPLE_ADMIN()}&portalId=${PORTAL_A()}`),
    fc.constant(`userId=${PEOPLE_ADMIN()}&portalId[a]=${PORTAL_A()}`),
  );
  function PEOPLE_ADMIN() {
    return world.a.people.admin;
  }
  function PORTAL_A() {
    return world.a.portalId;
  }
  function PORTAL_B() {
    return world.b.portalId;
  }

  /** Ids that are not HubSpot deal ids (or not encoded as a URL allows). */
  const badDealId = fc.oneof(
    fc.string({ minLength: 1, maxLength: 20 }).filter((s) => !/^\d{1,18}$/.test(s) && s !== '.' && s !== '..').map(encodeURIComponent),
    fc.bigInt({ min: 10n ** 18n, max: 10n ** 40n }).map(String),
    fc.constantFrom('%E0%A4%A', '%ZZ', '%', '12%00', '-5', '1.5', '0x10', '%C0%AE'),
  );
  const badReviewId = fc.oneof(
    fc.string({ minLength: 1, maxLength: 20 }).filter((s) => !/^[1-9]\d{0,14}$/.test(s) && s !== '.' && s !== '..').map(encodeURIComponent),
    fc.constantFrom('0', '-1', '1e3', '1.0', '9999999999999999', '%ZZ', '%E0%A4%A', '00'),
  );

  // ---- the routes ----------------------------------------------------------------------------

  interface RouteCase {
    name: string;
    /** Routes that take no input may answer yes to anything that is not refused for its method or credentials. */
    mayAccept?: (raw: Raw) => boolean;
    arbitrary: () => fc.Arbitrary<Broken>;
  }

  /** A card API route: every signature fault, then the route's own. */
  function cardRoute(name: string, method: string, path: (q: string) => string, body: (() => unknown) | undefined, own: () => fc.Arbitrary<Broken>[]): RouteCase {
    const validPath = () => path(callerQuery(world.a.portalId, world.a.people.admin));
    const validBody = () => (body ? json(body()) : undefined);
    return {
      name,
      arbitrary: () =>
        fc.oneof(
          ...signatureFaults(method, validPath, validBody),
          badCallerQuery().map((q) => signedPath('bad caller query', method, validBody)(path(q))),
          ...own(),
        ),
    };
  }

  const caller = (userId: string) => callerQuery(world.a.portalId, userId);
  const review = () => ({ summary: 'SAML SSO with the customer IdP', effortWeeks: 3 });
  const decision = () => ({ outcome: 'yes', note: 'fits the roadmap' });

  function settings(): Record<string, unknown> {
    return { valueThreshold: 50_000, slaHours: 48, reviewers: [world.a.people.reviewer], admins: [world.a.people.admin], escalationReviewer: null, gateStageLabel: 'Contract Sent', gateStages: {}, capacity: null };
  }

  const routes: RouteCase[] = [
    cardRoute('GET /api/v1/deals/:dealId/gate', 'GET', (q) => `/api/v1/deals/${world.a.ownDeals[5]}/gate?${q}`, undefined, () => [
      badDealId.map((id) => signedPath('bad deal id', 'GET', () => undefined)(`/api/v1/deals/${id}/gate?${caller(world.a.people.rep)}`)),
      fc.constantFrom(...world.b.ownDeals).map((id) => signedPath("other account's deal id", 'GET', () => undefined)(`/api/v1/deals/${id}/gate?${caller(world.a.people.rep)}`)),
    ]),
    cardRoute('POST /api/v1/deals/:dealId/reviews', 'POST', (q) => `/api/v1/deals/${world.a.ownDeals[5]}/reviews?${q}`, review, () => {
      const p = () => `/api/v1/deals/${world.a.ownDeals[5]}/reviews?${caller(world.a.people.rep)}`;
      return [
        wrongTypes(review(), requestReviewBody).map(signedWith('wrong types', 'POST', p)),
        unknownFields(review()).map(signedWith('unknown fields', 'POST', p)),
        badDealId.map((id) => signedPath('bad deal id', 'POST', () => json(review()))(`/api/v1/deals/${id}/reviews?${caller(world.a.people.rep)}`)),
        fc.constantFrom(...world.b.ownDeals).map((id) => signedPath("other account's deal id", 'POST', () => json(review()))(`/api/v1/deals/${id}/reviews?${caller(world.a.people.rep)}`)),
      ];
    }),
    cardRoute('POST /api/v1/reviews/:reviewId/decision', 'POST', (q) => `/api/v1/reviews/${dataA.pendingReviews[0]}/decision?${q.replace(/userId=\d+/, `userId=${world.a.people.reviewer}`).replace(/userEmail=user\d+/, `userEmail=user${world.a.people.reviewer}`)}`, decision, () => {
      const p = () => `/api/v1/reviews/${dataA.pendingReviews[0]}/decision?${caller(world.a.people.reviewer)}`;
      return [
        wrongTypes(decision(), decisionBody).map(signedWith('wrong types', 'POST', p)),
        unknownFields(decision()).map(signedWith('unknown fields', 'POST', p)),
        badReviewId.map((id) => signedPath('bad review id', 'POST', () => json(decision()))(`/api/v1/reviews/${id}/decision?${caller(world.a.people.reviewer)}`)),
        fc.constantFrom(...dataB.pendingReviews, dataB.approvedReview).map((id) => signedPath("other account's review id", 'POST', () => json(decision()))(`/api/v1/reviews/${id}/decision?${caller(world.a.people.reviewer)}`)),
      ];
    }),
    cardRoute('POST /api/v1/reviews/:reviewId/withdraw', 'POST', (q) => `/api/v1/reviews/${dataA.pendingReviews[1]}/withdraw?${q}`, () => ({}), () => {
      const p = () => `/api/v1/reviews/${dataA.pendingReviews[1]}/withdraw?${caller(world.a.people.admin)}`;
      return [
        fc.jsonValue({ maxDepth: 2 }).filter((v) => !(v === null || (typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 0))).map(signedWith('wrong types', 'POST', p)),
        unknownFields({}).map(signedWith('unknown fields', 'POST', p)),
        badReviewId.map((id) => signedPath('bad review id', 'POST', () => undefined)(`/api/v1/reviews/${id}/withdraw?${caller(world.a.people.admin)}`)),
        fc.constantFrom(...dataB.pendingReviews).map((id) => signedPath("other account's review id", 'POST', () => undefined)(`/api/v1/reviews/${id}/withdraw?${caller(world.a.people.admin)}`)),
      ];
    }),
    cardRoute('GET /api/v1/settings', 'GET', (q) => `/api/v1/settings?${q}`, undefined, () => [
      fc.constant(PORTAL_NEVER_INSTALLED).map((portal) => signedPath('account that never installed', 'GET', () => undefined)(`/api/v1/settings?${callerQuery(portal, world.a.people.admin)}`)),
    ]),
    cardRoute('PUT /api/v1/settings', 'PUT', (q) => `/api/v1/settings?${q}`, settings, () => {
      const p = () => `/api/v1/settings?${caller(world.a.people.admin)}`;
      return [
        wrongTypes(settings(), settingsBody).map(signedWith('wrong types', 'PUT', p)),
        unknownFields(settings()).map(signedWith('unknown fields', 'PUT', p)),
        fc.constantFrom(world.b.people.admin, world.b.people.reviewer, world.a.people.rep).map((userId) => signedPath("other account's admin (or a rep)", 'PUT', () => json(settings()))(`/api/v1/settings?${caller(userId)}`)),
        fc.tuple(fc.string({ minLength: 1, maxLength: 12 }), fc.string({ minLength: 1, maxLength: 12 })).map(([pipeline, stage]) =>
          signedWith('gate stage of no pipeline of the account', 'PUT', p)({ ...settings(), gateStages: { [`x${pipeline}`]: stage } }),
        ),
      ];
    }),
    cardRoute('GET /api/v1/dashboard', 'GET', (q) => `/api/v1/dashboard?${q}`, undefined, () => [
      fc.constantFrom(world.b.people.admin, world.b.people.reviewer, world.a.people.rep, world.b.people.rep).map((userId) => signedPath("other account's people (or a rep)", 'GET', () => undefined)(`/api/v1/dashboard?${caller(userId)}`)),
    ]),
    {
      name: 'POST /webhooks/hubspot',
      arbitrary: () => {
        const path = () => '/webhooks/hubspot';
        const event = (dealId: string, portalId = world.a.portalId) => ({
          eventId: 1,
          subscriptionId: 1,
          portalId,
          appId: world.a.sim.appId,
          occurredAt: Date.now(),
          subscriptionType: 'deal.propertyChange',
          attemptNumber: 0,
          objectId: Number(dealId),
          propertyName: 'dealstage',
          propertyValue: 'closedwon',
          changeSource: 'CRM_UI',
          sourceId: `userId:${world.a.people.rep}`,
        });
        // A real-looking batch about the other account's deals, under this account: forged, never signed by HubSpot.
        const valid = () => json([event(world.a.ownDeals[0] as string), ...world.b.ownDeals.map((id) => event(id))]);
        const wrongEvent = wrongTypes(event(world.a.ownDeals[0] as string), webhookBatch.element);
        return fc.oneof(
          ...signatureFaults('POST', path, valid),
          fc.tuple(fc.array(fc.constant(null), { maxLength: 3 }), wrongEvent).map(([pad, bad]) => [...pad.map(() => event(world.a.ownDeals[1] as string)), bad]).map(signedWith('wrong types', 'POST', path)),
          fc.tuple(unknownFields(event(world.a.ownDeals[2] as string)), fc.constantFrom('portalId', 'occurredAt', 'objectId', 'subscriptionType')).map(([e, field]) => [{ ...(e as object), [field]: { nested: true } }]).map(signedWith('unknown fields and a wrong type', 'POST', path)),
          wrongTypes({ batch: [] }, webhookBatch).map((v) => (typeof v === 'object' && v !== null && 'batch' in v ? { events: v } : v)).filter((v) => !webhookBatch.safeParse(v).success).map(signedWith('not a batch', 'POST', path)),
          fc.integer({ min: 201, max: 400 }).map((n) => Array.from({ length: n }, () => event(world.a.ownDeals[3] as string))).map(signedWith('too many events', 'POST', path)),
          fc.integer({ min: 5_000, max: 10_000 }).map((n) => Array.from({ length: n }, () => ({ portalId: world.a.portalId, occurredAt: 1, subscriptionType: 'deal.creation', objectId: 1 }))).map(signedWith('thousands of events', 'POST', path)),
          // Answered 200 before, then unreadable in the inbox (issue 12 #3): an unknown field nested past 16 levels.
          fc.integer({ min: 17, max: 300 }).map((levels) => {
            let deep: unknown = 1;
            for (let i = 0; i < levels; i++) deep = i % 2 ? { k: deep } : [deep];
            return [event(world.a.ownDeals[3] as string), { ...event(world.a.ownDeals[3] as string), eventId: 2, futureField: deep }];
          }).map(signedWith('a field nested too deep', 'POST', path)),
        );
      },
    },
    {
      name: 'GET /oauth/install',
      mayAccept: (raw) => raw.method === 'GET',
      arbitrary: () =>
        fc.oneof(
          fc.constantFrom('POST', 'PUT', 'DELETE', 'PATCH').map((method) => ({ fault: 'wrong method', raw: { method, path: '/oauth/install', headers: {} } })),
          fc.string({ maxLength: 60 }).map((junk) => ({ fault: 'junk query (no input taken)', raw: { method: 'GET', path: `/oauth/install?${encodeURIComponent(junk)}=${encodeURIComponent(junk)}`, headers: {} } })),
        ),
    },
    {
      name: 'GET /oauth/callback',
      arbitrary: () => {
        const realState = () => new URL(authorizeUrl(world.stack.config, world.stack.config.hubspot.clientId ?? '', Date.now())).searchParams.get('state') ?? '';
        const get = (fault: string) => (query: string) => ({ fault, raw: { method: 'GET', path: `/oauth/callback?${query}`, headers: {} } });
        const q = encodeURIComponent;
        return fc.oneof(
          fc.constantFrom('', 'code=abc', `state=${q(realState())}`, 'code=&state=').map(get('missing code or state')),
          fc.tuple(fc.string({ minLength: 1, maxLength: 40 }), fc.string({ minLength: 1, maxLength: 200 })).map(([code, state]) => get('forged state')(`code=${q(code)}&state=${q(state)}`)),
          fc.string({ minLength: 1, maxLength: 40 }).map((code) => {
            const none = jwt.sign({ nonce: 'x' }, '', { algorithm: 'none', audience: 'dealgate:oauth-state' });
            return get('unsigned (alg none) state')(`code=${q(code)}&state=${q(none)}`);
          }),
          fc.string({ minLength: 1, maxLength: 40 }).map((key) => get('state signed with another key')(`code=abc&state=${q(jwt.sign({ nonce: 'x' }, `k${key}`, { algorithm: 'HS256', audience: 'dealgate:oauth-state', expiresIn: 600 }))}`)),
          fc.integer({ min: 11, max: 10_000 }).map((minutes) => {
            const old = new URL(authorizeUrl(world.stack.config, world.stack.config.hubspot.clientId ?? '', Date.now() - minutes * 60_000)).searchParams.get('state') ?? '';
            return get('expired state')(`code=abc&state=${q(old)}`);
          }),
          fc.string({ minLength: 1, maxLength: 60 }).map((code) => get('code HubSpot refuses')(`code=${q(`sim-code-${code}`)}&state=${q(realState())}`)),
          fc.constant(0).map(() => {
            const code = world.a.sim.issueAuthorizationCode({ redirectUri: 'https://elsewhere.example/callback', userId: 1 });
            return get('code issued for another redirect URI')(`code=${q(code)}&state=${q(realState())}`);
          }),
          fc.tuple(fc.string({ maxLength: 30 }), fc.string({ maxLength: 100 })).map(([error, description]) => get('consent refused')(`error=${q(error || 'access_denied')}&error_description=${q(description)}`)),
          fc.constant(0).map(() => get('repeated parameters')(`code=a&code=b&state=${q(realState())}&state=x`)),
          fc.integer({ min: 2_001, max: 6_000 }).map((n) => get('oversized code')(`code=${'c'.repeat(n)}&state=${q(realState())}`)),
          fc.constantFrom('POST', 'PUT', 'DELETE').map((method) => ({ fault: 'wrong method', raw: { method, path: '/oauth/callback?code=a&state=b', headers: {} } })),
        );
      },
    },
    ...opsRoutes(),
    ...healthRoutes(),
  ];

  function opsRoutes(): RouteCase[] {
    const token = () => world.stack.opsToken;
    const badAuth: fc.Arbitrary<Record<string, string>> = fc.oneof(
      fc.constant({}),
      fc.string({ maxLength: 60 }).filter((s) => s !== token()).map((s) => ({ authorization: `Bearer ${s}` })),
      fc.constant(0).map(() => ({ authorization: `Bearer ${token().slice(0, -1)}${token().endsWith('a') ? 'b' : 'a'}` })),
      fc.constant(0).map(() => ({ authorization: `Basic ${Buffer.from(`ops:${token()}`).toString('base64')}` })),
      fc.constant(0).map(() => ({ authorization: token() })),
      fc.constant(0).map(() => ({ 'x-ops-token': token() })),
    );
    const unauthorized = (method: string, path: string) =>
      fc.tuple(badAuth, fc.option(hugeSize, { freq: 8 })).map(([headers, huge]) => ({
        fault: huge === null ? 'missing or wrong ops token' : 'wrong ops token and a huge body',
        raw: { method, path, headers, ...(huge !== null ? { body: Buffer.alloc(huge, 'x') } : {}) },
      }));
    const withToken = (fault: string, method: string) => (path: string) => ({ fault, raw: { method, path, headers: { authorization: `Bearer ${token()}` } } });
    const badListQuery = fc.oneof(
      fc.string({ minLength: 1, maxLength: 12 }).filter((s) => !['pending', 'done', 'parked', 'failed'].includes(s)).map((s) => `status=${encodeURIComponent(s)}`),
      fc.oneof(fc.integer({ max: 0 }), fc.integer({ min: 501 })).map((n) => `limit=${n}`),
      fc.constantFrom('limit=abc', 'limit=1.5', 'portalId=0', 'portalId=-4', 'portalId=abc', 'status=pending&status=done', 'limit=1&limit=2', 'portalId=1e400'),
    );
    return [
      { name: 'GET /ops/metrics', mayAccept: (raw) => raw.method === 'GET' && raw.headers.authorization === `Bearer ${token()}`, arbitrary: () => fc.oneof(unauthorized('GET', '/ops/metrics'), fc.string({ maxLength: 40 }).map((junk) => withToken('junk query (no input taken)', 'GET')(`/ops/metrics?${encodeURIComponent(junk)}=1`)), fc.constantFrom('POST', 'PUT', 'DELETE').map((m) => withToken('wrong method', m)('/ops/metrics'))) },
      { name: 'GET /ops/inbox', arbitrary: () => fc.oneof(unauthorized('GET', `/ops/inbox?portalId=${world.a.portalId}`), badListQuery.map((q) => withToken('bad query', 'GET')(`/ops/inbox?${q}`)), fc.constantFrom('PUT', 'DELETE').map((m) => withToken('wrong method', m)('/ops/inbox'))) },
      {
        name: 'POST /ops/inbox/:id/retry',
        arbitrary: () =>
          fc.oneof(
            unauthorized('POST', '/ops/inbox/1/retry'),
            fc.oneof(fc.string({ minLength: 1, maxLength: 12 }).filter((s) => !/^\d+$/.test(s) && s !== '.' && s !== '..').map(encodeURIComponent), fc.constantFrom('0', '-1', '1.5', '%ZZ', '%E0%A4%A', '1e3')).map((id) => withToken('bad id', 'POST')(`/ops/inbox/${id}/retry`)),
            // Every inbox event is done (none parked): retrying any id is not found.
            fc.integer({ min: 1, max: 2_000_000_000 }).map((id) => withToken('no parked event with that id', 'POST')(`/ops/inbox/${id}/retry`)),
            fc.constantFrom('GET', 'PUT', 'DELETE').map((m) => withToken('wrong method', m)('/ops/inbox/1/retry')),
          ),
      },
      { name: 'GET /ops/outbox', arbitrary: () => fc.oneof(unauthorized('GET', `/ops/outbox?portalId=${world.b.portalId}`), badListQuery.filter((q) => !q.includes('parked')).map((q) => withToken('bad query', 'GET')(`/ops/outbox?${q}`)), fc.constantFrom('PUT', 'DELETE').map((m) => withToken('wrong method', m)('/ops/outbox'))) },
    ];
  }

  function healthRoutes(): RouteCase[] {
    const junk = (path: string) =>
      fc.oneof(
        fc.constantFrom('POST', 'PUT', 'DELETE', 'PATCH').map((method) => ({ fault: 'wrong method', raw: { method, path, headers: {} } })),
        fc.tuple(fc.string({ maxLength: 40 }), fc.option(fc.uint8Array({ maxLength: 2_000 }))).map(([q, body]) => ({
          fault: 'junk query and body (no input taken)',
          raw: { method: 'GET', path: `${path}?${encodeURIComponent(q)}`, headers: { 'content-type': 'application/json' }, ...(body !== null ? { body: Buffer.from(body) } : {}) },
        })),
      );
    return ['/healthz', '/readyz'].map((path) => ({ name: `GET ${path}`, mayAccept: (raw: Raw) => raw.method === 'GET', arbitrary: () => junk(path) }));
  }

  // ---- checking ------------------------------------------------------------------------------

  function expectRefusedWell(route: RouteCase, broken: Broken, answer: Answer): void {
    const context = `${route.name} [${broken.fault}] ${broken.raw.method} ${broken.raw.path.slice(0, 200)} answered ${answer.status}: ${answer.text.slice(0, 300)}`;
    if (answer.status >= 500 || answer.status < 200) throw new Error(`server error or no answer: ${context}`);
    if (answer.status < 400) {
      if (route.mayAccept?.(broken.raw)) return;
      throw new Error(`accepted a malformed request: ${context}`);
    }
    if (!/^application\/json/.test(answer.contentType)) throw new Error(`refusal is not JSON: ${context}`);
    const body = JSON.parse(answer.text) as { error?: { code?: unknown; message?: unknown } };
    if (typeof body.error?.code !== 'string' || body.error.code === '' || typeof body.error.message !== 'string' || body.error.message.trim() === '') {
      throw new Error(`refusal without {"error": {"code", "message"}}: ${context}`);
    }
  }

  /** HubSpot calls made while fuzzing: reads only (looking up a deal that is not there), and refused code exchanges. */
  function hubspotWrites(): string[] {
    const calls = [...world.a.sim.requests.all().slice(hubspotLogStart[0]), ...world.b.sim.requests.all().slice(hubspotLogStart[1])];
    return calls
      .filter((c) => !(c.method === 'GET' || /batch\/read$|\/search$/.test(c.endpoint) || (c.endpoint === 'POST /oauth/v1/token' && c.status === 400)))
      .map((c) => `${c.endpoint} ${c.status}`);
  }

  const routeNames = [
    'GET /api/v1/deals/:dealId/gate',
    'POST /api/v1/deals/:dealId/reviews',
    'POST /api/v1/reviews/:reviewId/decision',
    'POST /api/v1/reviews/:reviewId/withdraw',
    'GET /api/v1/settings',
    'PUT /api/v1/settings',
    'GET /api/v1/dashboard',
    'POST /webhooks/hubspot',
    'GET /oauth/install',
    'GET /oauth/callback',
    'GET /ops/metrics',
    'GET /ops/inbox',
    'POST /ops/inbox/:id/retry',
    'GET /ops/outbox',
    'GET /healthz',
    'GET /readyz',
  ];
  it.each(routeNames)('%s: every malformed request is refused with a 4xx and a clear error, and nothing changes', async (name) => {
    const route = routes.find((r) => r.name === name);
    if (!route) throw new Error(`no generator for ${name}`);
    const tally: { requests: number; statuses: Record<string, number>; faults: Record<string, number> } = { requests: 0, statuses: {}, faults: {} };
    perRoute[name] = tally;
    await fc.assert(
      fc.asyncProperty(route.arbitrary(), async (broken) => {
        const answer = await send(base(), broken.raw);
        tally.requests += 1;
        tally.statuses[answer.status] = (tally.statuses[answer.status] ?? 0) + 1;
        tally.faults[broken.fault] = (tally.faults[broken.fault] ?? 0) + 1;
        expectRefusedWell(route, broken, answer);
      }),
      // One seed per route (RELIABILITY_SEED replays a run).
      { numRuns: RUNS_PER_ROUTE, seed: SEED + routeNames.indexOf(name), endOnFailure: true },
    );
    // Still up, and nothing changed: the database row for row, both accounts' HubSpot records, HubSpot only read.
    expect((await fetch(base() + '/healthz')).status).toBe(200);
    expect((await fetch(base() + '/readyz')).status).toBe(200);
    await world.settle();
    expect(await stateRows(world.stack.databaseEnv)).toEqual(dbBefore);
    expect([crmRecord(world.a.sim), crmRecord(world.b.sim)]).toEqual(crmBefore);
    expect(hubspotWrites()).toEqual([]);
    // Every way of breaking the route was tried.
    expect(Object.keys(tally.faults).length).toBeGreaterThan(1);
  });

  it(`sent at least 10,000 generated requests across every route`, () => {
    const total = Object.values(perRoute).reduce((n, r) => n + r.requests, 0);
    expect(Object.keys(perRoute)).toHaveLength(routes.length);
    expect(total).toBeGreaterThanOrEqual(Math.min(10_000, RUNS_PER_ROUTE * routes.length));
  });

  it('the deal ids named as "the other account\'s" really are the other account\'s', () => {
    for (const id of world.b.ownDeals) {
      expect(world.b.sim.getDeal(id)).toBeDefined();
      expect(world.a.sim.getDeal(id)).toBeUndefined();
    }
    expect(world.a.sim.getDeal(SHARED_DEAL_ID)?.properties.dealname).not.toBe(world.b.sim.getDeal(SHARED_DEAL_ID)?.properties.dealname);
  });
});
