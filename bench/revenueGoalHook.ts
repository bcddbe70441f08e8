/**
 * `npx tsx bench/revenueGoalHook.ts` (pin it: `taskset -c 1`): the per-event cost of the revenue
 * goal hook the inbox runs after every applied event (gate/revenueGoalWins.ts), on SQLite, against
 * one deal snapshot read measured in the same run, interleaved, 7 rounds of 1,000 events each.
 */
import { join } from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createDb } from '../src/server/storage/db';
import { createSqliteStore } from '../src/server/storage/sqliteStore';
import { observeRevenueWin } from '../src/server/application/revenueGoalWins';
import { silentLogger } from '../src/server/shared/logger';

// Per-event cost of the revenue-goal hook on the inbox path (SQLite), for a deal that is not won
// (the common event) and for a won deal already recorded, against one snapshot read (same run, interleaved).
async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'obs-'));
  const store = createSqliteStore(createDb(join(dir, 'db.sqlite')));
  const P = 1, T = Date.UTC(2026, 10, 10);
  await store.pipelines.replaceAll(P, [{ id: 'default', label: 'S', displayOrder: 0, stages: ['open', 'won'].map((id, i) => ({ id, label: id, displayOrder: i, isClosed: id === 'won', isLost: false })) }], T);
  const N = 2000;
  for (let i = 0; i < N; i++) {
    await store.deals.upsert(P, { dealId: String(i), name: `d${i}`, amount: 1000, stage: i % 2 ? 'won' : 'open', pipeline: 'default', commitment: false, commitmentSummary: null, effortWeeks: null, ownerId: null, deleted: false, sourceUpdatedAt: T, refreshedAt: T });
  }
  const deps = { store, clock: { now: () => T }, logger: silentLogger() };
  for (let i = 1; i < N; i += 2) await observeRevenueWin(deps, P, String(i), T); // won ones recorded once
  const time = async (f: (i: number) => Promise<unknown>, parity: number) => {
    const t0 = process.hrtime.bigint();
    await store.transaction(async () => { for (let i = parity; i < N; i += 2) await f(i); });
    return Number(process.hrtime.bigint() - t0) / 1000 / (N / 2);
  };
  const rows: Record<string, number[]> = { baseline: [], notWon: [], wonAgain: [] };
  for (let r = 0; r < 7; r++) {
    rows.baseline!.push(await time((i) => store.deals.get(P, String(i)), 0));
    rows.notWon!.push(await time((i) => observeRevenueWin(deps, P, String(i), T), 0));
    rows.wonAgain!.push(await time((i) => observeRevenueWin(deps, P, String(i), T), 1));
  }
  const med = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]!;
  for (const [k, v] of Object.entries(rows)) console.log(k, 'µs/event median', med(v).toFixed(1), 'range', Math.min(...v).toFixed(1), '-', Math.max(...v).toFixed(1));
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}
void main();
