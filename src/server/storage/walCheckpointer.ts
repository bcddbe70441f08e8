import { Worker } from 'node:worker_threads';
import type { Db } from './db';

/**
 * Moves SQLite's WAL checkpoints off the event loop. By default the connection that commits the
 * 1000th WAL page copies the WAL into the database file and fsyncs it, inside that commit: about
 * 15 ms every few dozen webhook batches, during which no request is answered. Here a worker thread
 * with its own connection runs a PASSIVE checkpoint (never blocks writers or readers) every
 * `intervalMs`; the service's connection keeps automatic checkpoints only as a backstop, at
 * `backstopPages`, should the thread fall behind.
 *
 * Durability is unchanged: a commit is in the WAL under the connection's synchronous level before
 * it returns, whoever checkpoints it later; the checkpoint fsyncs the WAL before copying it, as the
 * automatic one does.
 */
export interface WalCheckpointer {
  stop(): Promise<void>;
}

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.path, { fileMustExist: true });
db.pragma('busy_timeout = 0');
db.pragma('cache_size = -256');
let failures = 0;
const timer = setInterval(() => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
    failures = 0;
  } catch (error) {
    if (++failures === 1) parentPort.postMessage({ error: String(error && error.message || error) });
  }
}, workerData.intervalMs);
parentPort.on('message', () => {
  clearInterval(timer);
  db.close();
  parentPort.close();
});
`;

export function startWalCheckpointer(
  db: Db,
  options: { intervalMs?: number; backstopPages?: number; onError?: (message: string) => void } = {},
): WalCheckpointer {
  if (db.memory) return { stop: async () => undefined };
  db.pragma(`wal_autocheckpoint = ${options.backstopPages ?? 10_000}`);
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: { path: db.name, driver: require.resolve('better-sqlite3'), intervalMs: options.intervalMs ?? 50 },
    // It runs one pragma: a small heap keeps the thread to a few MB of the service's memory.
    resourceLimits: { maxOldGenerationSizeMb: 8, maxYoungGenerationSizeMb: 2, codeRangeSizeMb: 4, stackSizeMb: 1 },
  });
  worker.unref();
  worker.on('message', (message: { error?: string }) => {
    if (message.error) options.onError?.(message.error);
  });
  // The thread failing to start (e.g. the file gone) must not take the service down: the backstop
  // checkpoints still run.
  worker.on('error', (error) => options.onError?.(error.message));
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  return {
    async stop() {
      // Unref'd so it never holds the process open; while stopping it must, or we exit before it closes.
      worker.ref();
      worker.postMessage('stop');
      await exited;
      if (db.open) db.pragma('wal_autocheckpoint = 1000');
    },
  };
}
