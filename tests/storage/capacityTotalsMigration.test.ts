import { join } from 'node:path';
import { createDb, migrate } from '../../src/server/storage/db';
import { migrations } from '../../src/server/storage/migrations';
import { migratePostgres, postgresMigrations } from '../../src/server/storage/postgresSchema';
import { createPostgresDatabase } from '../../src/server/storage/postgresSql';
import { reviewRepository } from '../../src/server/storage/reviewStore';
import type { SqlDatabase } from '../../src/server/storage/sql';
import { createSqliteSql } from '../../src/server/storage/sqliteSql';
import { tempDir } from '../support/env';
import { freshDatabase } from '../support/postgres';

/**
 * Migration 17 fills the capacity ledger's running totals from the reviews and decisions an older
 * database holds: what an upgrade finds booked is what the rows say, on both engines.
 */
const BEFORE = 17;

interface OldDatabase {
  sql: SqlDatabase;
  upgrade(): Promise<void>;
  close(): Promise<void>;
}

async function sqliteBefore17(): Promise<OldDatabase> {
  const dir = tempDir();
  const db = createDb(join(dir.path, 'db.sqlite'), migrations.filter((m) => m.version < BEFORE));
  return {
    sql: createSqliteSql(db),
    upgrade: async () => void migrate(db, migrations),
    close: async () => {
      db.close();
      dir.cleanup();
    },
  };
}

async function postgresBefore17(): Promise<OldDatabase> {
  const database = await freshDatabase();
  const sql = createPostgresDatabase(database.url);
  await migratePostgres(sql, postgresMigrations.filter((m) => m.version < BEFORE));
  return {
    sql,
    upgrade: async () => void (await migratePostgres(sql)),
    close: async () => {
      await sql.close();
      await database.drop();
    },
  };
}

/** [status, outcome, effort, extra weeks, quarter, deprioritized, keeps_booking]; the last column: booked. */
const ROWS: [string, string, number, number | null, string, boolean, boolean, boolean][] = [
  ['approved', 'yes', 2, null, '2026-Q4', false, false, true],
  ['approved_with_conditions', 'yes_but', 0.1, 0.2, '2026-Q4', false, false, true],
  ['approved', 'yes', 3, null, '2026-Q4', true, false, false],
  ['superseded', 'yes', 1.5, null, '2026-Q4', false, true, true],
  ['superseded', 'yes', 4, null, '2026-Q4', false, false, false],
  ['rejected', 'no', 5, null, '2026-Q4', false, false, false],
  ['approved', 'yes', 7, null, '2027-Q1', false, false, true],
  ['approved_with_conditions', 'yes_but', 1, 2.25, '2027-Q1', false, false, true],
];

describe.each([
  ['SQLite', sqliteBefore17],
  ['PostgreSQL', postgresBefore17],
])('migration 17 on %s', (_engine, open) => {
  it('books what the older rows say consumes capacity, per quarter, exactly', async () => {
    const old = await open();
    try {
      const ids: number[] = [];
      for (const [i, [status, outcome, effort, extra, quarter, deprioritized, keeps]] of ROWS.entries()) {
        const row = await old.sql.get<{ id: number }>(
          `INSERT INTO reviews (portal_id, deal_id, status, summary, effort_weeks, requested_by, requested_at, due_at, deprioritized_at, keeps_booking, updated_at)
           VALUES (?, ?, ?, ?, ?, 'rep', 1, 2, ?, ?, 3) RETURNING id`,
          [7, `deal-${i}`, status, `commitment ${i}`, effort, deprioritized ? 5 : null, keeps ? 1 : 0],
        );
        ids.push(row?.id ?? 0);
        await old.sql.run('INSERT INTO decisions (portal_id, review_id, outcome, note, extra_weeks, quarter, decided_by, decided_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)', [
          7,
          row?.id ?? 0,
          outcome,
          '',
          extra,
          outcome === 'no' ? null : quarter,
          'reviewer',
          100 + i,
        ]);
      }
      await old.upgrade();

      const reviews = reviewRepository(old.sql);
      for (const quarter of ['2026-Q4', '2027-Q1']) {
        const booked = ROWS.map((r, i) => ({ r, id: ids[i] as number })).filter(({ r }) => r[4] === quarter && r[7]);
        const booking = await reviews.quarterBooking(7, quarter, { limit: 10 });
        expect({ quarter, count: booking.count, microWeeks: Math.round(booking.usedWeeks * 1e6) }).toEqual({
          quarter,
          count: booked.length,
          microWeeks: Math.round(booked.reduce((sum, { r }) => sum + r[2] + (r[3] ?? 0), 0) * 1e6),
        });
        expect(booking.largest.map((c) => c.reviewId).sort((a, b) => a - b)).toEqual(booked.map(({ id }) => id));
      }
      // 0.1 + 0.2 is booked as 0.3 weeks exactly (floating point would say 0.30000000000000004).
      expect((await reviews.activeCommitment(7, ids[1] as number))?.weeks).toBe(0.3);
      expect((await reviews.quarterBooking(7, '2026-Q4', { limit: 10 })).usedWeeks).toBe(3.8);
    } finally {
      await old.close();
    }
  });
});
