import type { Absence } from '../domain/absence';
import type { SqlSession } from './sql';

/**
 * Reviewers' absences and their delegates (migration 24). An absence is never deleted: ending it
 * early sets cancelled_at (and who did), so the audit of a delegated decision keeps pointing at a
 * record that exists.
 */
export interface AbsenceRepository {
  insert(portalId: number, absence: Omit<Absence, 'id'>): Promise<Absence>;
  get(portalId: number, absenceId: number): Promise<Absence | undefined>;
  /** Not cancelled and not over at `now` (current and upcoming), soonest start first. */
  listCurrentAndUpcoming(portalId: number, now: number): Promise<Absence[]>;
  /** The user's absences (not cancelled) that overlap [startsAt, endsAt). */
  overlapping(portalId: number, userId: string, startsAt: number, endsAt: number): Promise<Absence[]>;
  /** Ends the absence early; false when it was cancelled already. */
  cancel(portalId: number, absenceId: number, by: string, at: number): Promise<boolean>;
}

interface AbsenceRow {
  id: number;
  user_id: string;
  delegate_user_id: string;
  starts_at: number;
  ends_at: number;
  created_by: string;
  created_at: number;
  cancelled_at: number | null;
  cancelled_by: string | null;
}

const toAbsence = (row: AbsenceRow): Absence => ({
  id: row.id,
  userId: row.user_id,
  delegateUserId: row.delegate_user_id,
  startsAt: row.starts_at,
  endsAt: row.ends_at,
  createdBy: row.created_by,
  createdAt: row.created_at,
  cancelledAt: row.cancelled_at,
  cancelledBy: row.cancelled_by,
});

const COLUMNS = 'id, user_id, delegate_user_id, starts_at, ends_at, created_by, created_at, cancelled_at, cancelled_by';
const insert = `INSERT INTO absences (portal_id, user_id, delegate_user_id, starts_at, ends_at, created_by, created_at)
    VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`;
const get = `SELECT ${COLUMNS} FROM absences WHERE portal_id = ? AND id = ?`;
const currentAndUpcoming = `SELECT ${COLUMNS} FROM absences WHERE portal_id = ? AND cancelled_at IS NULL AND ends_at > ? ORDER BY starts_at, id`;
const overlapping = `SELECT ${COLUMNS} FROM absences
    WHERE portal_id = ? AND user_id = ? AND cancelled_at IS NULL AND starts_at < ? AND ends_at > ? ORDER BY starts_at, id`;
const cancel = 'UPDATE absences SET cancelled_at = ?, cancelled_by = ? WHERE portal_id = ? AND id = ? AND cancelled_at IS NULL';

export function absenceRepository(sql: SqlSession): AbsenceRepository {
  return {
    async insert(portalId, a) {
      const row = await sql.get<{ id: number }>(insert, [portalId, a.userId, a.delegateUserId, a.startsAt, a.endsAt, a.createdBy, a.createdAt]);
      if (!row) throw new Error(`the absence of user ${a.userId} in account ${portalId} was not stored (no id returned)`);
      return { ...a, id: row.id, cancelledAt: null, cancelledBy: null };
    },
    async get(portalId, absenceId) {
      const row = await sql.get<AbsenceRow>(get, [portalId, absenceId]);
      return row ? toAbsence(row) : undefined;
    },
    async listCurrentAndUpcoming(portalId, now) {
      return (await sql.all<AbsenceRow>(currentAndUpcoming, [portalId, now])).map(toAbsence);
    },
    async overlapping(portalId, userId, startsAt, endsAt) {
      return (await sql.all<AbsenceRow>(overlapping, [portalId, userId, endsAt, startsAt])).map(toAbsence);
    },
    async cancel(portalId, absenceId, by, at) {
      return (await sql.run(cancel, [at, by, portalId, absenceId])).changes === 1;
    },
  };
}
