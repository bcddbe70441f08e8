/**
 * The reliability suite (`npm run test:reliability`): crash, HubSpot faults, bad input, isolation.
 * Kept out of `npm test` (its files are *.reliability.ts) because it runs for minutes, not seconds.
 * @type {import('jest').Config}
 */
module.exports = {
  rootDir: '../..',
  testEnvironment: 'node',
  roots: ['<rootDir>/tests/reliability'],
  testMatch: ['**/*.reliability.ts'],
  transform: { '^.+\\.(t|j)sx?$': '<rootDir>/jest.transform.js' },
  transformIgnorePatterns: ['/node_modules/(?!(@hubspot/ui-extensions|@remote-ui|tinyspy)/)'],
  testTimeout: 300_000,
  // One suite at a time: the crash suite kills and restarts a service process and measures nothing, but
  // the fault suites wait on real timers and a 2-core machine has no room for both at once.
  maxWorkers: 1,
};
