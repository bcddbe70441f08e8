import { Client } from '@hubspot/api-client';
import type { Config } from '../config/config';
import { DealgateError } from '../errors';

/** Hands out an authenticated HubSpot API client for an account. */
export interface HubSpotClients {
  forPortal(portalId: number): Promise<Client>;
}

/**
 * @hubspot/api-client keeps retry and limiter settings in a process-wide singleton, so every
 * client is built with the same settings: no retries inside the client (Dealgate's outbox owns
 * retries, with backoff that respects 429s) and no client-side limiter.
 */
export function buildHubSpotClient(accessToken: string, basePath: string): Client {
  return new Client({ accessToken, basePath, numberOfApiCallRetries: 0 });
}

/** Static auth: one access token (HUBSPOT_ACCESS_TOKEN) for the one account that uses the app. */
export function staticHubSpotClients(config: Config): HubSpotClients {
  const token = config.hubspot.accessToken;
  const client = token ? buildHubSpotClient(token, config.hubspot.apiBaseUrl) : undefined;
  return {
    async forPortal(portalId) {
      if (!client) {
        throw new DealgateError(
          'hubspot_unavailable',
          `no HubSpot credentials for account ${portalId}: install the app through /oauth/install or set HUBSPOT_ACCESS_TOKEN`,
        );
      }
      return client;
    },
  };
}
