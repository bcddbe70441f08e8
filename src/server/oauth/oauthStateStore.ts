import type { Db } from '../storage/db';

/**
 * OAuth install states already used at the callback (migration 9): a state is good for one install.
 * Kept until the state would have expired anyway, in the database every instance shares.
 */
export interface OAuthStateRepository {
  /** Marks the state's nonce used: true the first time, false when it already was. Prunes expired rows. */
  consume(nonce: string, expiresAt: number, now: number): boolean;
}

export function sqliteOAuthStates(db: Db): OAuthStateRepository {
  const insert = db.prepare('INSERT INTO used_oauth_states (nonce, expires_at, used_at) VALUES (?, ?, ?) ON CONFLICT (nonce) DO NOTHING');
  const prune = db.prepare('DELETE FROM used_oauth_states WHERE expires_at < ?');
  return {
    consume(nonce, expiresAt, now) {
      prune.run(now);
      return insert.run(nonce, expiresAt, now).changes === 1;
    },
  };
}
