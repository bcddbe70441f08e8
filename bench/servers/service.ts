/**
 * The service as src/server/main.ts builds it (createService: same config from the environment,
 * the store it selects, HubSpot clients, background workers, the app), with one difference a
 * benchmark needs: the workers' HubSpot budget (the rate governor, 90 requests per 10 s per
 * account in production) comes from BENCH_HUBSPOT_PER_10S, for benchmarks that measure reaction
 * time rather than the API budget (the simulator's limit is lifted for those too). Prints `ready`
 * once it listens.
 */
import { loadConfig } from '../../src/server/config/config';
import { createLogger } from '../../src/server/shared/logger';
import { createService } from '../../src/server/service';
import { DEFAULT_RATE } from '../../src/server/hubspot/rateGovernor';

async function run(): Promise<void> {
  const config = loadConfig(process.env);
  const budget = Number(process.env.BENCH_HUBSPOT_PER_10S ?? DEFAULT_RATE.requestsPerWindow);
  const logger = createLogger({ level: config.logLevel });
  const service = await createService(config, { logger, options: { rate: { ...DEFAULT_RATE, requestsPerWindow: budget } } });
  const server = service.app.listen(config.port, '127.0.0.1', () => {
    service.start();
    process.stdout.write(`ready ${config.port}\n`);
  });
  process.on('SIGTERM', () => {
    server.close(() => {
      void service.stop().then(async () => {
        await service.close();
        process.exit(0);
      });
    });
    server.closeIdleConnections();
  });
}

void run();
