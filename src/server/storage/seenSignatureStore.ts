import type { SqlSession } from './sql';

/**
 * The v3 signatures of card requests that change something, as they were accepted (migration 9):
 * a signature is accepted once (http/signedRequest.ts). Durable, so a restart forgets nothing, and
 * one table for every instance on the database, so a replay sent to another instance is refused too.
 *
 * A row is claimed when the request gets past the signature check and the body parses (`status`
 * NULL: in flight), settled with the status answered once the answer is sent, and deleted when that
 * answer was a 5xx (so HubSpot's own retry of a 5xx, which may carry the same signature, goes
 * through). Rows whose timestamp is out of the window cannot be replayed anyway (the signature check
 * refuses them as stale) and are pruned.
 */
export interface SeenSignature {
  signature: string;
  /** X-HubSpot-Request-Timestamp of the request (ms). */
  signedAt: number;
  /** When Dealgate first accepted it (ms). */
  seenAt: number;
  /** The status it was answered with; null while it runs (or when the process died meanwhile). */
  status: number | null;
}

export interface SeenSignatureRepository {
  /** Records `signature` as seen: true the first time, false when it already was (a replay, or a copy still running). */
  claim(signature: string, signedAt: number, now: number): Promise<boolean>;
  /** The answer to a claimed request: a 5xx releases the signature, anything else keeps it with its status. */
  settle(signature: string, status: number): Promise<void>;
  get(signature: string): Promise<SeenSignature | undefined>;
  /** Deletes the rows signed before `before`; returns how many. */
  prune(before: number): Promise<number>;
  count(): Promise<number>;
}

interface Row {
  signature: string;
  signed_at: number;
  seen_at: number;
  status: number | null;
}

const claim = 'INSERT INTO seen_signatures (signature, signed_at, seen_at, status) VALUES (?, ?, ?, NULL) ON CONFLICT (signature) DO NOTHING';
const keep = 'UPDATE seen_signatures SET status = ? WHERE signature = ?';
const release = 'DELETE FROM seen_signatures WHERE signature = ?';
const get = 'SELECT * FROM seen_signatures WHERE signature = ?';
const prune = 'DELETE FROM seen_signatures WHERE signed_at < ?';
const count = 'SELECT COUNT(*) AS n FROM seen_signatures';

export function seenSignatureRepository(sql: SqlSession): SeenSignatureRepository {
  return {
    async claim(signature, signedAt, now) {
      return (await sql.run(claim, [signature, signedAt, now])).changes === 1;
    },
    async settle(signature, status) {
      if (status >= 500) await sql.run(release, [signature]);
      else await sql.run(keep, [status, signature]);
    },
    async get(signature) {
      const row = await sql.get<Row>(get, [signature]);
      return row ? { signature: row.signature, signedAt: row.signed_at, seenAt: row.seen_at, status: row.status } : undefined;
    },
    async prune(before) {
      return (await sql.run(prune, [before])).changes;
    },
    async count() {
      return (await sql.get<{ n: number }>(count))?.n ?? 0;
    },
  };
}
