/**
 * `npx tsx bench/rateBudget.ts [--reps 3] [--accounts 40]`: what a HubSpot permit costs when
 * every instance draws from the database's shared budget (issue 13), against the in-memory
 * governor (this process's budget only) and a bare round trip to the same database (store.ping),
 * measured in the same run, interleaved, on SQLite and on PostgreSQL (an embedded server when
 * DATABASE_URL is not set). Each account draws 60 of its 90 permits, one caller per instance, so
 * each account's row holds what a busy account's does; figures are per permit.
 * Nothing is asserted: it prints medians and ranges.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { systemClock } from '../src/server/shared/clock';
import { createDb } from '../src/server/storage/db';
import { createPostgresStore } from '../src/server/storage/postgresStore';
import { createSqliteStore } from '../src/server/storage/sqliteStore';
import type { Store } from '../src/server/storage/store';
import { createRateGovernor, DEFAULT_RATE, sharedBudgetLedger, type BudgetLedger, type RateGovernor } from '../src/server/hubspot/rateGovernor';
import { freshDatabase } from '../tests/support/postgres';
import { canPin, pinSelf } from './lib/processes';
import { fmt, fmtSpread, spread, type Spread } from './lib/stats';

const BUDGET = DEFAULT_RATE.requestsPerWindow;
/**
 * Permits each account draws per run: under its budget by what three instances may hold reserved
 * and unused at the end (up to 9 each), so that no run waits for a window to pass.
 */
const PERMITS_PER_ACCOUNT = 60;

interface TripCounts {
  reads: number;
  writes: number;
  lost: number;
}

/** The shared ledger, counting its round trips and the writes another instance won. */
function countingLedger(store: Store, counts: TripCounts): BudgetLedger {
  const ledger = sharedBudgetLedger(store.hubspotBudget, 'TEN_SECONDLY_ROLLING');
  return {
    shared: true,
    async read(portalId) {
      counts.reads += 1;
      return ledger.read(portalId);
    },
    async write(portalId, version, next, at) {
      counts.writes += 1;
      const written = await ledger.write(portalId, version, next, at);
      if (written === undefined) counts.lost += 1;
      return written;
    },
  };
}

interface Mode {
  name: string;
  /** One governor per instance, each on its own store. */
  governors(counts: TripCounts): RateGovernor[];
  /** Callers drawing at once in each instance (the inbox, the outbox and the sweeps: up to 3). */
  callers: number;
}

let nextPortal = 1;

/** Account after account, every caller of every instance takes permits until the account's total is reached. */
async function drawBudgets(governors: RateGovernor[], callers: number, accounts: number): Promise<number> {
  const portals = Array.from({ length: accounts }, () => nextPortal++);
  const started = process.hrtime.bigint();
  for (const portalId of portals) {
    let taken = 0;
    await Promise.all(
      governors.flatMap((governor) =>
        Array.from({ length: callers }, async () => {
          while (taken < PERMITS_PER_ACCOUNT) {
            taken += 1;
            await governor.acquire(portalId);
          }
        }),
      ),
    );
  }
  return Number(process.hrtime.bigint() - started) / 1000 / (accounts * PERMITS_PER_ACCOUNT);
}

async function roundTripMicros(store: Store, count: number): Promise<number> {
  const started = process.hrtime.bigint();
  for (let i = 0; i < count; i += 1) await store.ping();
  return Number(process.hrtime.bigint() - started) / 1000 / count;
}

interface Row {
  mode: string;
  micros: Spread;
  tripsPerPermit: number;
  lostPerPermit: number;
}

