import { startEmbeddedPostgres } from './embeddedPostgres';

// Started by tests/storage/embeddedPostgresParentDeath.test.ts: starts a server, says its pid and
// data directory, and waits to be killed.
void startEmbeddedPostgres().then((server) => {
  process.stdout.write(`${JSON.stringify({ pid: server.pid, dataDir: server.dataDir, startedInMs: server.startedInMs })}\n`);
  setInterval(() => undefined, 60_000);
});
