import type { SqlSession } from './sql';

/** One of the account's people as HubSpot's owners list gave them (GET /crm/v3/owners). */
export interface StoredPerson {
  userId: string;
  ownerId: string | null;
  firstName: string | null;
  lastName: string | null;
  email: string | null;
  /** A user deactivated in HubSpot (their owner archived): kept for their name, never someone to pick. */
  deactivated: boolean;
}

export interface PeopleRepository {
  /** The account's people as last read, by user id; empty when never read. */
  list(portalId: number): Promise<StoredPerson[]>;
  /** These of the account's people (by user id, through the key: a card names a few people, however many the account has). */
  find(portalId: number, userIds: readonly string[]): Promise<StoredPerson[]>;
  /** When the account's people were last read from HubSpot (null: never). */
  refreshedAt(portalId: number): Promise<number | null>;
  /** Replaces the account's people with what HubSpot just answered. Call inside a transaction, so readers see the old list or the new one. */
  replace(portalId: number, people: readonly StoredPerson[], at: number): Promise<void>;
}

const selectColumns = 'SELECT user_id, owner_id, first_name, last_name, email, deactivated FROM people';
const list = `${selectColumns} WHERE portal_id = ? ORDER BY user_id`;
const refreshedAt = 'SELECT refreshed_at FROM people_refreshes WHERE portal_id = ?';
const deleteAll = 'DELETE FROM people WHERE portal_id = ?';
const insert = 'INSERT INTO people (portal_id, user_id, owner_id, first_name, last_name, email, deactivated) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (portal_id, user_id) DO NOTHING';
// Two instances refreshing the same account at once take turns (PostgreSQL; SQLite has one writer).
const lockAccount = 'SELECT pg_advisory_xact_lock(hashtextextended(?, 0)) AS locked';
const markRefreshed = `INSERT INTO people_refreshes (portal_id, refreshed_at) VALUES (?, ?)
    ON CONFLICT (portal_id) DO UPDATE SET refreshed_at = excluded.refreshed_at`;

interface PersonRow {
  user_id: string;
  owner_id: string | null;
  first_name: string | null;
  last_name: string | null;
  email: string | null;
  deactivated: number | string;
}

function toStored(r: PersonRow): StoredPerson {
  return { userId: r.user_id, ownerId: r.owner_id, firstName: r.first_name, lastName: r.last_name, email: r.email, deactivated: Number(r.deactivated) === 1 };
}

export function peopleRepository(sql: SqlSession): PeopleRepository {
  return {
    async list(portalId) {
      return (await sql.all<PersonRow>(list, [portalId])).map(toStored);
    },
    async find(portalId, userIds) {
      const ids = [...new Set(userIds)];
      if (ids.length === 0) return [];
      const rows = await sql.all<PersonRow>(`${selectColumns} WHERE portal_id = ? AND user_id IN (${ids.map(() => '?').join(', ')})`, [portalId, ...ids]);
      return rows.map(toStored);
    },
    async refreshedAt(portalId) {
      const row = await sql.get<{ refreshed_at: number | string }>(refreshedAt, [portalId]);
      return row ? Number(row.refreshed_at) : null;
    },
    async replace(portalId, people, at) {
      if (sql.dialect === 'postgres') await sql.get(lockAccount, [`dealgate.people:${portalId}`]);
      await sql.run(deleteAll, [portalId]);
      // HubSpot has one owner per user; should a list ever repeat a user id, the first one stays
      // (the caller lists the active owners first).
      for (const p of people) await sql.run(insert, [portalId, p.userId, p.ownerId, p.firstName, p.lastName, p.email, p.deactivated ? 1 : 0]);
      await sql.run(markRefreshed, [portalId, at]);
    },
  };
}
