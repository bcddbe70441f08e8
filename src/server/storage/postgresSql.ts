import pg from 'pg';
import type { SqlDatabase, SqlParams, SqlRunResult, SqlSession, SqlValue } from './sql';
import { TRANSACTION_SESSION } from './withinTransaction';
import { insideTransaction, openScope, runInScope } from './transactionScope';

/**
 * The PostgreSQL side of the SQL door (sql.ts), over a `pg.Pool`: the statements the repositories
 * write for both engines (`?` or `@name` placeholders) become PostgreSQL's `$n`, and what comes
 * back looks as it does on SQLite (integers as numbers, binary as Buffer).
 */
export interface PostgresDatabaseOptions {
  /** Connections in the pool (pg's default is 10). */
  maxConnections?: number;
  /** Told about an idle connection that failed (the server restarted, the network dropped); pg would otherwise crash the process. */
  onIdleError?: (error: Error) => void;
  /** Shown in pg_stat_activity, so an operator can tell the instances apart. */
  applicationName?: string;
  /**
   * Statements with parameters run as named prepared statements, parsed and planned once per
   * connection (default true). Measured on loopback under load: a primary-key read took about
   * 80-120 µs prepared against 150-270 µs as a plain parameterized query.
   */
  preparedStatements?: boolean;
}

/** OIDs from PostgreSQL's pg_type catalogue. */
const INT8_OID = 20;
const INT4_OID = 23;
const NUMERIC_OID = 1700;

/**
 * Integers come back as JavaScript numbers, as on SQLite: pg leaves int8 and numeric as strings
 * (they may exceed 2^53), and COUNT(*) is int8 and SUM of a BIGINT numeric. Our integers are ids,
 * counts and epoch milliseconds, far below 2^53. Set on this pool only, not on pg's global
 * parsers, so another pool in the same process (a library, a test) keeps its own.
 */
const types: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: string) => {
    if (format !== 'binary' && (oid === INT8_OID || oid === INT4_OID || oid === NUMERIC_OID)) {
      return (value: string) => Number(value);
    }
    return pg.types.getTypeParser(oid, format as 'text');
  }) as pg.CustomTypesConfig['getTypeParser'],
};

interface TranslatedSql {
  text: string;
  /** Its prepared statement's name; changed when PostgreSQL refuses the prepared plan (see query). */
  name?: string;
  /** For `@name` statements, the name behind each `$n` in order (a repeated name once per use); null for `?` statements. */
  names: string[] | null;
  positionalCount: number;
}

/**
 * Rewrites `?` and `@name` to `$n`, in order. A name used twice gets a `$n` per use, bound to the
 * same value: PostgreSQL infers each parameter's type from where it stands, and one `$n` used as a
 * BIGINT and as an INTEGER (or TEXT) is refused ("inconsistent types deduced"), where SQLite takes it. Quoted strings, quoted identifiers and comments are copied as they are, so a
 * statement that breaks the rule of sql.ts still reaches PostgreSQL as written.
 */
export function translatePlaceholders(sql: string): TranslatedSql {
  let text = '';
  let positionalCount = 0;
  const names: string[] = [];
  let i = 0;
  while (i < sql.length) {
    const ch = sql[i]!;
    if (ch === "'" || ch === '"') {
      const end = sql.indexOf(ch, i + 1);
      const stop = end === -1 ? sql.length : end + 1;
      text += sql.slice(i, stop);
      i = stop;
    } else if (ch === '-' && sql[i + 1] === '-') {
      const end = sql.indexOf('\n', i);
      const stop = end === -1 ? sql.length : end;
      text += sql.slice(i, stop);
      i = stop;
    } else if (ch === '?') {
      positionalCount += 1;
      text += `$${positionalCount}`;
      i += 1;
    } else if (ch === '@' && /[A-Za-z_]/.test(sql[i + 1] ?? '')) {
      let end = i + 1;
      while (end < sql.length && /[A-Za-z0-9_]/.test(sql[end]!)) end += 1;
      names.push(sql.slice(i + 1, end));
      text += `$${names.length}`;
      i = end;
    } else {
      text += ch;
      i += 1;
    }
  }
  if (positionalCount > 0 && names.length > 0) {
    throw new Error(`SQL mixes ? and @name placeholders (use one kind per statement): ${sql}`);
  }
  return { text, names: names.length > 0 ? names : null, positionalCount };
}

