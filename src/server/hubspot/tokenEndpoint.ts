import { Client } from '@hubspot/api-client';

/**
 * HubSpot's OAuth token endpoint (/oauth/v1/token) and token introspection
 * (/oauth/v1/access-tokens/:token), through the same SDK settings as every other client (see
 * buildHubSpotClient: the SDK keeps retry settings in a process-wide singleton).
 * https://developers.hubspot.com/docs/api/oauth/tokens
 */
export interface OAuthTokens {
  accessToken: string;
  refreshToken: string;
  /** Milliseconds since the epoch. */
  expiresAt: number;
}

export interface OAuthApp {
  clientId: string;
  clientSecret: string;
  apiBaseUrl: string;
}

function anonymousClient(apiBaseUrl: string): Client {
  return new Client({ basePath: apiBaseUrl, numberOfApiCallRetries: 0 });
}

export async function exchangeAuthorizationCode(app: OAuthApp, code: string, redirectUri: string, now: number): Promise<OAuthTokens> {
  const result = await anonymousClient(app.apiBaseUrl).oauth.tokensApi.create(
    'authorization_code',
    code,
    redirectUri,
    app.clientId,
    app.clientSecret,
  );
  return { accessToken: result.accessToken, refreshToken: result.refreshToken, expiresAt: now + result.expiresIn * 1000 };
}

export async function refreshAccessToken(app: OAuthApp, refreshToken: string, now: number): Promise<OAuthTokens> {
  const result = await anonymousClient(app.apiBaseUrl).oauth.tokensApi.create(
    'refresh_token',
    undefined,
    undefined,
    app.clientId,
    app.clientSecret,
    refreshToken,
  );
  // HubSpot keeps the refresh token across refreshes; take a new one if it ever sends one.
  return { accessToken: result.accessToken, refreshToken: result.refreshToken || refreshToken, expiresAt: now + result.expiresIn * 1000 };
}

/** Which account (hub) a fresh access token belongs to, and the scopes it carries. */
export async function describeAccessToken(apiBaseUrl: string, accessToken: string): Promise<{ portalId: number; scopes: string[] }> {
  const info = await anonymousClient(apiBaseUrl).oauth.accessTokensApi.get(accessToken);
  return { portalId: info.hubId, scopes: info.scopes };
}
