import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { Router, type Request, type Response } from 'express';
import jwt from 'jsonwebtoken';
import { z } from 'zod';
import type { Clock } from '../shared/clock';
import type { Config } from '../config/config';
import { DealgateError, invalidRequest, notFound } from '../shared/errors';
import { errorBody, httpStatusOf } from './errorHandler';
import type { Logger } from '../shared/logger';
import type { HubSpotClients, OAuthHubSpotClients } from '../hubspot/clients';
import { classifyHubSpotError } from '../hubspot/gateway';
import { validate } from '../shared/validation';
import type { Store } from '../storage/store';
import appMeta from '../../app/app-hsmeta.json';
import { describeAccessToken, exchangeAuthorizationCode, type OAuthTokens } from '../hubspot/tokenEndpoint';

/**
 * Multi-account installs: https://developers.hubspot.com/docs/api/oauth-quickstart-guide
 * GET /oauth/install sends the installer to HubSpot's consent screen; HubSpot sends them back to
 * GET /oauth/callback with a one-time code, which we exchange for the account's tokens.
 */
export const HUBSPOT_AUTHORIZE_URL = 'https://app.hubspot.com/oauth/authorize';
export const INSTALL_PATH = '/oauth/install';
export const CALLBACK_PATH = '/oauth/callback';
/** The consent screen should not take longer than this; an older state is refused. */
export const STATE_TTL_SECONDS = 10 * 60;
/**
 * The cookie that binds a state to the browser that asked for it: set at /oauth/install, sent back
 * by that browser only (HttpOnly, SameSite=Lax: HubSpot's redirect back is a top-level GET, so the
 * cookie comes with it), cleared at the callback.
 */
export const STATE_COOKIE = 'dealgate_oauth_state';
/** How long the callback waits for HubSpot's token endpoint (the exchange and the token's description together). */
export const TOKEN_EXCHANGE_TIMEOUT_MS = 15_000;

const STATE_AUDIENCE = 'dealgate:oauth-state';

export interface OAuthRouteDeps {
  config: Config;
  clock: Clock;
  logger: Logger;
  hubspot: HubSpotClients;
  /** Where used states are kept (single-use across restarts and instances). */
  store: Pick<Store, 'oauthStates'>;
  /** First contact with the account: properties and pipelines. A failure here does not undo the install. */
  onInstalled?: (portalId: number) => Promise<void>;
  /** Default TOKEN_EXCHANGE_TIMEOUT_MS; also how long the answer waits for provisioning (which goes on after). */
  tokenTimeoutMs?: number;
}

export function isOAuthClients(clients: HubSpotClients): clients is OAuthHubSpotClients {
  return typeof (clients as Partial<OAuthHubSpotClients>).saveTokens === 'function';
}

/** The scopes the app asks for are the ones the HubSpot project declares. */
export function installScopes(): { required: string[]; optional: string[] } {
  return { required: [...appMeta.config.auth.requiredScopes], optional: [...appMeta.config.auth.optionalScopes] };
}

/** The state is signed with a key derived from the client secret, never the secret itself. */
function stateKey(clientSecret: string): Buffer {
  return createHmac('sha256', clientSecret).update('dealgate oauth state v1').digest();
}

/** What the state carries: `nonce` makes it single-use, `bnd` is the SHA-256 of the browser's cookie. */
interface StateClaims {
  nonce: string;
  bnd: string;
  exp: number;
}

function bindingOf(browserSecret: string): string {
  return createHash('sha256').update(browserSecret, 'utf8').digest('base64url');
}

/** A fresh install: the consent URL, and the secret the browser must hold (its cookie) for the state to count. */
export function startInstall(config: Config, clientId: string, now: number): { url: string; browserSecret: string } {
  const browserSecret = randomBytes(32).toString('base64url');
  const state = jwt.sign(
    { nonce: randomBytes(16).toString('base64url'), bnd: bindingOf(browserSecret), iat: Math.floor(now / 1000) },
    stateKey(config.hubspot.clientSecret),
    { algorithm: 'HS256', audience: STATE_AUDIENCE, expiresIn: STATE_TTL_SECONDS },
  );
  const scopes = installScopes();
  const url = new URL(HUBSPOT_AUTHORIZE_URL);
  url.searchParams.set('client_id', clientId);
  url.searchParams.set('redirect_uri', config.publicBaseUrl + CALLBACK_PATH);
  url.searchParams.set('scope', scopes.required.join(' '));
  if (scopes.optional.length > 0) url.searchParams.set('optional_scope', scopes.optional.join(' '));
  url.searchParams.set('state', state);
  return { url: url.toString(), browserSecret };
}

export function authorizeUrl(config: Config, clientId: string, now: number): string {
  return startInstall(config, clientId, now).url;
}

