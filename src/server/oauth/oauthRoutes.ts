import { createHmac, randomBytes } from 'node:crypto';
import { Router } from 'express';
import jwt from 'jsonwebtoken';
import { z } from 'zod';
import type { Clock } from '../clock';
import type { Config } from '../config/config';
import { DealgateError, invalidRequest, notFound } from '../errors';
import type { Logger } from '../logger';
import type { HubSpotClients, OAuthHubSpotClients } from '../hubspot/clients';
import { classifyHubSpotError } from '../hubspot/gateway';
import { validate } from '../http/validate';
import appMeta from '../../app/app-hsmeta.json';
import { describeAccessToken, exchangeAuthorizationCode } from './tokenEndpoint';

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

const STATE_AUDIENCE = 'dealgate:oauth-state';

export interface OAuthRouteDeps {
  config: Config;
  clock: Clock;
  logger: Logger;
  hubspot: HubSpotClients;
  /** First contact with the account: properties and pipelines. A failure here does not undo the install. */
  onInstalled?: (portalId: number) => Promise<void>;
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

export function authorizeUrl(config: Config, clientId: string, now: number): string {
  const state = jwt.sign({ nonce: randomBytes(16).toString('base64url'), iat: Math.floor(now / 1000) }, stateKey(config.hubspot.clientSecret), {
    algorithm: 'HS256',
    audience: STATE_AUDIENCE,
    expiresIn: STATE_TTL_SECONDS,
  });
  const scopes = installScopes();
  const url = new URL(HUBSPOT_AUTHORIZE_URL);
  url.searchParams.set('client_id', clientId);
  url.searchParams.set('redirect_uri', config.publicBaseUrl + CALLBACK_PATH);
  url.searchParams.set('scope', scopes.required.join(' '));
  if (scopes.optional.length > 0) url.searchParams.set('optional_scope', scopes.optional.join(' '));
  url.searchParams.set('state', state);
  return url.toString();
}

export function verifyState(config: Config, state: string, now: number): boolean {
  try {
    jwt.verify(state, stateKey(config.hubspot.clientSecret), {
      algorithms: ['HS256'],
      audience: STATE_AUDIENCE,
      clockTimestamp: Math.floor(now / 1000),
    });
    return true;
  } catch {
    return false;
  }
}

const callbackQuery = z.union([
  z.looseObject({ code: z.string().min(1).max(2000), state: z.string().min(1).max(2000) }),
  z.looseObject({ error: z.string().max(200), error_description: z.string().max(2000).optional() }),
]);

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function oauthRoutes(deps: OAuthRouteDeps): Router {
  const router = Router();
  const { config, clock, logger } = deps;

  function oauthClients(): { clientId: string; clients: OAuthHubSpotClients } {
    const clientId = config.hubspot.clientId;
    if (!clientId || !isOAuthClients(deps.hubspot)) {
      throw notFound('OAuth installs are off: set HUBSPOT_CLIENT_ID and DEALGATE_TOKEN_ENCRYPTION_KEY to turn them on');
    }
    return { clientId, clients: deps.hubspot };
  }

  router.get(INSTALL_PATH, (_req, res) => {
    const { clientId } = oauthClients();
    res.redirect(302, authorizeUrl(config, clientId, clock.now()));
  });

  router.get(CALLBACK_PATH, async (req, res) => {
    const { clientId, clients } = oauthClients();
    const query = validate(callbackQuery, req.query, 'query');
    if ('error' in query) {
      throw invalidRequest(`HubSpot did not authorize the install (${query.error}); start again at ${INSTALL_PATH}`);
    }
    if (typeof query.code !== 'string' || typeof query.state !== 'string') throw invalidRequest('code and state are required');
    if (!verifyState(config, query.state, clock.now())) {
      throw invalidRequest(`the install link is invalid or older than ${STATE_TTL_SECONDS / 60} minutes; start again at ${INSTALL_PATH}`);
    }
    const app = { clientId, clientSecret: config.hubspot.clientSecret, apiBaseUrl: config.hubspot.apiBaseUrl };
    let installed: { portalId: number; scopes: string[] };
    try {
      const tokens = await exchangeAuthorizationCode(app, query.code, config.publicBaseUrl + CALLBACK_PATH, clock.now());
      installed = await describeAccessToken(config.hubspot.apiBaseUrl, tokens.accessToken);
      clients.saveTokens(installed.portalId, tokens, installed.scopes);
    } catch (error) {
      const info = classifyHubSpotError(error);
      if (info.status !== undefined && info.status >= 400 && info.status < 500) {
        throw invalidRequest(`HubSpot refused the authorization code (${info.message}); start again at ${INSTALL_PATH}`);
      }
      throw new DealgateError('hubspot_unavailable', `HubSpot's token endpoint did not answer (${info.message}); try the install again`);
    }
    logger.info({ portalId: installed.portalId, scopes: installed.scopes }, 'account installed');
    if (deps.onInstalled) {
      try {
        await deps.onInstalled(installed.portalId);
      } catch (error) {
        // Provisioning runs again on the account's next webhook or card request.
        logger.warn({ portalId: installed.portalId, err: error }, 'account installed, but provisioning failed; it is retried on first use');
      }
    }
    res
      .status(200)
      .type('html')
      .send(
        `<!doctype html><meta charset="utf-8"><title>Dealgate installed</title>` +
          `<p>Dealgate is installed in HubSpot account ${escapeHtml(String(installed.portalId))}. You can close this page and open a deal in HubSpot.</p>`,
      );
  });

  return router;
}
