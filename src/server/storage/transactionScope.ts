import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * Whether the running code is inside a store transaction (Store.transaction sets it for the work
 * and everything it awaits), so that a HubSpot call there fails at once: a transaction held open
 * across a network call would hold SQLite's one write lock (or a PostgreSQL connection and its row
 * locks) for as long as HubSpot takes, and a rollback after the call could not take its effect back.
 */
const scope = new AsyncLocalStorage<true>();

export function runInTransactionScope<T>(work: () => Promise<T>): Promise<T> {
  return scope.run(true, work);
}

export function insideTransaction(): boolean {
  return scope.getStore() === true;
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
  if (scope.getStore() === true) throw new HubSpotCallInTransactionError(what);
}