async function benchStore(engine: string, stores: Store[], reps: number, accounts: number): Promise<void> {
  const [first] = stores as [Store];
  const one = (c: TripCounts) => [createRateGovernor(systemClock, DEFAULT_RATE, countingLedger(first, c))];
  const modes: Mode[] = [
    { name: 'in memory (this process only), 1 caller', callers: 1, governors: () => [createRateGovernor(systemClock, DEFAULT_RATE)] },
    { name: 'shared, 1 caller (a trip per permit)', callers: 1, governors: one },
    { name: 'shared, 3 callers at once (a busy account)', callers: 3, governors: one },
  ];
  if (stores.length > 1) {
    const all = (c: TripCounts) => stores.map((s) => createRateGovernor(systemClock, DEFAULT_RATE, countingLedger(s, c)));
    modes.push({ name: `shared, ${stores.length} instances × 1 caller`, callers: 1, governors: all });
    modes.push({ name: `shared, ${stores.length} instances × 3 callers`, callers: 3, governors: all });
  }
  const micros = new Map<string, number[]>();
  const counts = new Map<string, TripCounts>();
  const baseline: number[] = [];
  await drawBudgets(one({ reads: 0, writes: 0, lost: 0 }), 3, 2); // warm-up
  for (let rep = 0; rep < reps; rep += 1) {
    baseline.push(await roundTripMicros(first, 2000));
    for (const mode of modes) {
      const c = counts.get(mode.name) ?? { reads: 0, writes: 0, lost: 0 };
      counts.set(mode.name, c);
      micros.set(mode.name, [...(micros.get(mode.name) ?? []), await drawBudgets(mode.governors(c), mode.callers, accounts)]);
    }
  }
  const permits = reps * accounts * PERMITS_PER_ACCOUNT;
  const rows: Row[] = modes.map((m) => {
    const c = counts.get(m.name) as TripCounts;
    return { mode: m.name, micros: spread(micros.get(m.name) ?? []), tripsPerPermit: (c.reads + c.writes) / permits, lostPerPermit: c.lost / permits };
  });
  const ping = spread(baseline);
  process.stdout.write(`\n## ${engine}: ${accounts} accounts × ${PERMITS_PER_ACCOUNT} permits per run (budget ${BUDGET} per 10 s), ${reps} runs interleaved\n`);
  process.stdout.write(`bare round trip (store.ping): ${fmtSpread(ping, 1)} µs\n`);
  process.stdout.write('| governor | µs per permit, median (range) | × a round trip | statements per permit | writes lost to another instance, per permit |\n| --- | --- | --- | --- | --- |\n');
  for (const r of rows) {
    const shared = !r.mode.startsWith('in memory');
    process.stdout.write(
      `| ${r.mode} | ${fmtSpread(r.micros, 1)} | ${fmt(r.micros.median / ping.median, 2)} | ${shared ? fmt(r.tripsPerPermit, 2) : '0'} | ${shared ? fmt(r.lostPerPermit, 3) : '–'} |\n`,
    );
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { reps: { type: 'string', default: '3' }, accounts: { type: 'string', default: '40' } } });
  const reps = Number(values.reps);
  const accounts = Number(values.accounts);
  const pinned = canPin() && pinSelf(0);
  process.stdout.write(`$ npx tsx bench/rateBudget.ts${process.argv.length > 2 ? ' ' + process.argv.slice(2).join(' ') : ''}\n`);
  process.stdout.write(pinned ? 'this process pinned to core 0 (PostgreSQL unpinned)\n' : 'not pinned\n');

  const dir = mkdtempSync(join(tmpdir(), 'dealgate-bench-budget-'));
  const sqlite = createSqliteStore(createDb(join(dir, 'dealgate.db')));
  try {
    await benchStore('SQLite (one process)', [sqlite], reps, accounts);
  } finally {
    await sqlite.close();
    rmSync(dir, { recursive: true, force: true });
  }

  const database = await freshDatabase();
  const stores = [await createPostgresStore(database.url, { maxConnections: 5 }), await createPostgresStore(database.url, { maxConnections: 5 }), await createPostgresStore(database.url, { maxConnections: 5 })];
  try {
    await benchStore('PostgreSQL', stores, reps, accounts);
  } finally {
    for (const store of stores) await store.close();
    await database.drop();
  }
  process.exit(0);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
