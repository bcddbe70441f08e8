import type { Logger } from '../shared/logger';

/**
 * A background loop: runs `round` until it reports no work, then sleeps until the next due time
 * (capped by `idleMs`) or until woken. `stop` lets the round in flight finish; nothing is cut off
 * halfway, so the database can close right after.
 */
export interface WorkerLoop {
  start(): void;
  /** New work arrived: run a round now instead of at the next poll. */
  wake(): void;
  stop(): Promise<void>;
  readonly running: boolean;
}

export interface WorkerLoopOptions {
  name: string;
  logger: Logger;
  /** Does one round of work; returns how many items it handled. */
  round: () => Promise<number>;
  /** Milliseconds until the next item is due, when known; the loop sleeps no longer than that. */
  msUntilNextDue?: () => Promise<number | undefined>;
  idleMs: number;
  /** After a round throws (e.g. the database is gone), wait this long before trying again. */
  errorPauseMs?: number;
}

export function createWorkerLoop(options: WorkerLoopOptions): WorkerLoop {
  let running = false;
  let loop: Promise<void> | undefined;
  let wakeUp: (() => void) | undefined;
  let woken = false;

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      if (woken || !running) {
        woken = false;
        resolve();
        return;
      }
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        wakeUp = undefined;
        woken = false;
        resolve();
      }
      wakeUp = done;
    });

  async function run(): Promise<void> {
    while (running) {
      let handled = 0;
      try {
        handled = await options.round();
      } catch (error) {
        options.logger.error({ err: error, worker: options.name }, `${options.name}: round failed; trying again shortly`);
        await sleep(options.errorPauseMs ?? 1000);
        continue;
      }
      if (!running) break;
      if (handled > 0) {
        // Let I/O in between rounds: a round that never waits on HubSpot would otherwise run the
        // next one at once, and requests (webhook acks, card loads) would wait for the backlog.
        await new Promise<void>((resolve) => setImmediate(resolve));
        continue;
      }
      let wait = options.idleMs;
      try {
        const next = await options.msUntilNextDue?.();
        // Not below 20 ms: due rows of a paused account must not spin the loop.
        if (next !== undefined) wait = Math.max(20, Math.min(wait, next));
      } catch {
        // the database may be closing; the idle wait is fine
      }
      await sleep(wait);
    }
  }

  return {
    get running() {
      return running;
    },
    start() {
      if (running) return;
      running = true;
      loop = run();
    },
    wake() {
      woken = true;
      wakeUp?.();
    },
    async stop() {
      running = false;
      wakeUp?.();
      await loop;
      loop = undefined;
    },
  };
}
