import type { Server } from 'node:http';
import { ConfigError, loadConfig, redactDatabaseUrl, type Config } from './config/config';
import { createLogger, type Logger } from './shared/logger';
import { createService, type Service } from './service';
import { systemClock } from './shared/clock';
import { ownSqliteDatabase, SqliteOwnedElsewhereError, type SqliteOwnership } from './workers/sqliteOwnership';

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
  // SQLite serves one process: this one owns the file before it migrates it or listens. It waits for another on the same file to stop
  // (60 s at most), else it exits saying who owns it, the file untouched. Losing the database to another process (this one stalled
  // past its lease) ends this one at once, as a crash would: its calls in flight are recorded as sent, and the new owner looks for
  // them before it tries them again.
  const ownership = config.databaseUrl === undefined ? await ownSqlite(config, logger, () => process.exit(1)) : undefined;
  let service: Service;
  try {
    // Opening (and migrating) the store is all that can fail in createService; the rest is wiring.
    service = await createService(config, { logger });
  } catch (error) {
    // The message of a connection error never holds the URL; the URL is logged redacted.
    logger.fatal({ err: { message: (error as Error).message, code: (error as { code?: unknown }).code }, ...database }, 'cannot open the database');
    await ownership?.release().catch(() => undefined);
    process.exit(1);
  }
  // Migrating blocks the event loop, so the lease was not renewed meanwhile: renewed now, before
  // anything is served or claimed (onLost exits when another process took the file meanwhile).
  if (ownership) await confirmOwnership(ownership, logger);
  // Express 5 calls this back with the error when listening fails: then nothing starts (the 'error' handler below exits).
  const server: Server = service.app.listen(config.port, config.host, (error?: Error) => {
    if (error) return;
    logger.info(
      { instanceId: config.instanceId, host: config.host, port: config.port, opsRoutes: config.opsToken !== undefined ? 'token' : config.opsLoopback ? 'loopback' : 'closed', publicBaseUrl: config.publicBaseUrl, ...database, reconcileSeconds: config.reconcileSeconds },
      'dealgate listening',
    );
    service.start();
  });
  server.on('error', (error) => {
    logger.fatal({ err: error }, `cannot listen on ${config.host} port ${config.port}`);
    void (ownership?.release() ?? Promise.resolve()).catch(() => undefined).finally(() => process.exit(1));
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
        .then(() => ownership?.release())
        .catch((error: unknown) => logger.error({ err: error }, 'giving the SQLite database up failed; the next process takes it over once this one has exited'))
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

/**
 * Renews the SQLite lease after migrating (which blocked its timer), before anything is served or
 * claimed. Another process having taken it ends this one (onLost); a renewal that keeps failing
 * (the file locked past three tries) does too, since this process cannot tell it still owns the file.
 */
async function confirmOwnership(ownership: SqliteOwnership, logger: Logger): Promise<void> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      await ownership.confirm();
      return;
    } catch (error) {
      if (attempt >= 3) {
        logger.fatal({ err: { message: (error as Error).message, code: (error as { code?: unknown }).code } }, 'cannot renew the SQLite ownership after migrating; stopping rather than serving a file this process may no longer own');
        await ownership.release().catch(() => undefined);
        process.exit(1);
      }
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
  }
}

/** Takes the SQLite database for this process, or exits 1 naming the process that has it (or saying why the file cannot be opened). */
async function ownSqlite(config: Config, logger: Logger, onLost: () => void): Promise<SqliteOwnership> {
  const { instanceId, databasePath } = config;
  try {
    return await ownSqliteDatabase(databasePath, { clock: systemClock, logger, instanceId, waitMs: config.sqliteWaitSeconds * 1000, onLost });
  } catch (error) {
    if (error instanceof SqliteOwnedElsewhereError) logger.fatal({ owner: error.owner.holder, databasePath }, error.message);
    else logger.fatal({ err: { message: (error as Error).message, code: (error as { code?: unknown }).code }, engine: 'sqlite', databasePath }, 'cannot open the database');
    process.exit(1);
  }
}

void main();
