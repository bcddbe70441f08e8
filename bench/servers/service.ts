/**
 * The service wired exactly as src/server/main.ts wires it (same config from the environment,
 * SQLite, HubSpot clients, background workers, createApp), with one difference a benchmark needs:
 * the workers' HubSpot budget (the rate governor, 90 requests per 10 s per account in production)
 * comes from BENCH_HUBSPOT_PER_10S, for benchmarks that measure reaction time rather than the API
 * budget (the simulator's limit is lifted for those too). Prints `ready` once it listens.
 */
import { loadConfig } from '../../src/server/config/config';
import { systemClock } from '../../src/server/shared/clock';
import { createLogger } from '../../src/server/shared/logger';
import { createDb } from '../../src/server/storage/db';
import { createSqliteStore } from '../../src/server/storage/sqliteStore';
import { startWalCheckpointer } from '../../src/server/storage/walCheckpointer';
import { createApp } from '../../src/server/http/app';
import { hubSpotClientsFor } from '../../src/server/hubspot/clients';
import { createBackground } from '../../src/server/workers/background';
import { DEFAULT_RATE } from '../../src/server/hubspot/rateGovernor';

const config = loadConfig(process.env);
const budget = Number(process.env.BENCH_HUBSPOT_PER_10S ?? DEFAULT_RATE.requestsPerWindow);
const logger = createLogger({ level: config.logLevel });
const db = createDb(config.databasePath);
const store = createSqliteStore(db);
const checkpointer = startWalCheckpointer(db);
const hubspot = hubSpotClientsFor({ config, store, clock: systemClock, logger });
const background = createBackground({
  config,
  store,
  clock: systemClock,
  logger,
  hubspot,
  options: { rate: { ...DEFAULT_RATE, requestsPerWindow: budget } },
});
const app = createApp({ config, store, clock: systemClock, hubspot, logger, hooks: background });
const server = app.listen(config.port, '127.0.0.1', () => {
  background.start();
  process.stdout.write(`ready ${config.port}\n`);
});
process.on('SIGTERM', () => {
  server.close(() => {
    void background.stop().then(async () => {
      await checkpointer.stop();
      await store.close();
      process.exit(0);
    });
  });
  server.closeIdleConnections();
});