/** Statements are a fixed set of literals in the repositories; the bound only guards against a caller that builds SQL text per call. */
const TRANSLATION_CACHE_LIMIT = 2000;

function bindValues(translated: TranslatedSql, params: SqlParams | undefined, sql: string): SqlValue[] | undefined {
  if (translated.names) {
    if (!params || Array.isArray(params)) {
      throw new Error(`SQL uses @name placeholders but was given ${params ? 'an array' : 'no parameters'}: ${sql}`);
    }
    const named = params as Readonly<Record<string, SqlValue>>;
    return translated.names.map((name) => {
      const value = named[name];
      if (value === undefined) throw new Error(`Missing named parameter @${name} for: ${sql}`);
      return value;
    });
  }
  if (params === undefined) return translated.positionalCount > 0 ? [] : undefined;
  if (!Array.isArray(params)) {
    if (translated.positionalCount === 0 && Object.keys(params).length === 0) return undefined;
    throw new Error(`SQL uses ? placeholders but was given named parameters: ${sql}`);
  }
  const positional = params as readonly SqlValue[];
  if (positional.length !== translated.positionalCount) {
    throw new Error(`SQL has ${translated.positionalCount} ? placeholders but was given ${positional.length} values: ${sql}`);
  }
  return positional.length > 0 ? [...positional] : undefined;
}

type Queryable = Pick<pg.PoolClient, 'query'>;

export function createPostgresDatabase(url: string, options: PostgresDatabaseOptions = {}): SqlDatabase {
  const pool = new pg.Pool({
    connectionString: url,
    types,
    ...(options.maxConnections !== undefined ? { max: options.maxConnections } : {}),
    ...(options.applicationName !== undefined ? { application_name: options.applicationName } : {}),
  });
  pool.on('error', options.onIdleError ?? (() => undefined));
  const query = statementRunner(options.preparedStatements ?? true);

  // Which transaction (if any) the running code is inside (transactionScope.ts), so that opening a
  // second one from within `work` is refused instead of waiting on a second connection (with the
  // pool exhausted by such waits, every transaction would hang).
  let closed = false;
  // A statement on the database from the work of an open transaction would run on another
  // connection: outside the transaction (kept when it rolls back) and waiting on its row locks
  // (forever, if the work awaits it). Refused, as SQLite refuses it.
  const database = sessionOver(query, () => {
    if (insideTransaction(self)) {
      throw new Error('a statement on the database inside its own transaction would run outside it: use the session the transaction gave its work');
    }
    return pool;
  }, false);

  const self: SqlDatabase = {
    ...database,
    transaction<T>(work: (tx: SqlSession) => Promise<T>): Promise<T> {
      return runTransaction(self, pool, query, work);
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      await pool.end();
    },
  };
  return self;
}

type Query = <T>(on: Queryable, sql: string, params: SqlParams | undefined, inTransaction: boolean) => Promise<pg.QueryResult<T & pg.QueryResultRow>>;

