import type { Request, RequestHandler, Response } from 'express';
import { scopeRequirementOf, unmetScopes, type ScopeRequirement } from '../auth/scopes';
import type { AccessGrant, TokenAuthority } from '../auth/tokenAuthority';
import { resolveObjectType } from '../crm/objectTypes';
import { HubSpotError, missingScopes, rateLimited, serverError, validationError } from '../hubspotErrors';
import type { FaultInjector, FaultPlan } from '../traffic/faults';
import type { RollingWindowLimiter } from '../traffic/rateLimiter';
import type { RequestLog } from '../traffic/requestLog';

/**
 * What every API call goes through, in HubSpot's order: (injected faults), authentication (401),
 * the token's scopes against src/simulator/auth/scopes.ts (403 MISSING_SCOPES), the rolling rate
 * limit (429; search endpoints also their own per-second limit), then the handler; every answer is
 * logged under its endpoint with the scopes it required. (Whether HubSpot checks scopes before or
 * after counting a call against the limit is unconfirmed; here a refused call does not count.)
 */
export interface TrafficControls {
  auth: TokenAuthority;
  limiter: RollingWindowLimiter;
  /** The search endpoints' per-second limit per account (5 in HubSpot). */
  searchLimiter: RollingWindowLimiter;
  faults: FaultInjector;
  log: RequestLog;
  /** Requests held by a hang fault (or their answers, by holdNextAnswer), released (destroyed) when the simulator stops. */
  held: Set<Response>;
  now: () => number;
}

export interface ApiCall {
  params: Record<string, string>;
  query: Request['query'];
  /** Parsed JSON, or the form fields of a form post; undefined without a body. */
  body: unknown;
  /** The caller's token; absent on public routes (OAuth). */
  grant?: AccessGrant;
}

export interface ApiResult {
  status: number;
  body?: unknown;
}

export type ApiHandler = (call: ApiCall) => ApiResult;

export interface RouteOptions {
  /** No token needed, no scope and no rate limit (the OAuth endpoints). */
  public?: boolean;
  /** Also counts against the search endpoints' per-second limit. */
  search?: boolean;
}

/** `PATCH /crm/v3/objects/deals/{objectId}` from the route and its parameters. */
export function endpointOf(req: Request): string {
  const routePath = typeof req.route?.path === 'string' ? req.route.path : req.path;
  const path = routePath.replace(/:(\w+)/g, (_match: string, name: string) => {
    const value = req.params[name];
    if ((name === 'objectType' || name === 'toObjectType') && typeof value === 'string') return resolveObjectType(value) ?? value;
    return `{${name}}`;
  });
  return `${req.method} ${path}`;
}

function parseBody(req: Request): unknown {
  const raw: unknown = req.body;
  if (!Buffer.isBuffer(raw) || raw.length === 0) return undefined;
  const text = raw.toString('utf8');
  const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  if (type === 'application/x-www-form-urlencoded') return Object.fromEntries(new URLSearchParams(text));
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw validationError(`Invalid input JSON on line 1: ${(error as Error).message}`);
  }
}

function sendJson(res: Response, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.destroyed || res.headersSent) return;
  res.set(headers);
  if (body === undefined) {
    res.status(status).end();
    return;
  }
  res.status(status).type('application/json;charset=utf-8').send(JSON.stringify(body));
}

