import express, { type Express } from 'express';
import type { Clock } from '../clock';
import type { Config } from '../config/config';
import type { Logger } from '../logger';
import type { Store } from '../storage/store';
import type { HubSpotClients } from '../hubspot/clients';
import { errorHandler, notFoundHandler } from './errorHandler';
import { healthRoutes } from './healthRoutes';

export interface AppDeps {
  config: Config;
  store: Store;
  clock: Clock;
  hubspot: HubSpotClients;
  logger: Logger;
}

/** Builds the HTTP app from its dependencies; nothing here reads the environment or global time. */
export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  // Behind a proxy the public URL comes from PUBLIC_BASE_URL, never from Host/X-Forwarded-* headers.
  app.set('trust proxy', false);

  app.use(healthRoutes(deps));

  app.use(notFoundHandler);
  app.use(errorHandler(deps.logger));
  return app;
}
