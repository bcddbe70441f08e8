/**
 * The reliability suite (`npm run test:reliability`): crash, HubSpot faults, bad input, isolation.
 * Kept out of `npm test` (its files are *.reliability.ts) because it runs for minutes, not seconds.
 * Two projects, as in the main config: "sqlite" runs every suite on the embedded default store,
 * "postgres" runs again those that only see the store through its API, each stack on a
 * PostgreSQL database of its own (DEALGATE_TEST_STORE=postgres, tests/support/testStore.ts).
 * @type {import('jest').Config}
 */
const base = {
  ...require('../../jest.base.js'),
  rootDir: require('node:path').resolve(__dirname, '../..'),
  roots: ['<rootDir>/tests/reliability'],
  testMatch: ['**/*.reliability.ts'],
};

/** Suites that read SQLite's file themselves: selected out of the postgres project (they run in "sqlite"). */
const sqliteOnly = [
  // Spawns the service on a database file, SIGKILLs it, and counts rows with better-sqlite3.
  '<rootDir>/tests/reliability/crash.reliability.ts',
  // Counts pending outbox rows in the SQLite file with better-sqlite3.
  '<rootDir>/tests/reliability/outcomeUnknown.reliability.ts',
  // Both compare every row of every table (twoAccounts.ts databaseRows: sqlite_master, pragma_table_info).
  '<rootDir>/tests/reliability/isolation.reliability.ts',
  '<rootDir>/tests/reliability/badInput.reliability.ts',
];

/**
 * Suites that choose PostgreSQL themselves (several instances need one shared database): run once,
 * in the postgres project, selected out of the sqlite one.
 */
const postgresOnly = [
  // Three service processes on one fresh PostgreSQL database (tests/support/instanceCluster.ts).
  '<rootDir>/tests/reliability/multiInstance.reliability.ts',
];

module.exports = {
  testTimeout: 300_000,
  // One suite at a time: the crash suite kills and restarts a service process and measures nothing, but
  // the fault suites wait on real timers and a 2-core machine has no room for both at once.
  maxWorkers: 1,
  globalSetup: '<rootDir>/tests/support/postgresGlobalSetup.ts',
  globalTeardown: '<rootDir>/tests/support/postgresGlobalTeardown.ts',
  rootDir: require('node:path').resolve(__dirname, '../..'),
  projects: [
    { ...base, displayName: 'sqlite', testPathIgnorePatterns: ['/node_modules/', ...postgresOnly] },
    {
      ...base,
      displayName: 'postgres',
      testPathIgnorePatterns: ['/node_modules/', ...sqliteOnly],
      setupFiles: ['<rootDir>/tests/support/usePostgresStore.ts'],
    },
  ],
};
