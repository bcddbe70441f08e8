import { promiseHooks } from 'node:v8';

/**
 * A value that follows the running code through promises, like `AsyncLocalStorage` but over V8's
 * promise hooks alone (issue 13): Node 20's `AsyncLocalStorage` runs async_hooks' bookkeeping for
 * every promise made anywhere in the process, which cost an inbox round (a store transaction per
 * event, about 14 promises each) most of the 10% it may spend over the synchronous store. These
 * hooks do the least that carries a value: a promise made while a value is set keeps it, and the
 * value is set again while that promise's reactions (a `then` callback, an `await` resuming) run.
 *
 * What it carries, and what it does not (the store's transaction scope needs only the first):
 * - everything a function run with `run` awaits or chains, however deep, including awaits of
 *   thenables and of promises settled from I/O callbacks (the reaction belongs to the promise made
 *   at the `await`, in the value's reach, not to the code that settled it);
 * - not timers, I/O callbacks or event listeners registered inside (`setTimeout`, `setImmediate`,
 *   an emitter's `on`): they run with no value, where AsyncLocalStorage would carry it.
 *
 * The hooks are set when the first `run` starts (nothing is paid before) and stay until `stop`.
 * Node keeps every hook set until it is stopped, so jest (every suite one module registry, all in
 * one process) stops them when a suite is over: its test environment (tests/support/nodeEnvironment.js)
 * calls `stopPromiseContexts`, which the suite's setup (tests/support/stopPromiseContexts.ts) hands it.
 */
export class PromiseContext<T> {
  private current: T | undefined = undefined;
  /** The values to set back when a reaction ends (reactions run one at a time, from the microtask queue). */
  private readonly saved: (T | undefined)[] = [];
  /** Where a promise keeps the value it was made in (a property of its own, not a WeakMap: faster). */
  private readonly key = Symbol('PromiseContext');
  private stopHooks: (() => void) | undefined = undefined;

  /** The value the running code was run (or chained from code run) with; undefined outside any. */
  getStore(): T | undefined {
    return this.current;
  }

  /** Calls `fn(arg)` with `value` set, for it and everything it awaits; the value before is set back when `fn` returns or throws. */
  run<A, R>(value: T, fn: (arg: A) => R, arg: A): R {
    if (this.stopHooks === undefined) this.startHooks();
    const before = this.current;
    this.current = value;
    try {
      return fn(arg);
    } finally {
      this.current = before;
    }
  }

  /** Removes the hooks (values already on promises are not read any more). */
  stop(): void {
    this.stopHooks?.();
    this.stopHooks = undefined;
    this.current = undefined;
    this.saved.length = 0;
  }

  private startHooks(): void {
    const { key, saved } = this;
    type Carrier = Promise<unknown> & Record<symbol, T | undefined>;
    const stop = promiseHooks.createHook({
      init: (promise) => {
        if (this.current !== undefined) (promise as Carrier)[key] = this.current;
      },
      before: (promise) => {
        saved.push(this.current);
        this.current = (promise as Carrier)[key];
      },
      after: () => {
        this.current = saved.pop();
      },
    });
    // createHook's declared type is `Function`; the wrapper gives it a callable one.
    this.stopHooks = () => void stop();
  }
}

const contexts = new Set<PromiseContext<unknown>>();

/** A PromiseContext that `stopPromiseContexts` stops. */
export function createPromiseContext<T>(): PromiseContext<T> {
  const context = new PromiseContext<T>();
  contexts.add(context as PromiseContext<unknown>);
  return context;
}

/** Stops the hooks of every context this module made (jest, after each suite: see the class). */
export function stopPromiseContexts(): void {
  for (const context of contexts) context.stop();
}
