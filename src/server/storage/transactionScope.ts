import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * The store transaction the running code is inside (Store.transaction sets it for the work and
 * everything it awaits), for two things:
 * - the store's repositories, used inside the work, act on the transaction (as they did when the
 *   work was synchronous), so code called from a transaction needs no handle passed down to it;
 * - a HubSpot call there fails at once: a transaction held open across a network call would hold
 *   SQLite's one write lock (or a PostgreSQL connection and its row locks) for as long as HubSpot
 *   takes, and a rollback after the call could not take its effect back.
 */
export interface TransactionScope<Repositories> {
  readonly repositories: Repositories;
  /** False once the transaction has committed or rolled back. */
  open: boolean;
}

const scope = new AsyncLocalStorage<TransactionScope<unknown>>();

export async function runInTransactionScope<R, T>(repositories: R, work: (repositories: R) => Promise<T>): Promise<T> {
  const current: TransactionScope<R> = { repositories, open: true };
  try {
    return await scope.run(current, () => work(repositories));
  } finally {
    current.open = false;
  }
}

/** The open transaction's repositories, when the running code is inside one. */
export function currentTransaction<R>(): R | undefined {
  const current = scope.getStore();
  return current !== undefined && current.open ? (current.repositories as R) : undefined;
}

export function insideTransaction(): boolean {
  return scope.getStore()?.open === true;
}

export class HubSpotCallInTransactionError extends Error {
  constructor(what: string) {
    super(
      `${what}: HubSpot was called inside a store transaction. Effects on HubSpot go through the outbox ` +
        '(written in the transaction, delivered after it), and reads from HubSpot happen before the transaction starts.',
    );
    this.name = 'HubSpotCallInTransactionError';
  }
}

/** Throws when called inside a store transaction: the HubSpot gateway calls it before every request. */
export function assertOutsideTransaction(what: string): void {
  if (insideTransaction()) throw new HubSpotCallInTransactionError(what);
}
