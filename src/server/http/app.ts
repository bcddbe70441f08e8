import express, { type Express } from 'express';
import type { Clock } from '../shared/clock';
import type { Config } from '../config/config';
import type { Logger } from '../shared/logger';
import type { Store } from '../storage/store';
import type { HubSpotClients } from '../hubspot/clients';
import { errorHandler, notFoundHandler } from './errorHandler';
import { healthRoutes } from './healthRoutes';
import { CARD_API_PATH, cardApi } from './cardApi';
import type { HubSpotGateway } from '../hubspot/gateway';
import { webhookRoute } from './webhookRoute';
import { oauthRoutes } from './oauthRoutes';
import { opsRoutes } from './opsRoutes';
import type { WorkerOutages } from '../hubspot/accountOutages';

export interface AppDeps {
  config: Config;
  store: Store;
  clock: Clock;
  hubspot: HubSpotClients;
  /** The service's one gateway (createService in service.ts builds it, the workers share it). */
  gateway: HubSpotGateway;
  logger: Logger;
  /** What the routes tell the background work (see workers/background.ts); absent, the routes only store. */
  hooks?: AppHooks;
}

export interface AppHooks {
  /** A webhook batch was stored: the inbox worker can start at once. */
  onWebhookStored?: () => void;
  /** An OAuth install finished: provision the account (properties, pipelines). */
  onInstalled?: (portalId: number) => Promise<void>;
  /** The accounts whose inbox events and outbox effects wait because HubSpot fails for them (for /ops/metrics). */
  outages?: () => WorkerOutages;
}

/** Builds the HTTP app from its dependencies; nothing here reads the environment or global time. */
export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  // Behind a proxy the public URL comes from PUBLIC_BASE_URL, never from Host/X-Forwarded-* headers.
  app.set('trust proxy', false);

  app.use(healthRoutes(deps));
  app.use(webhookRoute({ ...deps, ...(deps.hooks?.onWebhookStored ? { onStored: deps.hooks.onWebhookStored } : {}) }));
  app.use(oauthRoutes({ ...deps, ...(deps.hooks?.onInstalled ? { onInstalled: deps.hooks.onInstalled } : {}) }));
  app.use(opsRoutes({ ...deps, ...(deps.hooks?.outages ? { outages: deps.hooks.outages } : {}) }));
  app.use(CARD_API_PATH, cardApi({ ...deps, servesAccount: (portalId) => deps.hubspot.serves(portalId) }));

  app.use(notFoundHandler);
  app.use(errorHandler(deps.logger));
  return app;
}
