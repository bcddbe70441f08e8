import { createPromiseContext } from './promiseContext';

/**
 * The store transaction the running code is inside (the engine's transaction sets it for the work
 * and everything it awaits), for two things:
 * - the store's repositories, used inside the work, act on the transaction (as they did when the
 *   work was synchronous), so code called from a transaction needs no handle passed down to it;
 * - a HubSpot call there fails at once: a transaction held open across a network call would hold
 *   SQLite's one write lock (or a PostgreSQL connection and its row locks) for as long as HubSpot
 *   takes, and a rollback after the call could not take its effect back.
 */
export interface TransactionScope {
  /** The engine (the SqlDatabase) the transaction is on: a process may hold several (tests do). */
  readonly owner: object;
  /** The store whose work runs in the transaction (repositories.ts), and its repositories bound to the transaction's session. */
  bound: { store: object; repositories: unknown } | undefined;
  /** False once the transaction has ended (its work settled; on SQLite, with its COMMIT or ROLLBACK). */
  open: boolean;
  /** The open transaction whose work opened this one on another engine (two stores in one process), if any. */
  readonly parent: TransactionScope | undefined;
  /** Set when the transaction must not commit (a savepoint that could not be undone): its engine rolls back instead, with this error. */
  refusal: Error | undefined;
}

/**
 * One scope per engine transaction, in one promise context for the engine (which transaction a
 * statement comes from: sqliteSql.ts and postgresSql.ts refuse a statement on the database, or a
 * second transaction, from inside one) and for the store (its repositories, the HubSpot check).
 * One context and one `run` per transaction: every promise made anywhere pays its hooks, which an
 * inbox round (a transaction per event) measured (issue 13); that is also why it is a
 * PromiseContext and not an AsyncLocalStorage (promiseContext.ts says what each costs and carries).
 * What the context does not carry, a timer's or an emitter's callback set inside the work, runs
 * inside no transaction: a store call from there would be one from outside (on SQLite it waits
 * for the transaction to end), and a HubSpot call from there would not be refused. Nothing here
 * does either: the service's timers and emitters only settle promises, which the work awaits.
 * Code a transaction's work left running past its end (a branch nobody awaited) keeps the scope,
 * closed: it is then inside none.
 */
const scope = createPromiseContext<TransactionScope>();

/**
 * Opens the scope of an engine transaction's work (the engine's `transaction` calls it, runs the
 * work with `runInScope` and closes the scope in its own `finally` when the work has ended). Not
 * an async wrapper of its own: with the scope's hooks set, every promise made anywhere in the
 * process runs them, and an inbox round opens a transaction per event.
 */
export function openScope(owner: object): TransactionScope {
  // The parent is the nearest open scope: code left running past a transaction's end that opens
  // another would otherwise chain every ended scope (and its repositories) behind the new one.
  let parent = scope.getStore();
  while (parent !== undefined && !parent.open) parent = parent.parent;
  return { owner, bound: undefined, open: true, parent, refusal: undefined };
}

/** Runs `work` in the scope `current` (what it awaits stays inside); the caller closes the scope when the work has settled. */
export function runInScope<T>(current: TransactionScope, work: (current: TransactionScope) => Promise<T>): Promise<T> {
  return scope.run(current, work, current);
}

/** Whether the running code is the work of `transaction` (directly, or through one it opened on another engine), while it is open. */
export function isWorkOf(transaction: TransactionScope): boolean {
  if (!transaction.open) return false;
  // The running code's scopes, innermost first (plain loops, not a generator: these run per statement).
  for (let current = scope.getStore(); current !== undefined; current = current.parent) if (current === transaction) return true;
  return false;
}

/** Binds `store`'s repositories to the open transaction the running code is the work of. */
export function bindRepositories<R>(store: object, repositories: R): void {
  const current = scope.getStore();
  if (current === undefined || !current.open) throw new Error('the store\'s repositories can only be bound inside an open transaction');
  current.bound = { store, repositories };
}

/** The open transaction's repositories, when the running code is inside one `store` opened. */
export function currentTransaction<R>(store: object): R | undefined {
  for (let current = scope.getStore(); current !== undefined; current = current.parent) {
    if (current.open && current.bound?.store === store) return current.bound.repositories as R;
  }
  return undefined;
}

/**
 * Refuses the commit of the open transaction whose repositories `store` bound (the running code is
 * its work): its engine rolls it back with `error` once the work ends, whatever the work does with
 * the error it saw. Returns false when the running code is inside no such transaction.
 */
export function refuseCommitOf(store: object, error: Error): boolean {
  for (let current = scope.getStore(); current !== undefined; current = current.parent) {
    if (current.open && current.bound?.store === store) {
      current.refusal ??= error;
      return true;
    }
  }
  return false;
}

/** Whether the running code is inside an open transaction: on `owner` when given, else on any engine (the HubSpot check). */
export function insideTransaction(owner?: object): boolean {
  for (let current = scope.getStore(); current !== undefined; current = current.parent) {
    if (current.open && (owner === undefined || current.owner === owner)) return true;
  }
  return false;
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