/** Runs a statement: its placeholders translated once per text, prepared under a name of its own unless `prepared` is off. */
function statementRunner(prepared: boolean): Query {
  // Names are never reused for another text (pg refuses a name it parsed for a different one), so they only grow.
  let statementCount = 0;
  const nextName = () => `dealgate_${++statementCount}`;
  const translations = new Map<string, TranslatedSql>();
  function translate(sql: string): TranslatedSql {
    let translated = translations.get(sql);
    if (!translated) {
      translated = translatePlaceholders(sql);
      translated.name = nextName();
      if (translations.size >= TRANSLATION_CACHE_LIMIT) translations.clear();
      translations.set(sql, translated);
    }
    return translated;
  }

  return async function query<T>(on: Queryable, sql: string, params: SqlParams | undefined, inTransaction: boolean): Promise<pg.QueryResult<T & pg.QueryResultRow>> {
    const translated = translate(sql);
    const values = bindValues(translated, params, sql);
    // Without values pg uses the simple protocol, which also runs a script of several statements (the migrations).
    if (values === undefined) return on.query<T & pg.QueryResultRow>(translated.text);
    if (!prepared) return on.query<T & pg.QueryResultRow>(translated.text, values);
    try {
      return await on.query<T & pg.QueryResultRow>({ name: translated.name, text: translated.text, values });
    } catch (error) {
      // A migration that changes a table's columns (another instance's, during a rolling deploy)
      // makes PostgreSQL refuse a statement prepared before it whose result has another shape.
      // A new name prepares it afresh on every connection; outside a transaction it is retried
      // here, inside one the transaction is already aborted and fails.
      if ((error as { code?: string }).code !== '0A000' || !/cached plan must not change result type/.test((error as Error).message)) throw error;
      translated.name = nextName();
      if (inTransaction) throw error;
      return on.query<T & pg.QueryResultRow>({ name: translated.name, text: translated.text, values });
    }
  };
}

/** A session whose statements run on `on()` (the pool, or one transaction's client). */
function sessionOver(query: Query, on: () => Queryable, inTransaction: boolean): SqlSession {
  return {
    dialect: 'postgres',
    async all<T>(sql: string, params?: SqlParams): Promise<T[]> {
      return (await query<T>(on(), sql, params, inTransaction)).rows;
    },
    async get<T>(sql: string, params?: SqlParams): Promise<T | undefined> {
      return (await query<T>(on(), sql, params, inTransaction)).rows[0];
    },
    async run(sql: string, params?: SqlParams): Promise<SqlRunResult> {
      return { changes: (await query(on(), sql, params, inTransaction)).rowCount ?? 0 };
    },
  };
}

/** `work` in one transaction on a connection of its own, given a session bound to it; a transaction from within `work` is refused. */
async function runTransaction<T>(owner: SqlDatabase, pool: pg.Pool, query: Query, work: (tx: SqlSession) => Promise<T>): Promise<T> {
  if (insideTransaction(owner)) {
    throw new Error('Nested transaction refused: the work of a transaction runs on the session it is given, and may not open another');
  }
  const client = await pool.connect();
  let finished = false;
  const tx: SqlSession & { transaction(): never; [TRANSACTION_SESSION]: true } = {
    ...sessionOver(query, () => {
      if (finished) throw new Error('This transaction has ended; its session cannot run statements any more');
      return client;
    }, true),
    // Repository methods that must land together (withinTransaction) run on it, not in a new one.
    [TRANSACTION_SESSION]: true,
    transaction(): never {
      throw new Error('Nested transaction refused: a transaction session cannot open another transaction');
    },
  };
  let broken: Error | undefined;
  try {
    await client.query('BEGIN');
    let result: T;
    const scope = openScope(owner);
    try {
      result = await runInScope(scope, () => work(tx));
    } finally {
      // Ended with its work: a statement left running past it would queue after COMMIT or ROLLBACK
      // on this connection and run in autocommit, kept even when the transaction rolled back.
      scope.open = false;
      finished = true;
    }
    // A savepoint the work could not undo (repositories.ts, nested): the whole transaction rolls back.
    if (scope.refusal) throw scope.refusal;
    await client.query('COMMIT');
    return result;
  } catch (error) {
    try {
      await client.query('ROLLBACK');
    } catch (rollbackError) {
      // A connection that cannot roll back is not given back to the pool for the next caller.
      broken = rollbackError as Error;
    }
    throw error;
  } finally {
    finished = true;
    client.release(broken);
  }
}
