import { Client } from '@hubspot/api-client';
import { z } from 'zod';
import type { Clock } from '../shared/clock';
import { decodeEncryptionKey, type Config } from '../config/config';
import { DealgateError } from '../shared/errors';
import type { Logger } from '../shared/logger';
import type { Store } from '../storage/store';
import { createTokenCipher, type TokenCipher } from './tokenCipher';
import { refreshAccessToken, type OAuthTokens } from './tokenEndpoint';

/** Hands out an authenticated HubSpot API client for an account. */
export interface HubSpotClients {
  forPortal(portalId: number): Promise<Client>;
  /**
   * Whether Dealgate holds credentials for this account: installed through OAuth, or the account
   * HUBSPOT_ACCESS_TOKEN belongs to (a static token serves that one account only).
   */
  serves(portalId: number): Promise<boolean>;
}

/**
 * @hubspot/api-client keeps retry and limiter settings in a process-wide singleton, so every
 * client is built with the same settings: no retries inside the client (Dealgate's outbox owns
 * retries, with backoff that respects 429s) and no client-side limiter.
 */
export function buildHubSpotClient(accessToken: string, basePath: string): Client {
  return new Client({ accessToken, basePath, numberOfApiCallRetries: 0 });
}

const accountDetails = z.object({ portalId: z.number().int().positive() });

/** The account a token belongs to (HubSpot's account details answer for OAuth and private-app tokens alike). */
async function accountOfToken(client: Client): Promise<number> {
  const response = await client.apiRequest({ method: 'GET', path: '/account-info/v3/details' });
  if (!response.ok) throw new Error(`HubSpot answered ${response.status} to GET /account-info/v3/details`);
  return accountDetails.parse(await response.json()).portalId;
}

/**
 * Static auth: one access token (HUBSPOT_ACCESS_TOKEN) for the one account that uses the app.
 * Which account that is, is asked of HubSpot once (GET /account-info/v3/details) and kept; a
 * signed request or webhook from any other account is refused rather than served with this
 * account's token (which would show one account's deals to another, or act on the wrong account).
 */
export function staticHubSpotClients(config: Config): HubSpotClients {
  const token = config.hubspot.accessToken;
  const client = token ? buildHubSpotClient(token, config.hubspot.apiBaseUrl) : undefined;
  let owner: Promise<number> | undefined;

  function ownerOfToken(found: Client): Promise<number> {
    if (!owner) {
      owner = accountOfToken(found).catch((error: unknown) => {
        owner = undefined; // asked again at the next contact
        throw new DealgateError('hubspot_unavailable', `could not learn which HubSpot account HUBSPOT_ACCESS_TOKEN belongs to: ${error instanceof Error ? error.message : String(error)}`);
      });
    }
    return owner;
  }

  return {
    serves: async (portalId) => (client ? (await ownerOfToken(client)) === portalId : false),
    async forPortal(portalId) {
      if (!client) {
        throw new DealgateError(
          'forbidden',
          `no HubSpot credentials for account ${portalId}: install the app through /oauth/install or set HUBSPOT_ACCESS_TOKEN`,
        );
      }
      const served = await ownerOfToken(client);
      if (served !== portalId) {
        throw new DealgateError(
          'forbidden',
          `this Dealgate serves HubSpot account ${served} with HUBSPOT_ACCESS_TOKEN; account ${portalId} has not installed it (install it through /oauth/install)`,
        );
      }
      return client;
    },
  };
}

/** What the OAuth clients need from the rest of the service. */
export interface OAuthClientsDeps {
  config: Config;
  store: Store;
  clock: Clock;
  logger: Logger;
  cipher: TokenCipher;
}

/** Refresh this long before HubSpot's expiry (tokens live 30 minutes), so no call goes out with a dying token. */
export const REFRESH_MARGIN_MS = 5 * 60 * 1000;

export interface OAuthHubSpotClients extends HubSpotClients {
  /** Stores an account's tokens (encrypted) after an install. */
  saveTokens(portalId: number, tokens: OAuthTokens, scopes: string[]): Promise<void>;
}

