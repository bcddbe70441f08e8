import { Worker } from 'node:worker_threads';
import type { Db } from './db';

/**
 * Moves SQLite's WAL checkpoints off the event loop. By default the connection that commits the
 * 1000th WAL page copies the WAL into the database file and fsyncs it, inside that commit: about
 * 15 ms every few dozen webhook batches, during which no request is answered. Here a worker thread
 * with its own connection looks every `intervalMs` at how many WAL pages are not yet in the
 * database file and, from `thresholdPages` (SQLite's own default, 1000), runs a PASSIVE checkpoint
 * (never blocks writers or readers): the same checkpoints SQLite would run, in another thread. The
 * service's connection keeps automatic checkpoints as a backstop, at `backstopPages`.
 *
 * Checkpointing on every tick instead, whatever the WAL held, cost the gate-reaction benchmark
 * its p99 (15 -> 32 ms). Once the WAL holds RESTART_PAGES, the service's connection checkpoints
 * the tail the thread missed (frames written during its checkpoint), so the next write starts the
 * WAL over: without that the WAL grew to the backstop and every read searched a 40 MB WAL index.
 *
 * The count comes from the WAL-index header in the -shm file (mxFrame at byte 16, nBackfill at
 * byte 96, native byte order; https://www.sqlite.org/walformat.html). A read that fails or looks
 * wrong only means a checkpoint now, never a missed one.
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
const fs = require('node:fs');
const littleEndian = require('node:os').endianness() === 'LE';
const Database = require(workerData.driver);
const db = new Database(workerData.path, { fileMustExist: true });
db.pragma('busy_timeout = 0');
db.pragma('cache_size = -256');
const header = Buffer.alloc(100);
let shm;
/** [pages in the WAL, pages of it already in the database file], or undefined when unreadable. */
function walState() {
  try {
    if (shm === undefined) shm = fs.openSync(workerData.path + '-shm', 'r');
    if (fs.readSync(shm, header, 0, 100, 0) < 100) return undefined;
    const mxFrame = littleEndian ? header.readUInt32LE(16) : header.readUInt32BE(16);
    const nBackfill = littleEndian ? header.readUInt32LE(96) : header.readUInt32BE(96);
    return nBackfill <= mxFrame ? [mxFrame, nBackfill] : undefined;
  } catch {
    return undefined;
  }
}
function pagesNotCheckpointed() {
  const state = walState();
  return state === undefined ? Infinity : state[0] - state[1];
}
let failures = 0;
const timer = setInterval(() => {
  if (pagesNotCheckpointed() < workerData.thresholdPages) return;
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
    failures = 0;
    const state = walState();
    parentPort.postMessage({ walPages: state === undefined ? Infinity : state[0] });
  } catch (error) {
    if (++failures === 1) parentPort.postMessage({ error: String(error && error.message || error) });
  }
}, workerData.intervalMs);
parentPort.on('message', () => {
  clearInterval(timer);
  if (shm !== undefined) fs.closeSync(shm);
  db.close();
  parentPort.close();
});
`;

/** WAL size (pages) from which the service's connection finishes a checkpoint so the WAL starts over. */
const RESTART_PAGES = 3000;

export function startWalCheckpointer(
  db: Db,
  options: { intervalMs?: number; thresholdPages?: number; backstopPages?: number; onError?: (message: string) => void } = {},
): WalCheckpointer {
  if (db.memory) return { stop: async () => undefined };
  db.pragma(`wal_autocheckpoint = ${options.backstopPages ?? 10_000}`);
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: {
      path: db.name,
      driver: require.resolve('better-sqlite3'),
      intervalMs: options.intervalMs ?? 50,
      thresholdPages: options.thresholdPages ?? 1000,
    },
    // It runs one pragma: a small heap keeps the thread to a few MB of the service's memory.
    resourceLimits: { maxOldGenerationSizeMb: 8, maxYoungGenerationSizeMb: 2, codeRangeSizeMb: 4, stackSizeMb: 1 },
  });
  worker.unref();
  worker.on('message', (message: { error?: string; walPages?: number }) => {
    if (message.error) options.onError?.(message.error);
    // SQLite starts the WAL over (instead of growing it) only when a write finds every frame
    // checkpointed, which the thread never quite achieves: the service writes meanwhile. So once
    // the WAL holds RESTART_PAGES, the service's connection copies the frames written since (a few
    // milliseconds, mostly its two fsyncs) and the next write starts the WAL over. Below that it
    // lets the WAL grow: one WAL-index segment holds ~4,000 pages, and reads slow down past it.
    if (message.walPages !== undefined && message.walPages >= RESTART_PAGES && db.open) db.pragma('wal_checkpoint(PASSIVE)');
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
