import type { Statement } from 'better-sqlite3';
import type { Db } from './db';
import type { SqlDatabase, SqlParams, SqlRunResult, SqlSession } from './sql';
import { isWorkOf, openScope, runInScope, type TransactionScope } from './transactionScope';

/** The SQLite side of the SQL door: one connection, statements prepared once per SQL text. */
export interface SqliteSql extends SqlDatabase {
  /** The connection, for the SQLite-only parts (migrations, the WAL checkpointer, checkWritable). */
  readonly db: Db;
  /** Runs synchronous work on the connection when no transaction is open on it (it waits for one to end). */
  exclusive<T>(work: (db: Db) => T): Promise<T>;
}

/**
 * `transaction` holds the connection from BEGIN IMMEDIATE to COMMIT while its work awaits, and a
 * statement issued meanwhile by anyone else would land inside that transaction (and be rolled back
 * with it), since SQLite has one connection here. So while a transaction is open, every statement
 * on the database waits until it ends (the fast path, nothing open, runs at once); the transaction's
 * own statements go through the session it was given.
 */
export function createSqliteSql(db: Db): SqliteSql {
  const { prepare, all, get, run } = sqliteStatements(db);
  const state: TransactionState = { busy: false, ended: null, active: null };

  // One session object for every transaction (they run one at a time), so the store can keep the
  // repositories it binds to it instead of making them again for each transaction. It answers only
  // inside the open transaction's work: a reference kept past the end (or handed to code outside
  // it) is refused, never run in whatever transaction is open then.
  const txSession: SqlSession = {
    dialect: 'sqlite',
    all: (sql, params) => inside(state, () => all(sql, params)),
    get: (sql, params) => inside(state, () => get(sql, params)),
    run: (sql, params) => inside(state, () => run(sql, params)),
  };

  const self: SqliteSql = {
    dialect: 'sqlite',
    db,
    all: (sql, params) => outside(state, () => all(sql, params)),
    get: (sql, params) => outside(state, () => get(sql, params)),
    run: (sql, params) => outside(state, () => run(sql, params)),
    exclusive: (work) => outside(state, () => work(db)),
    transaction: (work) => runTransaction(self, state, db, prepare, txSession, work),
    close() {
      db.close();
      return Promise.resolve();
    },
  };
  return self;
}

/** Statements prepared once per SQL text, and run with their parameters. */
function sqliteStatements(db: Db) {
  const statements = new Map<string, Statement<unknown[], unknown>>();
  const prepare = (sql: string): Statement<unknown[], unknown> => {
    let statement = statements.get(sql);
    if (statement === undefined) {
      statement = db.prepare<unknown[], unknown>(sql);
      statements.set(sql, statement);
    }
    return statement;
  };
  // better-sqlite3 binds positional parameters given as separate arguments, and the named ones as
  // one object. It also accepts one array, but unpacks it more slowly than a spread (about 4% of
  // the CPU of a webhook batch's ingest, measured for issue 13).
  type Bound = (this: Statement<unknown[], unknown>, ...bind: unknown[]) => unknown;
  const call = (statement: Statement<unknown[], unknown>, method: Bound, params: SqlParams | undefined) =>
    params === undefined ? method.call(statement) : Array.isArray(params) ? method.apply(statement, params) : method.call(statement, params);
  const all = <T>(sql: string, params: SqlParams | undefined): T[] => {
    const statement = prepare(sql);
    return call(statement, statement.all as Bound, params) as T[];
  };
  const get = <T>(sql: string, params: SqlParams | undefined): T | undefined => {
    const statement = prepare(sql);
    return call(statement, statement.get as Bound, params) as T | undefined;
  };
  const run = (sql: string, params: SqlParams | undefined): SqlRunResult => {
    const statement = prepare(sql);
    return { changes: (call(statement, statement.run as Bound, params) as { changes: number }).changes };
  };
  return { prepare, all, get, run };
}

