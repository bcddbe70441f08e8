import type { Perspective, TriadCall, TriadRole } from '../domain/triad';
import type { SqlSession } from './sql';

/** The call recorded with a Triad decision: who made it, when, and what it overruled. */
export interface TriadCallRecord extends TriadCall {
  reviewId: number;
  decidedBy: string;
  decidedAt: number;
}

/**
 * The Triad's record (migration 22): every view given on a review, and the call made on it.
 * Written only inside the transaction of what gave the view or made the call, with its audit
 * entry (and, for the call, the decision and its note).
 */
export interface TriadRepository {
  addPerspective(portalId: number, reviewId: number, view: Perspective): Promise<void>;
  /** Every view given on the review, oldest first. */
  perspectives(portalId: number, reviewId: number): Promise<Perspective[]>;
  recordCall(portalId: number, call: TriadCallRecord): Promise<void>;
  callFor(portalId: number, reviewId: number): Promise<TriadCallRecord | undefined>;
}

interface PerspectiveRow {
  user_id: string;
  role: TriadRole;
  stance: string;
  note: string;
  weeks: number | null;
  value: number | null;
  at: number;
}

interface CallRow {
  review_id: number;
  decided_by: string;
  decided_at: number;
  disagree_and_commit: number;
  dissent: string;
  not_weighed_in: string;
}

const insertPerspective = `INSERT INTO triad_perspectives (portal_id, review_id, user_id, role, stance, note, weeks, value, at)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`;
const listPerspectives = `SELECT user_id, role, stance, note, weeks, value, at FROM triad_perspectives
  WHERE portal_id = ? AND review_id = ? ORDER BY id`;
const insertCall = `INSERT INTO triad_calls (portal_id, review_id, decided_by, decided_at, disagree_and_commit, dissent, not_weighed_in)
  VALUES (?, ?, ?, ?, ?, ?, ?)`;
const getCall = `SELECT review_id, decided_by, decided_at, disagree_and_commit, dissent, not_weighed_in FROM triad_calls
  WHERE portal_id = ? AND review_id = ?`;

function toPerspective(row: PerspectiveRow): Perspective {
  return {
    userId: row.user_id,
    role: row.role,
    stance: row.stance,
    note: row.note,
    ...(row.weeks === null ? {} : { weeks: row.weeks }),
    ...(row.value === null ? {} : { value: row.value }),
    at: row.at,
  };
}

export function triadRepository(sql: SqlSession): TriadRepository {
  return {
    async addPerspective(portalId, reviewId, v) {
      await sql.run(insertPerspective, [portalId, reviewId, v.userId, v.role, v.stance, v.note, v.weeks ?? null, v.value ?? null, v.at]);
    },
    async perspectives(portalId, reviewId) {
      return (await sql.all<PerspectiveRow>(listPerspectives, [portalId, reviewId])).map(toPerspective);
    },
    async recordCall(portalId, call) {
      await sql.run(insertCall, [
        portalId,
        call.reviewId,
        call.decidedBy,
        call.decidedAt,
        call.disagreeAndCommit ? 1 : 0,
        JSON.stringify(call.dissent),
        JSON.stringify(call.notWeighedIn),
      ]);
    },
    async callFor(portalId, reviewId) {
      const row = await sql.get<CallRow>(getCall, [portalId, reviewId]);
      if (!row) return undefined;
      return {
        reviewId: row.review_id,
        decidedBy: row.decided_by,
        decidedAt: row.decided_at,
        disagreeAndCommit: row.disagree_and_commit === 1,
        dissent: JSON.parse(row.dissent) as Perspective[],
        notWeighedIn: JSON.parse(row.not_weighed_in) as TriadCall['notWeighedIn'],
      };
    },
  };
}
