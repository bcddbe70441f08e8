import { randomBytes } from 'node:crypto';
import { apiSource, integrationSource, type ChangeSource } from '../crm/changeSource';
import { expiredAuthentication, invalidAuthentication, missingAuthentication, oauthError, resourceNotFound } from '../hubspotErrors';

/**
 * Access tokens, authorization codes and refresh tokens, as HubSpot's OAuth server hands them out
 * (https://developers.hubspot.com/docs/api/oauth/tokens): codes are single use and bound to the
 * redirect URI they were issued for; access tokens live 30 minutes; the refresh token stays the
 * same across refreshes. Static tokens (a private app's, or HUBSPOT_ACCESS_TOKEN) never expire.
 */
export interface AccessGrant {
  token: string;
  portalId: number;
  appId: number;
  userId?: number;
  scopes: string[];
  /** Undefined: never expires. */
  expiresAt?: number;
  /** How changes made with this token show in history and webhooks. */
  source: ChangeSource;
}

export interface IssueTokenOptions {
  /** Seconds until it expires; omit for a token that never expires (static auth). */
  expiresInSeconds?: number;
  /** The app the token belongs to; defaults to the simulator's app. Another id acts as another integration. */
  appId?: number;
  /** `API` makes changes show as plain API calls instead of an integration's. */
  sourceType?: 'INTEGRATION' | 'API';
  scopes?: string[];
  userId?: number;
  /** Use this exact token string. */
  token?: string;
}

export interface TokenResponse {
  token_type: 'bearer';
  access_token: string;
  refresh_token: string;
  expires_in: number;
}

/** What /oauth/v1/access-tokens/{token} answers. */
export interface AccessTokenInfo {
  token: string;
  user: string;
  hub_domain: string;
  scopes: string[];
  hub_id: number;
  app_id: number;
  expires_in: number;
  user_id: number;
  token_type: 'access';
}

interface AuthorizationCode {
  redirectUri: string;
  userId: number;
  scopes: string[];
  expiresAt: number;
}

interface RefreshGrant {
  userId: number;
  scopes: string[];
}

export interface TokenAuthorityOptions {
  portalId: number;
  appId: number;
  clientId: string;
  clientSecret: string;
  accessTokenTtlSeconds: number;
  defaultScopes: string[];
  now: () => number;
  /** The email of a user id, for token introspection. */
  emailOf: (userId: number) => string | undefined;
}

const CODE_TTL_MS = 10 * 60 * 1000;

function opaque(prefix: string): string {
  return `${prefix}${randomBytes(24).toString('base64url')}`;
}

export class TokenAuthority {
  private readonly access = new Map<string, AccessGrant>();
  private readonly codes = new Map<string, AuthorizationCode>();
  private readonly refresh = new Map<string, RefreshGrant>();

  constructor(private readonly options: TokenAuthorityOptions) {}

  issueAccessToken(issue: IssueTokenOptions = {}): string {
    const token = issue.token ?? opaque('sim-pat-');
    const appId = issue.appId ?? this.options.appId;
    this.access.set(token, {
      token,
      portalId: this.options.portalId,
      appId,
      ...(issue.userId !== undefined ? { userId: issue.userId } : {}),
      scopes: issue.scopes ?? this.options.defaultScopes,
      ...(issue.expiresInSeconds !== undefined ? { expiresAt: this.options.now() + issue.expiresInSeconds * 1000 } : {}),
      source: issue.sourceType === 'API' ? apiSource() : integrationSource(appId),
    });
    return token;
  }

  /** The one-time code HubSpot sends to the app's redirect URI after the installer consents. */
  issueAuthorizationCode(grant: { redirectUri: string; userId: number; scopes?: string[] }): string {
    const code = opaque('sim-code-');
    this.codes.set(code, {
      redirectUri: grant.redirectUri,
      userId: grant.userId,
      scopes: grant.scopes ?? this.options.defaultScopes,
      expiresAt: this.options.now() + CODE_TTL_MS,
    });
    return code;
  }

  /** Makes a token expire now (tests of the refresh path). */
  expire(token: string): void {
    const grant = this.access.get(token);
    if (grant) grant.expiresAt = this.options.now() - 1;
  }

  /** POST /oauth/v1/token with a form body. */
  exchange(form: Record<string, string | undefined>): TokenResponse {
    if (form.client_id !== this.options.clientId) throw oauthError('BAD_CLIENT_ID', 'missing or invalid client id');
    if (form.client_secret !== this.options.clientSecret) throw oauthError('BAD_CLIENT_SECRET', 'missing or invalid client secret');
    if (form.grant_type === 'authorization_code') {
      const code = form.code ? this.codes.get(form.code) : undefined;
      if (!form.code || !code || code.expiresAt < this.options.now()) throw oauthError('BAD_AUTH_CODE', 'missing or unknown auth code');
      if (form.redirect_uri !== code.redirectUri) throw oauthError('BAD_REDIRECT_URI', 'redirect_uri does not match the one of the authorization request');
      this.codes.delete(form.code);
      const refreshToken = opaque('sim-rt-');
      this.refresh.set(refreshToken, { userId: code.userId, scopes: code.scopes });
      return this.grantFor(refreshToken, { userId: code.userId, scopes: code.scopes });
    }
    if (form.grant_type === 'refresh_token') {
      const grant = form.refresh_token ? this.refresh.get(form.refresh_token) : undefined;
      if (!form.refresh_token || !grant) throw oauthError('BAD_REFRESH_TOKEN', 'missing or invalid refresh token');
      return this.grantFor(form.refresh_token, grant);
    }
    throw oauthError('BAD_GRANT_TYPE', `unsupported grant_type: ${form.grant_type ?? '(none)'}`);
  }

  /** The Authorization header of an API call; HubSpot's 401 bodies for missing, unknown and expired tokens. */
  authenticate(authorization: string | undefined): AccessGrant {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
    if (!match) throw missingAuthentication();
    const grant = this.access.get(match[1]!);
    if (!grant) throw invalidAuthentication();
    const now = this.options.now();
    if (grant.expiresAt !== undefined && grant.expiresAt <= now) throw expiredAuthentication(now - grant.expiresAt);
    return grant;
  }

  /** GET /oauth/v1/access-tokens/{token}. */
  describe(token: string): AccessTokenInfo {
    const grant = this.access.get(token);
    const now = this.options.now();
    if (!grant || (grant.expiresAt !== undefined && grant.expiresAt <= now)) throw resourceNotFound('The access token is expired or invalid');
    const userId = grant.userId ?? 0;
    return {
      token,
      user: this.options.emailOf(userId) ?? 'installer@simulator.invalid',
      hub_domain: `sim-${grant.portalId}.hubspot.invalid`,
      scopes: grant.scopes,
      hub_id: grant.portalId,
      app_id: grant.appId,
      expires_in: grant.expiresAt === undefined ? 0 : Math.floor((grant.expiresAt - now) / 1000),
      user_id: userId,
      token_type: 'access',
    };
  }

  private grantFor(refreshToken: string, grant: RefreshGrant): TokenResponse {
    const ttl = this.options.accessTokenTtlSeconds;
    const accessToken = this.issueAccessToken({ expiresInSeconds: ttl, userId: grant.userId, scopes: grant.scopes, token: opaque('sim-at-') });
    return { token_type: 'bearer', access_token: accessToken, refresh_token: refreshToken, expires_in: ttl };
  }
}