/** The state's claims when Dealgate signed it and it has not expired; undefined otherwise. */
export function verifyState(config: Config, state: string, now: number): StateClaims | undefined {
  try {
    const claims = jwt.verify(state, stateKey(config.hubspot.clientSecret), {
      algorithms: ['HS256'],
      audience: STATE_AUDIENCE,
      clockTimestamp: Math.floor(now / 1000),
    });
    if (typeof claims !== 'object' || typeof claims.nonce !== 'string' || typeof claims.bnd !== 'string' || typeof claims.exp !== 'number') return undefined;
    return { nonce: claims.nonce, bnd: claims.bnd, exp: claims.exp };
  } catch {
    return undefined;
  }
}

/** Whether the browser's cookie is the one the state was issued to, compared in constant time. */
export function stateBoundTo(claims: StateClaims, browserSecret: string | undefined): boolean {
  if (browserSecret === undefined || browserSecret === '') return false;
  const expected = Buffer.from(claims.bnd, 'utf8');
  const given = Buffer.from(bindingOf(browserSecret), 'utf8');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

function cookieOf(req: Request, name: string): string | undefined {
  for (const part of (req.get('cookie') ?? '').split(';')) {
    const at = part.indexOf('=');
    if (at > 0 && part.slice(0, at).trim() === name) return part.slice(at + 1).trim();
  }
  return undefined;
}

function stateCookie(config: Config, value: string, maxAgeSeconds: number): string {
  const secure = config.publicBaseUrl.startsWith('https://') ? '; Secure' : '';
  // The path the browser sees: behind a proxy PUBLIC_BASE_URL may carry a prefix (`https://host/dealgate`).
  const path = new URL(config.publicBaseUrl + CALLBACK_PATH).pathname;
  return `${STATE_COOKIE}=${value}; Path=${path}; Max-Age=${maxAgeSeconds}; HttpOnly; SameSite=Lax${secure}`;
}

const callbackQuery = z.union([
  z.looseObject({ code: z.string().min(1).max(2000), state: z.string().min(1).max(2000) }),
  z.looseObject({ error: z.string().max(200), error_description: z.string().max(2000).optional() }),
]);

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** HubSpot's `error` values are codes (`access_denied`); anything else is not repeated back. */
const ERROR_CODE = /^[A-Za-z0-9_.-]{1,64}$/;

/** Pages the installing admin reads: never sniffed, never cached (the URL carries a one-time code). */
function pageHeaders(res: Response): void {
  res.set({ 'X-Content-Type-Options': 'nosniff', 'Cache-Control': 'no-store', 'Referrer-Policy': 'no-referrer' });
}

function page(title: string, paragraphs: string[]): string {
  return (
    `<!doctype html><html lang="en"><meta charset="utf-8"><title>${escapeHtml(title)}</title>` +
    `<h1>${escapeHtml(title)}</h1>${paragraphs.map((p) => `<p>${p}</p>`).join('')}</html>`
  );
}

/** A failed install: an HTML page for a browser, the API's error body for anything else. Messages are escaped. */
function sendFailure(req: Request, res: Response, error: DealgateError): void {
  res.status(httpStatusOf(error));
  if (req.accepts(['json', 'html']) === 'html') {
    res
      .type('text/html; charset=utf-8')
      .send(page('Dealgate was not installed', [escapeHtml(error.message), `<a href="${escapeHtml(INSTALL_PATH)}">Start the install again</a>`]));
    return;
  }
  res.json(errorBody(error));
}

export function oauthRoutes(deps: OAuthRouteDeps): Router {
  const router = Router();
  const { config, clock, logger } = deps;
  const timeoutMs = deps.tokenTimeoutMs ?? TOKEN_EXCHANGE_TIMEOUT_MS;

  router.use([INSTALL_PATH, CALLBACK_PATH], (_req, res, next) => {
    pageHeaders(res);
    next();
  });

  router.get(INSTALL_PATH, (_req, res) => {
    const { clientId } = oauthClients(deps);
    const { url, browserSecret } = startInstall(config, clientId, clock.now());
    res.setHeader('Set-Cookie', stateCookie(config, browserSecret, STATE_TTL_SECONDS));
    res.redirect(302, url);
  });

  router.get(CALLBACK_PATH, async (req, res) => {
    const { clientId, clients } = oauthClients(deps);
    let installed: { portalId: number; scopes: string[] };
    try {
      installed = await install(deps, timeoutMs, req, res, clientId, clients);
    } catch (error) {
      if (!(error instanceof DealgateError)) throw error;
      if (httpStatusOf(error) >= 500) logger.warn({ err: error }, 'OAuth install failed');
      sendFailure(req, res, error);
      return;
    }
    logger.info({ portalId: installed.portalId, scopes: installed.scopes }, 'account installed');
    if (deps.onInstalled) await provisionBriefly(logger, timeoutMs, installed.portalId, deps.onInstalled);
    res
      .status(200)
      .type('text/html; charset=utf-8')
      .send(
        `<!doctype html><meta charset="utf-8"><title>Dealgate installed</title>` +
          `<p>Dealgate is installed in HubSpot account ${escapeHtml(String(installed.portalId))}. You can close this page and open a deal in HubSpot.</p>`,
      );
  });

  return router;
}

function oauthClients(deps: OAuthRouteDeps): { clientId: string; clients: OAuthHubSpotClients } {
  const clientId = deps.config.hubspot.clientId;
  if (!clientId || !isOAuthClients(deps.hubspot)) {
    throw notFound('OAuth installs are off: set HUBSPOT_CLIENT_ID and DEALGATE_TOKEN_ENCRYPTION_KEY to turn them on');
  }
  return { clientId, clients: deps.hubspot };
}

/** The callback's checks, then the token exchange: the account installed, or the DealgateError to answer. */
async function install(deps: OAuthRouteDeps, timeoutMs: number, req: Request, res: Response, clientId: string, clients: OAuthHubSpotClients): Promise<{ portalId: number; scopes: string[] }> {
  const { config } = deps;
  const query = validate(callbackQuery, req.query, 'query');
  if ('error' in query) {
    const code = typeof query.error === 'string' && ERROR_CODE.test(query.error) ? ` (${query.error})` : '';
    throw invalidRequest(`HubSpot did not authorize the install${code}; start again at ${INSTALL_PATH}`);
  }
  if (typeof query.code !== 'string' || typeof query.state !== 'string') throw invalidRequest('code and state are required');
  const now = deps.clock.now();
  const claims = verifyState(config, query.state, now);
  if (!claims) {
    throw invalidRequest(`the install link is invalid or older than ${STATE_TTL_SECONDS / 60} minutes; start again at ${INSTALL_PATH}`);
  }
  if (!stateBoundTo(claims, cookieOf(req, STATE_COOKIE))) {
    throw invalidRequest(
      `this install was not started in this browser (its cookie is missing or belongs to another install); start again at ${INSTALL_PATH} in the browser you finish it in`,
    );
  }
  // From here this browser's state is spent, whatever happens (a callback it did not start clears nothing).
  res.setHeader('Set-Cookie', stateCookie(config, '', 0));
  // Spent before HubSpot is called: two callbacks with one state cannot both exchange a code.
  if (!await deps.store.oauthStates.consume(claims.nonce, claims.exp * 1000, now)) {
    throw invalidRequest(`this install link was already used; start again at ${INSTALL_PATH}`);
  }
  const exchanged = await exchangeCode(config, clientId, query.code, now, timeoutMs);
  // Stored before the callback answers or provisions (which reads them); a store that refuses the
  // write fails the callback (500), outside the exchange's own failures: it is not HubSpot failing.
  const { tokens, portalId, scopes } = exchanged;
  await clients.saveTokens(portalId, tokens, scopes);
  return { portalId, scopes };
}

/** The authorization code for the tokens and the account they are for; HubSpot failing or refusing becomes the DealgateError to answer. */
async function exchangeCode(config: Config, clientId: string, code: string, now: number, timeoutMs: number): Promise<{ tokens: OAuthTokens; portalId: number; scopes: string[] }> {
  const app = { clientId, clientSecret: config.hubspot.clientSecret, apiBaseUrl: config.hubspot.apiBaseUrl };
  try {
    return await withTimeout(timeoutMs, async () => {
      const tokens = await exchangeAuthorizationCode(app, code, config.publicBaseUrl + CALLBACK_PATH, now);
      return { tokens, ...(await describeAccessToken(config.hubspot.apiBaseUrl, tokens.accessToken)) };
    });
  } catch (error) {
    if (error instanceof TimedOut) {
      throw new DealgateError(
        'hubspot_unavailable',
        `HubSpot's token endpoint did not answer within ${timeoutMs >= 1000 ? `${Math.round(timeoutMs / 1000)} seconds` : `${timeoutMs} ms`}, so nothing was installed; HubSpot may be having trouble: try the install again at ${INSTALL_PATH} in a few minutes`,
      );
    }
    const info = classifyHubSpotError(error);
    if (info.status !== undefined && info.status >= 400 && info.status < 500) {
      throw invalidRequest(`HubSpot refused the authorization code (${info.message}); start again at ${INSTALL_PATH}`);
    }
    throw new DealgateError('hubspot_unavailable', `HubSpot's token endpoint did not answer (${info.message}); try the install again at ${INSTALL_PATH}`);
  }
}

/** Provisions the new account, but answers the admin after `timeoutMs` at most: it goes on (and is retried on first use). */
async function provisionBriefly(logger: Logger, timeoutMs: number, portalId: number, provision: (portalId: number) => Promise<void>): Promise<void> {
  const running = provision(portalId).catch((error: unknown) => {
    // Provisioning runs again on the account's next webhook or card request.
    logger.warn({ portalId, err: error }, 'account installed, but provisioning failed; it is retried on first use');
  });
  try {
    await withTimeout(timeoutMs, () => running);
  } catch {
    logger.warn({ portalId }, 'account installed; provisioning is still running and goes on in the background');
  }
}

class TimedOut extends Error {}

/** `work`'s result, or a TimedOut after `ms` (the work is not cancelled: its late result is dropped). */
async function withTimeout<T>(ms: number, work: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new TimedOut(`no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work(), deadline]);
  } finally {
    clearTimeout(timer);
  }
}
