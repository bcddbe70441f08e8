import type { Server } from 'node:http';
import { ConfigError, loadConfig, redactDatabaseUrl } from './config/config';
import { createLogger } from './shared/logger';
import { createService, type Service } from './service';

/** Wires the service from validated configuration (createService) and runs it until SIGTERM/SIGINT. */
async function main(): Promise<void> {
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
  // PostgreSQL when DATABASE_URL is set (migrated under an advisory lock), else SQLite at DATABASE_PATH.
  const database = config.databaseUrl !== undefined ? { engine: 'postgres', databaseUrl: redactDatabaseUrl(config.databaseUrl) } : { engine: 'sqlite', databasePath: config.databasePath };
  let service: Service;
  try {
    // Opening the store is all that can fail in createService; the rest is wiring.
    service = await createService(config, { logger });
  } catch (error) {
    // The message of a connection error never holds the URL; the URL is logged redacted.
    logger.fatal({ err: { message: (error as Error).message, code: (error as { code?: unknown }).code }, ...database }, 'cannot open the database');
    process.exit(1);
  }
  const server: Server = service.app.listen(config.port, config.host, () => {
    logger.info(
      { instanceId: config.instanceId, host: config.host, port: config.port, opsRoutes: config.opsToken !== undefined ? 'token' : config.opsLoopback ? 'loopback' : 'closed', publicBaseUrl: config.publicBaseUrl, ...database, reconcileSeconds: config.reconcileSeconds },
      'dealgate listening',
    );
    service.start();
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
      service
        .stop()
        .catch((error: unknown) => logger.error({ err: error }, 'a worker did not stop cleanly'))
        .then(() => service.close())
        .catch((error: unknown) => logger.error({ err: error }, 'the database did not close cleanly'))
        .finally(() => {
          logger.info('stopped');
          process.exit(0);
        });
    });
    server.closeIdleConnections();
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
}

void main();
