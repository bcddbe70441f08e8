import type { LedgerCommitment } from '../domain/capacityLedger';
import type { SqlSession } from './sql';

/**
 * The capacity ledger's running figures (migration 17): `capacity_bookings` holds one row per
 * approval that consumes capacity now, with its quarter and weeks; `capacity_quarters` the sum of
 * those weeks and their count per quarter. The card and the home page read one quarter's total by
 * its key and its largest commitments from the head of an index, so a load costs the same whether
 * the quarter holds 5 commitments or 5,000.
 *
 * Weeks are kept as whole millionths of a week (`micro_weeks`), so the running sum is integer
 * arithmetic and stays exactly the sum of its rows however many approvals are booked and released
 * (floating-point additions and subtractions drift). An effort typed with more than six decimals
 * is booked to the nearest millionth.
 *
 * `syncBooking` is the one writer: the review repository calls it in the transaction of every
 * write that can change whether a review books capacity (its status, deprioritization or
 * keeps_booking; its decision), and it derives the booking from the review and decision rows as
 * they now are, so the ledger cannot disagree with them.
 */
export const MICRO_WEEKS_PER_WEEK = 1_000_000;

export function toMicroWeeks(weeks: number): number {
  return Math.round(weeks * MICRO_WEEKS_PER_WEEK);
}

export function fromMicroWeeks(microWeeks: number): number {
  return microWeeks / MICRO_WEEKS_PER_WEEK;
}

/**
 * An approval consumes capacity while it is approved (with or without conditions) and not
 * deprioritized, or superseded on a won deal whose changed commitment is not decided yet
 * (keeps_booking). `r` is the review, `d` its decision.
 */
const BOOKED_WHERE = `d.outcome IN ('yes', 'yes_but') AND d.quarter IS NOT NULL AND r.deprioritized_at IS NULL
       AND (r.status IN ('approved', 'approved_with_conditions') OR (r.status = 'superseded' AND r.keeps_booking = 1))`;

const bookedNow = `SELECT d.quarter, r.effort_weeks + COALESCE(d.extra_weeks, 0) AS weeks, d.decided_at
     FROM reviews r JOIN decisions d ON d.review_id = r.id AND d.portal_id = r.portal_id
     WHERE r.portal_id = ? AND r.id = ? AND ${BOOKED_WHERE}`;
const held = 'SELECT quarter, micro_weeks, decided_at FROM capacity_bookings WHERE portal_id = ? AND review_id = ?';
const unbook = 'DELETE FROM capacity_bookings WHERE portal_id = ? AND review_id = ?';
const book = 'INSERT INTO capacity_bookings (portal_id, review_id, quarter, micro_weeks, decided_at) VALUES (?, ?, ?, ?, ?)';
// One statement adds or takes off (negative deltas): relative, so concurrent bookings of one
// quarter on PostgreSQL serialize on the row and both count.
const addToQuarter = `INSERT INTO capacity_quarters (portal_id, quarter, micro_weeks, commitments) VALUES (?, ?, ?, ?)
     ON CONFLICT (portal_id, quarter) DO UPDATE SET micro_weeks = capacity_quarters.micro_weeks + excluded.micro_weeks,
       commitments = capacity_quarters.commitments + excluded.commitments`;
const quarterTotal = 'SELECT micro_weeks, commitments FROM capacity_quarters WHERE portal_id = ? AND quarter = ?';
// The largest first straight from capacity_bookings_largest (no sort), then the deal's name for those few only.
const largest = `SELECT b.review_id, r.deal_id, s.deal_name, r.summary, b.micro_weeks, b.decided_at, b.quarter FROM (
       SELECT review_id, portal_id, micro_weeks, decided_at, quarter FROM capacity_bookings
       WHERE portal_id = ? AND quarter = ? ORDER BY micro_weeks DESC, decided_at, review_id LIMIT ?) b
     JOIN reviews r ON r.id = b.review_id AND r.portal_id = b.portal_id
     LEFT JOIN deal_snapshots s ON s.portal_id = r.portal_id AND s.deal_id = r.deal_id
     ORDER BY b.decided_at, b.review_id`;
const one = `SELECT b.review_id, r.deal_id, s.deal_name, r.summary, b.micro_weeks, b.decided_at, b.quarter
     FROM capacity_bookings b JOIN reviews r ON r.id = b.review_id AND r.portal_id = b.portal_id
     LEFT JOIN deal_snapshots s ON s.portal_id = r.portal_id AND s.deal_id = r.deal_id
     WHERE b.portal_id = ? AND b.review_id = ?`;

interface BookingRow {
  review_id: number;
  deal_id: string;
  deal_name: string | null;
  summary: string;
  micro_weeks: number;
  decided_at: number;
  quarter: string;
}

const toCommitment = (row: BookingRow): LedgerCommitment => ({
  reviewId: row.review_id,
  dealId: row.deal_id,
  dealName: row.deal_name,
  summary: row.summary,
  weeks: fromMicroWeeks(row.micro_weeks),
  decidedAt: row.decided_at,
  quarter: row.quarter,
});

/** Brings the review's booking in line with its rows. Call on the transaction of the write that changed them. */
export async function syncBooking(sql: SqlSession, portalId: number, reviewId: number): Promise<void> {
  const now = await sql.get<{ quarter: string; weeks: number; decided_at: number }>(bookedNow, [portalId, reviewId]);
  const before = await sql.get<{ quarter: string; micro_weeks: number; decided_at: number }>(held, [portalId, reviewId]);
  const microWeeks = now === undefined ? 0 : toMicroWeeks(now.weeks);
  if (now && before && before.quarter === now.quarter && before.micro_weeks === microWeeks && before.decided_at === now.decided_at) return;
  if (before) {
    await sql.run(unbook, [portalId, reviewId]);
    await sql.run(addToQuarter, [portalId, before.quarter, -before.micro_weeks, -1]);
  }
  if (now) {
    await sql.run(book, [portalId, reviewId, now.quarter, microWeeks, now.decided_at]);
    await sql.run(addToQuarter, [portalId, now.quarter, microWeeks, 1]);
  }
}

/** The quarter's running total: its booked weeks in millionths and how many commitments book them. */
export async function quarterTotalOf(sql: SqlSession, portalId: number, quarter: string): Promise<{ microWeeks: number; count: number }> {
  const row = await sql.get<{ micro_weeks: number; commitments: number }>(quarterTotal, [portalId, quarter]);
  return { microWeeks: row?.micro_weeks ?? 0, count: row?.commitments ?? 0 };
}

/** The `limit` largest commitments of the quarter by weeks (ties: the oldest), listed oldest first. */
export async function largestBookings(sql: SqlSession, portalId: number, quarter: string, limit: number): Promise<LedgerCommitment[]> {
  return (await sql.all<BookingRow>(largest, [portalId, quarter, limit])).map(toCommitment);
}

/** The review's booking, when it consumes capacity (any quarter). */
export async function heldBooking(sql: SqlSession, portalId: number, reviewId: number): Promise<LedgerCommitment | undefined> {
  const row = await sql.get<BookingRow>(one, [portalId, reviewId]);
  return row ? toCommitment(row) : undefined;
}
