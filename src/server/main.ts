import type { Server } from 'node:http';
import { ConfigError, loadConfig } from './config/config';
import { systemClock } from './clock';
import { createLogger } from './logger';
import { createDb } from './storage/db';
import { createSqliteStore } from './storage/sqliteStore';
import { startWalCheckpointer } from './storage/walCheckpointer';
import { createApp } from './http/app';
import { hubSpotClientsFor } from './hubspot/clients';
import { createBackground } from './workers/background';

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
  // WAL checkpoints in a thread of their own, not inside a webhook's commit (see walCheckpointer.ts).
  const checkpointer = startWalCheckpointer(db, { onError: (message) => logger.warn({ message }, 'WAL checkpoint thread failed; automatic checkpoints continue') });
  // OAuth per account when HUBSPOT_CLIENT_ID is set (the static token, if any, as fallback), else the static token.
  const hubspot = hubSpotClientsFor({ config, store, clock: systemClock, logger });
  const background = createBackground({ config, store, clock: systemClock, logger, hubspot });
  const app = createApp({ config, store, clock: systemClock, hubspot, logger, hooks: background });

  const server: Server = app.listen(config.port, config.host, () => {
    logger.info(
      { host: config.host, port: config.port, opsRoutes: config.opsToken !== undefined ? 'token' : config.opsLoopback ? 'loopback' : 'closed', publicBaseUrl: config.publicBaseUrl, databasePath: config.databasePath, reconcileSeconds: config.reconcileSeconds },
      'dealgate listening',
    );
    background.start();
  });
  server.on('error', (error) => {
    logger.fatal({ err: error }, `cannot listen on ${config.host} port ${config.port}`);
    process.exit(1);
  });

  let stopping = false;
  const shutdown = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down: no new connections, finishing in-flight requests');
    const forceExit = setTimeout(() => {
      logger.warn('in-flight requests and worker rounds did not finish within 10 s; exiting anyway');
      process.exit(1);
    }, 10_000);
    forceExit.unref();
    // Order: no new requests, then the workers (sweeps included) finish their round in flight, then the database closes.
    server.close(() => {
      logger.info('HTTP server closed; stopping the workers');
      background
        .stop()
        .catch((error: unknown) => logger.error({ err: error }, 'a worker did not stop cleanly'))
        .then(() => checkpointer.stop())
        .finally(() => {
          store.close();
          logger.info('stopped');
          process.exit(0);
        });
    });
    server.closeIdleConnections();
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
}

main();
