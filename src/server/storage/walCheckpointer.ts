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
 * Disk pressure (issue 12 #7): the WAL file never shrinks by itself, and it starts over only when a
 * write finds every frame checkpointed, which below RESTART_PAGES never happened while the service
 * kept writing: on a small volume the WAL filled it (7.5 MB for 1 MB of data), every write then
 * failed with SQLITE_FULL, and space given back was refilled by the same WAL. So the thread also
 * reads the WAL file's size and the volume's free space, and runs a TRUNCATE checkpoint (copies
 * every frame, then cuts the WAL file to zero bytes) when the WAL file passes `maxWalBytes`, or
 * passes `truncateAboveBytes` while the volume has under `lowSpaceBytes` free. A write that failed
 * for lack of space leaves the connection usable (the transaction is rolled back); the next one
 * succeeds once the truncation, or the operator, has freed space. A TRUNCATE that cannot finish
 * (a writer holds the lock past its short wait, or the database file itself cannot grow) is tried
 * again on the next tick. The thread's ticks cannot keep up with a fast writer (50 ms of commits
 * can be 5 MB of WAL), so while the volume has under `lowSpaceBytes` free the service's own
 * connection also checkpoints every LOW_SPACE_AUTOCHECKPOINT_PAGES pages inside its commits, as
 * SQLite does by default: the WAL then starts over instead of growing. The service's connection also
 * sets journal_size_limit, so a WAL that starts over is trimmed to it by SQLite.
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
function walBytes() {
  try {
    return fs.statSync(workerData.path + '-wal').size;
  } catch {
    return 0;
  }
}
function freeBytes() {
  try {
    const stats = fs.statfsSync(require('node:path').dirname(workerData.path));
    return stats.bavail * stats.bsize;
  } catch {
    return Infinity;
  }
}
/** The WAL file is too big for the volume it is on: copy it all and cut it to zero bytes. */
function mustTruncate() {
  const bytes = walBytes();
  if (bytes > workerData.maxWalBytes) return true;
  return bytes > workerData.truncateAboveBytes && freeBytes() < workerData.lowSpaceBytes;
}
let failures = 0;
let lowSpace = false;
const timer = setInterval(() => {
  const low = freeBytes() < workerData.lowSpaceBytes;
  if (low !== lowSpace) {
    lowSpace = low;
    parentPort.postMessage({ lowSpace });
  }
  if (mustTruncate()) {
    try {
      // A short wait for the writer lock (the service waits for ours with its own busy timeout).
      db.pragma('busy_timeout = ' + workerData.truncateWaitMs);
      const [result] = db.pragma('wal_checkpoint(TRUNCATE)');
      if (result && result.busy === 0) {
        failures = 0;
        parentPort.postMessage({ truncated: true });
      }
    } catch (error) {
      if (++failures === 1) parentPort.postMessage({ error: String(error && error.message || error) });
    } finally {
      db.pragma('busy_timeout = 0');
    }
    return;
  }
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

/** WAL file size from which the thread truncates it whatever the free space (well above RESTART_PAGES' 12 MB). */
const MAX_WAL_BYTES = 64 * 1024 * 1024;
/** Free space on the volume under which the thread truncates a WAL past TRUNCATE_ABOVE_BYTES. */
const LOW_SPACE_BYTES = 256 * 1024 * 1024;
const TRUNCATE_ABOVE_BYTES = 4 * 1024 * 1024;
/** The service's automatic checkpoint while the volume is low on space (1 MB of WAL). */
export const LOW_SPACE_AUTOCHECKPOINT_PAGES = 250;

export interface WalCheckpointerOptions {
  intervalMs?: number;
  thresholdPages?: number;
  backstopPages?: number;
  /** WAL file size from which it is checkpointed and truncated whatever the free space. */
  maxWalBytes?: number;
  /** Free space under which a WAL file past `truncateAboveBytes` is checkpointed and truncated. */
  lowSpaceBytes?: number;
  truncateAboveBytes?: number;
  onError?: (message: string) => void;
  /** A TRUNCATE checkpoint cut the WAL file to zero bytes. */
  onTruncated?: () => void;
}

export function startWalCheckpointer(db: Db, options: WalCheckpointerOptions = {}): WalCheckpointer {
  if (db.memory) return { stop: async () => undefined };
  const backstopPages = options.backstopPages ?? 10_000;
  db.pragma(`wal_autocheckpoint = ${backstopPages}`);
  // A WAL that starts over is trimmed to this size by SQLite itself (it is otherwise kept at its largest).
  db.pragma(`journal_size_limit = ${options.truncateAboveBytes ?? TRUNCATE_ABOVE_BYTES}`);
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: {
      path: db.name,
      driver: require.resolve('better-sqlite3'),
      intervalMs: options.intervalMs ?? 50,
      thresholdPages: options.thresholdPages ?? 1000,
      maxWalBytes: options.maxWalBytes ?? MAX_WAL_BYTES,
      lowSpaceBytes: options.lowSpaceBytes ?? LOW_SPACE_BYTES,
      truncateAboveBytes: options.truncateAboveBytes ?? TRUNCATE_ABOVE_BYTES,
      truncateWaitMs: 200,
    },
    // It runs one pragma: a small heap keeps the thread to a few MB of the service's memory.
    resourceLimits: { maxOldGenerationSizeMb: 8, maxYoungGenerationSizeMb: 2, codeRangeSizeMb: 4, stackSizeMb: 1 },
  });
  worker.unref();
  worker.on('message', (message: { error?: string; walPages?: number; truncated?: boolean; lowSpace?: boolean }) => {
    if (message.error) options.onError?.(message.error);
    if (message.truncated) options.onTruncated?.();
    // Low on space, the service's own commits checkpoint again, as SQLite does by default but
    // sooner: a writer faster than the thread's ticks then cannot grow the WAL into the space
    // left (its checkpoint runs inside the commit, so the WAL starts over at the next one).
    if (message.lowSpace !== undefined && db.open) db.pragma(`wal_autocheckpoint = ${message.lowSpace ? LOW_SPACE_AUTOCHECKPOINT_PAGES : backstopPages}`);
    // SQLite starts the WAL over (instead of growing it) only when a write finds every frame
    // checkpointed, which the thread never quite achieves: the service writes meanwhile. So once
    // the WAL holds RESTART_PAGES, the service's connection copies the frames written since (a few
    // milliseconds, mostly its two fsyncs) and the next write starts the WAL over. Below that it
    // lets the WAL grow: one WAL-index segment holds ~4,000 pages, and reads slow down past it.
    // Not while a store transaction holds this connection (it awaits between statements now): the next report comes soon.
    if (message.walPages !== undefined && message.walPages >= RESTART_PAGES && db.open && !db.inTransaction) db.pragma('wal_checkpoint(PASSIVE)');
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
