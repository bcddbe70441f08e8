/** What every jest project here shares (jest.config.js, tests/reliability/jest.config.js). */
module.exports = {
  testEnvironment: '<rootDir>/tests/support/nodeEnvironment.js',
  transform: { '^.+\\.(t|j)sx?$': '<rootDir>/jest.transform.js' },
  // @hubspot/ui-extensions and its @remote-ui dependencies ship ESM only.
  transformIgnorePatterns: ['/node_modules/(?!(@hubspot/ui-extensions|@remote-ui|tinyspy)/)'],
  // The store's transaction context sets V8 promise hooks, which outlive a suite's module
  // registry: the environment stops them when the suite is over (tests/support/nodeEnvironment.js).
  setupFilesAfterEnv: ['<rootDir>/tests/support/stopPromiseContexts.ts'],
};
