/** What every jest project here shares (jest.config.js, tests/reliability/jest.config.js). */
module.exports = {
  testEnvironment: 'node',
  transform: { '^.+\\.(t|j)sx?$': '<rootDir>/jest.transform.js' },
  // @hubspot/ui-extensions and its @remote-ui dependencies ship ESM only.
  transformIgnorePatterns: ['/node_modules/(?!(@hubspot/ui-extensions|@remote-ui|tinyspy)/)'],
};