/**
 * OAuth: each installed account has its own tokens, stored encrypted in `accounts` and refreshed
 * shortly before they expire (one refresh at a time per account). An account that never installed
 * falls back to HUBSPOT_ACCESS_TOKEN when that is the account's own token, so a single static
 * account keeps working; any other account must install.
 */
export function oauthHubSpotClients(deps: OAuthClientsDeps): OAuthHubSpotClients {
  const { config, store, clock, cipher } = deps;
  const clientId = config.hubspot.clientId;
  if (!clientId) throw new Error('oauthHubSpotClients needs HUBSPOT_CLIENT_ID');
  const app = { clientId, clientSecret: config.hubspot.clientSecret, apiBaseUrl: config.hubspot.apiBaseUrl };
  const fallback = staticHubSpotClients(config);
  const built = new Map<number, { accessToken: string; client: Client }>();
  const refreshing = new Map<number, Promise<string>>();

  async function saveTokens(portalId: number, tokens: OAuthTokens, scopes: string[]): Promise<void> {
    const now = clock.now();
    // Read and write in one transaction: the install callback and a token refresh may save at once.
    await store.transaction(async () => {
      const existing = await store.accounts.get(portalId);
      await store.accounts.upsert({
        portalId,
        authMode: 'oauth',
        accessTokenEnc: cipher.encrypt(tokens.accessToken, portalId),
        refreshTokenEnc: cipher.encrypt(tokens.refreshToken, portalId),
        tokenExpiresAt: tokens.expiresAt,
        scopes: scopes.length > 0 ? scopes.join(' ') : existing?.scopes ?? null,
        installedAt: existing?.installedAt ?? now,
        provisionedAt: existing?.provisionedAt ?? null,
        updatedAt: now,
      });
    });
  }

  async function refresh(portalId: number, refreshTokenEnc: string): Promise<string> {
    const tokens = await refreshAccessToken(app, cipher.decrypt(refreshTokenEnc, portalId), clock.now());
    await saveTokens(portalId, tokens, []);
    deps.logger.info({ portalId, expiresAt: new Date(tokens.expiresAt).toISOString() }, 'refreshed the HubSpot access token');
    return tokens.accessToken;
  }

  async function accessToken(portalId: number): Promise<string | undefined> {
    const account = await store.accounts.get(portalId);
    if (!account || account.authMode !== 'oauth' || !account.accessTokenEnc || !account.refreshTokenEnc) return undefined;
    if (account.tokenExpiresAt !== null && account.tokenExpiresAt - clock.now() > REFRESH_MARGIN_MS) {
      return cipher.decrypt(account.accessTokenEnc, portalId);
    }
    let pending = refreshing.get(portalId);
    if (!pending) {
      pending = refresh(portalId, account.refreshTokenEnc).finally(() => refreshing.delete(portalId));
      refreshing.set(portalId, pending);
    }
    return pending;
  }

  return {
    saveTokens,
    async serves(portalId) {
      const account = await store.accounts.get(portalId);
      if (account?.authMode === 'oauth' && account.refreshTokenEnc) return true;
      return fallback.serves(portalId);
    },
    async forPortal(portalId) {
      const token = await accessToken(portalId);
      if (token === undefined) return fallback.forPortal(portalId);
      const cached = built.get(portalId);
      if (cached && cached.accessToken === token) return cached.client;
      const client = buildHubSpotClient(token, config.hubspot.apiBaseUrl);
      built.set(portalId, { accessToken: token, client });
      return client;
    },
  };
}

/** The clients main() uses: OAuth when HUBSPOT_CLIENT_ID is set (static token as fallback), else the static token. */
export function hubSpotClientsFor(deps: Omit<OAuthClientsDeps, 'cipher'>): HubSpotClients | OAuthHubSpotClients {
  if (!deps.config.hubspot.clientId) return staticHubSpotClients(deps.config);
  const key = deps.config.tokenEncryptionKey ? decodeEncryptionKey(deps.config.tokenEncryptionKey) : undefined;
  if (!key) throw new Error('DEALGATE_TOKEN_ENCRYPTION_KEY is required when HUBSPOT_CLIENT_ID is set (OAuth mode)');
  return oauthHubSpotClients({ ...deps, cipher: createTokenCipher(key) });
}
