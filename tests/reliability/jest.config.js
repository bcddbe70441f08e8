/**
 * The reliability suite (`npm run test:reliability`): crash, HubSpot faults, bad input, isolation.
 * Kept out of `npm test` (its files are *.reliability.ts) because it runs for minutes, not seconds.
 * Otherwise the same setup as the main config (environment, transform).
 * @type {import('jest').Config}
 */
module.exports = {
  ...require('../../jest.config.js'),
  rootDir: '../..',
  roots: ['<rootDir>/tests/reliability'],
  testMatch: ['**/*.reliability.ts'],
  testTimeout: 300_000,
  // One suite at a time: the crash suite kills and restarts a service process and measures nothing, but
  // the fault suites wait on real timers and a 2-core machine has no room for both at once.
  maxWorkers: 1,
};
