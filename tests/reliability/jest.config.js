/**
 * The reliability suite (`npm run test:reliability`): crash, HubSpot faults, bad input, isolation.
 * Kept out of `npm test` (its files are *.reliability.ts) because it runs for minutes, not seconds.
 * Two projects, as in the main config: "sqlite" runs every suite on the embedded default store,
 * "postgres" runs them again, each stack or service process on a PostgreSQL database of its own
 * (DEALGATE_TEST_STORE=postgres, tests/support/testStore.ts and worldDatabase.ts); what a suite
 * reads of the database itself it reads on either engine (tests/support/databaseReader.ts).
 * @type {import('jest').Config}
 */
const base = {
  ...require('../../jest.base.js'),
  rootDir: require('node:path').resolve(__dirname, '../..'),
  roots: ['<rootDir>/tests/reliability'],
  testMatch: ['**/*.reliability.ts'],
};

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
      testPathIgnorePatterns: ['/node_modules/'],
      setupFiles: ['<rootDir>/tests/support/usePostgresStore.ts'],
    },
  ],
};
