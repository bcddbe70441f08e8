import { PromiseContext, createPromiseContext, stopPromiseContexts } from '../../src/server/storage/promiseContext';

/**
 * The context the store's transaction scope lives in (transactionScope.ts): what it carries
 * through promises, what it sets back, and what it leaves out (timers), as promiseContext.ts says.
 */
describe('PromiseContext', () => {
  let context: PromiseContext<string>;
  beforeEach(() => {
    context = new PromiseContext<string>();
  });
  afterEach(() => {
    context.stop();
  });

  it('carries the value through awaits of promises, thenables, rejections and branches run in parallel', async () => {
    const seen: (string | undefined)[] = [];
    const work = async () => {
      seen.push(context.getStore());
      await null;
      seen.push(context.getStore());
      await new Promise<void>((resolve) => setTimeout(resolve, 2));
      seen.push(context.getStore());
      await { then: (resolve: () => void) => resolve() };
      seen.push(context.getStore());
      const branches = await Promise.all([1, 2].map(async (n) => (await Promise.resolve(n), context.getStore())));
      seen.push(...branches);
      try {
        await Promise.reject(new Error('refused'));
      } catch {
        seen.push(context.getStore());
      }
      return context.getStore();
    };
    const result = await context.run('tx-1', work, undefined);
    expect(result).toBe('tx-1');
    expect(seen).toEqual(['tx-1', 'tx-1', 'tx-1', 'tx-1', 'tx-1', 'tx-1', 'tx-1']);
    expect(context.getStore()).toBeUndefined();
  });

  it('keeps two interleaved runs apart, and code chained outside a run outside it', async () => {
    const trace: string[] = [];
    const work = async (name: string) => {
      for (let step = 0; step < 3; step += 1) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        trace.push(`${name}:${context.getStore() ?? 'none'}`);
      }
    };
    const first = context.run('A', work, 'A');
    const second = context.run('B', work, 'B');
    const chainedOutside = first.then(() => context.getStore());
    expect(context.getStore()).toBeUndefined();
    await Promise.all([first, second]);
    expect(await chainedOutside).toBeUndefined();
    expect(trace.filter((entry) => entry.startsWith('A:'))).toEqual(['A:A', 'A:A', 'A:A']);
    expect(trace.filter((entry) => entry.startsWith('B:'))).toEqual(['B:B', 'B:B', 'B:B']);
  });

  it('sets the outer value back after a nested run returns or throws, and passes the argument through', async () => {
    const inner = await context.run(
      'outer',
      async (label: string) => {
        const nested = context.run('inner', async () => (await null, context.getStore()), undefined);
        const afterNestedStarted = context.getStore();
        expect(() =>
          context.run('thrower', () => {
            throw new Error('boom');
          }, undefined),
        ).toThrow('boom');
        const afterThrow = context.getStore();
        await null;
        return [label, await nested, afterNestedStarted, afterThrow, context.getStore()];
      },
      'label',
    );
    expect(inner).toEqual(['label', 'inner', 'outer', 'outer', 'outer']);
    expect(context.getStore()).toBeUndefined();
  });

  it('does not carry the value into a timer callback (it runs with none)', async () => {
    const inTimer = await context.run(
      'tx',
      () => new Promise<string | undefined>((resolve) => setTimeout(() => resolve(context.getStore()), 1)),
      undefined,
    );
    expect(inTimer).toBeUndefined();
  });

  it('carries nothing more once stopped (what the jest setup does after each suite)', async () => {
    const stopped = createPromiseContext<string>();
    const values = await stopped.run(
      'tx',
      async () => {
        await null;
        const before = stopped.getStore();
        stopPromiseContexts();
        await null;
        return [before, stopped.getStore()];
      },
      undefined,
    );
    expect(values).toEqual(['tx', undefined]);
  });
});
