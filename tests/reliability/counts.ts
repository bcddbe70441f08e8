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

/** The simulator's seeded generator (mulberry32), so a failing run can be replayed with RELIABILITY_SEED. */
export { seededRandom } from '../../src/simulator/webhooks/webhookDispatcher';

export const SEED = Number(process.env.RELIABILITY_SEED ?? Date.now() % 1_000_000);
