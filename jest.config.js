/**
 * `npm test` runs two projects:
 * - "sqlite": every suite, on the embedded default store (SQLite in a temp directory);
 * - "postgres": the integration suites (tests/gate, tests/enforcement, tests/ui, tests/sweeps) a
 *   second time, each stack, harness and testStore() on a PostgreSQL database of its own
 *   (DEALGATE_TEST_STORE=postgres, tests/support/testStore.ts).
 * `npx jest --selectProjects postgres` (npm run test:postgres) runs only the second.
 */
const base = require('./jest.base.js');

/**
 * Integration suites that stay on SQLite, each for what it reads of SQLite itself: selected out of
 * the postgres project, not skipped (they run in "sqlite"). Suites with no store at all are left
 * out too, since a second run would test nothing new.
 */
const sqliteOnly = [
  // EXPLAIN QUERY PLAN of SQLite and raw better-sqlite3 writes to the journal table.
  '<rootDir>/tests/enforcement/inboxStore.test.ts',
  // EXPLAIN QUERY PLAN of SQLite: the waiting-accounts query uses its index.
  '<rootDir>/tests/enforcement/inboxWaitingAccounts.test.ts',
  // SQLite's migrations 5 and 7 on an old database file, and raw deletes through better-sqlite3.
  '<rootDir>/tests/enforcement/reviewTasks.test.ts',
  // The webhook route's parser; clears its tables between cases with raw better-sqlite3 deletes.
  '<rootDir>/tests/enforcement/webhookAcceptedIsReadable.test.ts',
  // No store: the batch signature check and parsing only.
  '<rootDir>/tests/enforcement/webhookBatchCheck.test.ts',
  // No store: the reconciliation's configuration.
  '<rootDir>/tests/sweeps/reconcileConfig.test.ts',
  // No store: the UI extension's entry points.
  '<rootDir>/tests/ui/entries.test.tsx',
];

/** @type {import('jest').Config} */
module.exports = {
  testTimeout: 20000,
  // One PostgreSQL per run (or DATABASE_URL's); each suite makes its own database on it (tests/support/postgres.ts).
  globalSetup: '<rootDir>/tests/support/postgresGlobalSetup.ts',
  globalTeardown: '<rootDir>/tests/support/postgresGlobalTeardown.ts',
  projects: [
    {
      ...base,
      displayName: 'sqlite',
      roots: ['<rootDir>/tests', '<rootDir>/extensions'],
      testMatch: ['**/*.test.ts', '**/*.test.tsx'],
    },
    {
      ...base,
      displayName: 'postgres',
      roots: ['<rootDir>/tests/gate', '<rootDir>/tests/enforcement', '<rootDir>/tests/ui', '<rootDir>/tests/sweeps'],
      testMatch: ['**/*.test.ts', '**/*.test.tsx'],
      testPathIgnorePatterns: ['/node_modules/', ...sqliteOnly],
      setupFiles: ['<rootDir>/tests/support/usePostgresStore.ts'],
    },
  ],
};
