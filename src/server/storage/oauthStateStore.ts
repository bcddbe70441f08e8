import type { SqlSession } from './sql';

/**
 * OAuth install states already used at the callback (migration 9): a state is good for one install.
 * Kept until the state would have expired anyway, in the database every instance shares.
 */
export interface OAuthStateRepository {
  /** Marks the state's nonce used: true the first time, false when it already was. Prunes expired rows. */
  consume(nonce: string, expiresAt: number, now: number): Promise<boolean>;
}

const insert = 'INSERT INTO used_oauth_states (nonce, expires_at, used_at) VALUES (?, ?, ?) ON CONFLICT (nonce) DO NOTHING';
const prune = 'DELETE FROM used_oauth_states WHERE expires_at < ?';

export function oauthStateRepository(sql: SqlSession): OAuthStateRepository {
  return {
    async consume(nonce, expiresAt, now) {
      await sql.run(prune, [now]);
      return (await sql.run(insert, [nonce, expiresAt, now])).changes === 1;
    },
  };
}
