import type { Server } from 'node:http';
import { ConfigError, loadConfig } from './config/config';
import { systemClock } from './clock';
import { createLogger } from './logger';
import { createDb } from './storage/db';
import { createSqliteStore } from './storage/sqliteStore';
import { createApp } from './http/app';
import { staticHubSpotClients } from './hubspot/clients';

/** Wires the service from validated configuration and runs it until SIGTERM/SIGINT. */
function main(): void {
  let config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(error.message + '\n');
      process.exit(1);
    }
    throw error;
  }

  const logger = createLogger({ level: config.logLevel });
  const db = createDb(config.databasePath);
  const store = createSqliteStore(db);
  const hubspot = staticHubSpotClients(config);
  const app = createApp({ config, store, clock: systemClock, hubspot, logger });

  const server: Server = app.listen(config.port, () => {
    logger.info(
      { port: config.port, publicBaseUrl: config.publicBaseUrl, databasePath: config.databasePath },
      'dealgate listening',
    );
  });
  server.on('error', (error) => {
    logger.fatal({ err: error }, `cannot listen on port ${config.port}`);
    process.exit(1);
  });

  let stopping = false;
  const shutdown = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down: no new connections, finishing in-flight requests');
    const forceExit = setTimeout(() => {
      logger.warn('in-flight work did not finish within 10 s; exiting anyway');
      process.exit(1);
    }, 10_000);
    forceExit.unref();
    server.close(() => {
      store.close();
      logger.info('stopped');
      process.exit(0);
    });
    server.closeIdleConnections();
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
}

main();