interface TransactionState {
  /** True while a transaction is open. */
  busy: boolean;
  /** Resolved when the open transaction ends: made by the first statement or transaction that waits for it (most never wait). */
  ended: { promise: Promise<void>; resolve: () => void } | null;
  /** The open transaction's scope (transactionScope.ts: the async context of its work); null when none is open. */
  active: TransactionScope | null;
}

const insideOpen = (state: TransactionState) => state.active !== null && isWorkOf(state.active);

function whenEnded(state: TransactionState): Promise<void> {
  if (state.ended === null) {
    let resolve!: () => void;
    const promise = new Promise<void>((done) => {
      resolve = done;
    });
    state.ended = { promise, resolve };
  }
  return state.ended.promise;
}

async function waitForOpen(state: TransactionState): Promise<void> {
  if (insideOpen(state)) {
    throw new Error('a statement on the database inside its own transaction would wait for itself: use the session the transaction gave its work');
  }
  while (state.busy) await whenEnded(state);
}

function outside<T>(state: TransactionState, statement: () => T): Promise<T> {
  if (!state.busy) {
    try {
      return Promise.resolve(statement());
    } catch (error) {
      return Promise.reject(error as Error);
    }
  }
  return waitForOpen(state).then(statement);
}

function inside<T>(state: TransactionState, statement: () => T): Promise<T> {
  try {
    if (!insideOpen(state)) throw new Error('this transaction has ended: its session can no longer be used');
    return Promise.resolve(statement());
  } catch (error) {
    return Promise.reject(error as Error);
  }
}

/**
 * BEGIN IMMEDIATE, the work on the transaction's session in a scope of its own, then COMMIT (or
 * ROLLBACK when the work fails or its scope refuses the commit). Not an async function: with no
 * transaction open (the common case) it makes one promise of its own, as each one runs the async
 * context's hook (transactionScope.ts); one open makes it wait for its end and try again.
 */
function runTransaction<T>(
  owner: SqliteSql,
  state: TransactionState,
  db: Db,
  prepare: (sql: string) => Statement<unknown[], unknown>,
  txSession: SqlSession,
  work: (tx: SqlSession) => Promise<T>,
): Promise<T> {
  if (insideOpen(state)) return Promise.reject(new Error('nested transaction: the work of a transaction cannot open another one'));
  if (state.busy) return whenEnded(state).then(() => runTransaction(owner, state, db, prepare, txSession, work));
  state.busy = true;
  const scope = openScope(owner);
  state.active = scope;
  // The scope closes with the transaction's end, in the same synchronous step as COMMIT or
  // ROLLBACK: code the work left queued may still run before COMMIT (inside the transaction),
  // nothing runs with the scope open after it.
  const end = () => {
    scope.open = false;
    state.busy = false;
    state.active = null;
    const ended = state.ended;
    state.ended = null;
    ended?.resolve();
  };
  const rollBack = () => {
    try {
      if (db.inTransaction) prepare('ROLLBACK').run();
    } finally {
      end();
    }
  };
  try {
    prepare('BEGIN IMMEDIATE').run();
  } catch (error) {
    // Nothing began (another process holds the file past the busy timeout): nothing to roll back.
    end();
    return Promise.reject(error as Error);
  }
  let running: Promise<T>;
  try {
    running = runInScope(scope, () => work(txSession));
  } catch (error) {
    // A failing ROLLBACK's error replaces the work's, as a rejection (never a throw from here).
    try {
      rollBack();
    } catch (rollbackError) {
      return Promise.reject(rollbackError as Error);
    }
    return Promise.reject(error as Error);
  }
  return running.then(
    (result) => {
      try {
        // A savepoint the work could not undo (repositories.ts, nested): the whole transaction rolls back.
        if (scope.refusal) throw scope.refusal;
        prepare('COMMIT').run();
      } catch (error) {
        rollBack();
        throw error;
      }
      end();
      return result;
    },
    (error: unknown) => {
      rollBack();
      throw error;
    },
  );
}
