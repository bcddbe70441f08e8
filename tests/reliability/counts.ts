import { appendFileSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';

/**
 * The counts a reliability suite reports (the README quotes them): printed, and appended as one
 * JSON line to bench/tmp/reliability-counts.jsonl for whoever wants them from the last run.
 */
export function reportCounts(suite: string, counts: Record<string, unknown>): void {
  const line = JSON.stringify({ suite, at: new Date().toISOString(), ...counts });
  process.stdout.write(`[reliability] ${line}\n`);
  const dir = resolve(__dirname, '../../bench/tmp');
  mkdirSync(dir, { recursive: true });
  appendFileSync(join(dir, 'reliability-counts.jsonl'), line + '\n');
}

/** mulberry32: seeded, so a failing run can be replayed with RELIABILITY_SEED. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const SEED = Number(process.env.RELIABILITY_SEED ?? Date.now() % 1_000_000);
