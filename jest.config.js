/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/tests', '<rootDir>/extensions'],
  testMatch: ['**/*.test.ts', '**/*.test.tsx'],
  transform: { '^.+\\.(t|j)sx?$': '<rootDir>/jest.transform.js' },
  // @hubspot/ui-extensions and its @remote-ui dependencies ship ESM only.
  transformIgnorePatterns: ['/node_modules/(?!(@hubspot/ui-extensions|@remote-ui|tinyspy)/)'],
  testTimeout: 20000,
  // One PostgreSQL per run (or DATABASE_URL's); each suite makes its own database on it (tests/support/postgres.ts).
  globalSetup: '<rootDir>/tests/support/postgresGlobalSetup.ts',
  globalTeardown: '<rootDir>/tests/support/postgresGlobalTeardown.ts',
};
