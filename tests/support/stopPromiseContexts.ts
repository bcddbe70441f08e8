import { stopPromiseContexts } from '../../src/server/storage/promiseContext';

// Leaves the suite's stop function where the test environment (nodeEnvironment.js) finds it once
// the suite, its afterAll hooks included, is over: a hook stopped earlier would leave a
// transaction still running in the suite's teardown without its scope.
(globalThis as Record<symbol, unknown>)[Symbol.for('dealgate.stopPromiseContexts')] = stopPromiseContexts;