function wait(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** What the request log records of a call besides its request line, learnt as the call goes through. */
interface CallFacts {
  appId?: number;
  batchSize?: number;
  requiredScopes?: ScopeRequirement;
}

/** Logs the call under its endpoint once its answer is sent, with the facts gathered by then. */
function logWhenFinished(controls: TrafficControls, req: Request, res: Response, endpoint: string): CallFacts {
  const startedAt = controls.now();
  const began = Date.now();
  const facts: CallFacts = {};
  res.on('finish', () => {
    controls.log.record({
      at: startedAt,
      method: req.method,
      url: req.originalUrl,
      endpoint,
      status: res.statusCode,
      durationMs: Date.now() - began,
      ...(facts.appId !== undefined ? { appId: facts.appId } : {}),
      ...(facts.batchSize !== undefined ? { batchSize: facts.batchSize } : {}),
      ...(facts.requiredScopes !== undefined ? { requiredScopes: facts.requiredScopes } : {}),
    });
  });
  return facts;
}

function simulatedFailure(fail: NonNullable<FaultPlan['fail']>): HubSpotError {
  return fail.status === 429 ? rateLimited(fail.policy, `publicapi:simulated`) : serverError(fail.status);
}

/** Injected latency and hangs, before the call is handled; false when the call hangs for good (answered never; destroyed on stop()). */
async function awaitFaults(plan: FaultPlan, controls: TrafficControls, res: Response): Promise<boolean> {
  if (plan.latencyMs > 0) await wait(plan.latencyMs);
  if (plan.hang) {
    controls.held.add(res);
    if (plan.hang.ms === undefined) return false;
    await wait(plan.hang.ms);
    controls.held.delete(res);
  }
  return true;
}

/** The rolling limit per app and account (and the search endpoints' per-second one): the rate headers of an admitted call. */
function takeRateLimit(controls: TrafficControls, grant: AccessGrant, search: boolean): Record<string, string> {
  const group = `publicapi:oauth:${grant.appId}:${grant.portalId}`;
  const searchGroup = `publicapi:search-secondly:${grant.portalId}`;
  const searchRefused = search && controls.limiter.peek(group).allowed && !controls.searchLimiter.peek(searchGroup).allowed;
  const decision = searchRefused ? controls.limiter.peek(group) : controls.limiter.take(group);
  const rateHeaders = {
    'X-HubSpot-RateLimit-Interval-Milliseconds': String(decision.windowMs),
    'X-HubSpot-RateLimit-Max': String(decision.limit),
    'X-HubSpot-RateLimit-Remaining': String(decision.remaining),
  };
  if (searchRefused) throw rateLimited('SECONDLY', searchGroup, rateHeaders);
  if (!decision.allowed) throw rateLimited('TEN_SECONDLY_ROLLING', group, rateHeaders);
  if (search) controls.searchLimiter.take(searchGroup);
  return rateHeaders;
}

/** Authentication (401), the object types, the token's scopes (403), then the rate limit (429); public routes skip all of it. */
function admit(controls: TrafficControls, req: Request, endpoint: string, options: RouteOptions, facts: CallFacts): { grant?: AccessGrant; rateHeaders: Record<string, string> } {
  if (options.public) return { rateHeaders: {} };
  const grant = controls.auth.authenticate(req.headers.authorization);
  facts.appId = grant.appId;
  for (const name of ['objectType', 'toObjectType']) {
    const raw = (req.params as Record<string, string | undefined>)[name];
    // An object type the simulator does not keep has no scopes to check: HubSpot's 400, as the routes answer it.
    if (raw !== undefined && !resolveObjectType(raw)) throw validationError(`Unable to infer object type from: ${raw}`);
  }
  facts.requiredScopes = scopeRequirementOf(endpoint);
  if (!facts.requiredScopes) throw new Error(`${endpoint} has no entry in src/simulator/auth/scopes.ts: add the scopes HubSpot documents for it`);
  const unmet = unmetScopes(facts.requiredScopes, grant.scopes);
  if (unmet) throw missingScopes(unmet);
  return { grant, rateHeaders: takeRateLimit(controls, grant, options.search === true) };
}

async function answerCall(controls: TrafficControls, handler: ApiHandler, options: RouteOptions, call: { req: Request; res: Response; endpoint: string; facts: CallFacts }): Promise<void> {
  const { req, res, endpoint, facts } = call;
  const plan = controls.faults.plan({ method: req.method, path: req.path, endpoint });
  if (!(await awaitFaults(plan, controls, res))) return;
  if (plan.fail && !plan.fail.applied) throw simulatedFailure(plan.fail);

  const body = parseBody(req);
  const { grant, rateHeaders } = admit(controls, req, endpoint, options, facts);
  const inputs = (body as { inputs?: unknown } | undefined)?.inputs;
  if (Array.isArray(inputs)) facts.batchSize = inputs.length;
  let result: ApiResult;
  try {
    result = handler({ params: req.params as Record<string, string>, query: req.query, body, ...(grant ? { grant } : {}) });
  } finally {
    if (plan.hang) controls.faults.hangHandled();
  }
  // Done, yet answered as a failure (a gateway timing out in front of a HubSpot that finished).
  if (plan.fail?.applied) throw simulatedFailure(plan.fail);
  if (plan.holdAnswer) {
    controls.held.add(res);
    plan.holdAnswer.handled();
    await plan.holdAnswer.released;
    controls.held.delete(res);
  }
  sendJson(res, result.status, result.body, rateHeaders);
}

/** A HubSpotError as HubSpot answers it; anything else is the simulator's own fault, a 500 that says so. */
function sendFailure(res: Response, error: unknown): void {
  if (error instanceof HubSpotError) {
    sendJson(res, error.httpStatus, error.body, error.headers);
    return;
  }
  const failure = serverError(500);
  failure.body.message = `simulator error: ${error instanceof Error ? error.message : String(error)}`;
  sendJson(res, 500, failure.body);
}

export function apiRoute(controls: TrafficControls, handler: ApiHandler, options: RouteOptions = {}): RequestHandler {
  return async (req, res) => {
    const endpoint = endpointOf(req);
    const facts = logWhenFinished(controls, req, res, endpoint);
    try {
      await answerCall(controls, handler, options, { req, res, endpoint, facts });
    } catch (error) {
      sendFailure(res, error);
    }
  };
}

/** Unknown paths: HubSpot answers 404; the message says the simulator does not have it. */
export function unroutedHandler(controls: TrafficControls): RequestHandler {
  return (req, res) => {
    const began = Date.now();
    const error = new HubSpotError(404, {
      status: 'error',
      message: `The simulator does not implement ${req.method} ${req.path}`,
      correlationId: 'simulator',
      category: 'OBJECT_NOT_FOUND',
    });
    sendJson(res, 404, error.body);
    controls.log.record({ at: controls.now(), method: req.method, url: req.originalUrl, endpoint: `${req.method} (unrouted) ${req.path}`, status: 404, durationMs: Date.now() - began });
  };
}
