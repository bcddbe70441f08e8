const { TestEnvironment } = require('jest-environment-node');

/**
 * jest's node environment, and one thing more: when a suite is over (its own afterAll hooks
 * included), the V8 promise hooks its store set are stopped (src/server/storage/promiseContext.ts).
 * Each suite loads the service's modules afresh but all run in one process, and a hook stays set
 * until stopped: without this, each suite would leave its hooks running on every promise of every
 * suite after it. The suite's setup (stopPromiseContexts.ts) leaves the stop function on its global.
 */
class DealgateNodeEnvironment extends TestEnvironment {
  async teardown() {
    const stop = this.global[Symbol.for('dealgate.stopPromiseContexts')];
    if (typeof stop === 'function') stop();
    await super.teardown();
  }
}

module.exports = DealgateNodeEnvironment;
