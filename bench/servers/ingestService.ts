/**
 * The webhook ingest path as the service runs it, in its own process for `npm run bench`: the
 * production route (raw body, v3 verification, validation, one durable journal insert, 200) and,
 * right behind it, the inbox worker's first step (journaled batches expanded into per-event inbox
 * rows, deduplicated on (portal, event key)), woken by each stored batch as main.ts wakes the inbox
 * worker. The expansion runs in slices of at most JOURNAL_BATCHES_PER_SLICE batches, one
 * slice per event-loop turn: the requests that arrived meanwhile are answered between two slices
 * (at 500 batches/s a turn finds one or two batches, so a slice is about a millisecond), and under
 * a closed loop of 16 connections a slice of 16 keeps pace with the answers, so the journal
 * backlog stays within the parsed batches the route hands over (PARSED_BATCHES_KEPT). What the
 * worker does with the events next (gate evaluation, HubSpot calls) is measured by the
 * gate-reaction and bulk-move benchmarks.
 * With --defer-expansion the route stores and answers but nothing is expanded (the journal is left
 * as it is at exit): the route alone, for the benchmark's context figure.
 * Usage: node --import tsx bench/servers/ingestService.ts PORT DB_PATH SECRET PUBLIC_BASE_URL [--defer-expansion]
 */
import express from 'express';
import { systemClock } from '../../src/server/shared/clock';
import { silentLogger } from '../../src/server/shared/logger';
import { errorHandler, notFoundHandler } from '../../src/server/http/errorHandler';
import { createDb } from '../../src/server/storage/db';
import { createSqliteStore } from '../../src/server/storage/sqliteStore';
import { startWalCheckpointer } from '../../src/server/storage/walCheckpointer';
import { webhookRoute } from '../../src/server/http/webhookRoute';
import { inboxEventsOf } from '../../src/server/hubspot/webhookEvent';
import { JOURNAL_BATCHES_PER_SLICE } from '../../src/server/storage/inboxStore';

const [portArg, dbPath, secret, publicBaseUrl, mode] = process.argv.slice(2);
const deferExpansion = mode === '--defer-expansion';
if (!portArg || !dbPath || !secret || !publicBaseUrl) {
  process.stderr.write('usage: ingestService PORT DB_PATH SECRET PUBLIC_BASE_URL\n');
  process.exit(2);
}

const db = createDb(dbPath);
const store = createSqliteStore(db);
// As main.ts: WAL checkpoints in their own thread (it shares the pinned core with the rest).
const checkpointer = startWalCheckpointer(db);
let expansionScheduled = false;
async function expandJournal(): Promise<void> {
  expansionScheduled = false;
  const { batches } = await store.inbox.expandJournal(JOURNAL_BATCHES_PER_SLICE, inboxEventsOf);
  if (batches === JOURNAL_BATCHES_PER_SLICE) wake();
}
function wake(): void {
  if (expansionScheduled) return;
  expansionScheduled = true;
  setImmediate(() => {
    expandJournal().catch((error: unknown) => {
      process.stderr.write(`journal expansion failed: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    });
  });
}

const app = express();
app.disable('x-powered-by');
app.use(webhookRoute({ config: { hubspot: { clientSecret: secret }, publicBaseUrl }, store, clock: systemClock, ...(deferExpansion ? {} : { onStored: wake }) }));
app.use(notFoundHandler);
app.use(errorHandler(silentLogger()));
const server = app.listen(Number(portArg), '127.0.0.1', () => process.stdout.write(`ready ${portArg}\n`));
process.on('SIGTERM', () =>
  server.close(async () => {
    while (!deferExpansion && await store.inbox.journalBacklog() > 0) await store.inbox.expandJournal(JOURNAL_BATCHES_PER_SLICE, inboxEventsOf);
    await checkpointer.stop();
    await store.close();
    process.exit(0);
  }),
);
