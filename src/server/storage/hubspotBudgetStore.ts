import { z } from 'zod';
import type { SqlSession } from './sql';

/**
 * One account's share of a HubSpot rate limit, as every instance on the database sees it
 * (hubspot/rateBudget.ts decides on it, hubspot/rateGovernor.ts draws from it). HubSpot counts
 * requests per app and account (110 per rolling 10 s for OAuth apps, 5 searches a second), so
 * the instances sharing the database share this row, not a counter each.
 */
export interface PermitReservation {
  /** The last moment its permits may be handed out: each counts against the window until useBy + window. */
  useBy: number;
  permits: number;
}

export interface HubSpotBudgetState {
  /** Reservations still inside the window (older ones are dropped when the row is written). */
  reservations: PermitReservation[];
  /** HubSpot answered 429: nobody sends before this. */
  pausedUntil: number;
  /** Until then the budget is halved (a 429 in the last minute). */
  slowUntil: number;
  /** 429s in a row while slowed down (the pause doubles with each). */
  recent429s: number;
}

/** HubSpot's names for its limits (a 429 body's policyName): the 10-second one, and the search API's per second. */
export type HubSpotLimitPolicy = 'TEN_SECONDLY_ROLLING' | 'SECONDLY';

export interface VersionedBudget {
  /** Bumped by every write; undefined while the account has no row under this policy. */
  version: number | undefined;
  state: HubSpotBudgetState;
}

export interface HubSpotBudgetRepository {
  read(portalId: number, policy: HubSpotLimitPolicy): Promise<VersionedBudget | undefined>;
  /**
   * Writes `next` only if the row is still at `version` (undefined: only if there is no row yet),
   * in one statement: the new version, or undefined when another instance wrote first (read
   * again and decide again). Optimistic rather than a locking transaction: one round trip, and
   * no lock held across an await.
   */
  write(portalId: number, policy: HubSpotLimitPolicy, version: number | undefined, next: HubSpotBudgetState, at: number): Promise<number | undefined>;
}

export const EMPTY_BUDGET: HubSpotBudgetState = { reservations: [], pausedUntil: 0, slowUntil: 0, recent429s: 0 };

/** Stored compactly as `[[useBy, permits], ...]`: at most one entry per trip inside a window. */
const reservationsColumn = z.array(z.tuple([z.number().int(), z.number().int().positive()]));

interface BudgetRow {
  version: number;
  reservations: string;
  paused_until: number;
  slow_until: number;
  recent_429s: number;
}

function stateOf(row: BudgetRow, portalId: number, policy: HubSpotLimitPolicy): HubSpotBudgetState {
  const parsed = reservationsColumn.safeParse(JSON.parse(row.reservations));
  if (!parsed.success) {
    throw new Error(`hubspot_budgets row of account ${portalId} (${policy}) has unreadable reservations: ${parsed.error.message}`);
  }
  return {
    reservations: parsed.data.map(([useBy, permits]) => ({ useBy, permits })),
    pausedUntil: row.paused_until,
    slowUntil: row.slow_until,
    recent429s: row.recent_429s,
  };
}

export function hubspotBudgetRepository(sql: SqlSession): HubSpotBudgetRepository {
  return {
    async read(portalId, policy) {
      const row = await sql.get<BudgetRow>(
        'SELECT version, reservations, paused_until, slow_until, recent_429s FROM hubspot_budgets WHERE portal_id = ? AND policy = ?',
        [portalId, policy],
      );
      return row ? { version: row.version, state: stateOf(row, portalId, policy) } : undefined;
    },

    async write(portalId, policy, version, next, at) {
      const params = {
        portalId,
        policy,
        reservations: JSON.stringify(next.reservations.map((r) => [r.useBy, r.permits])),
        pausedUntil: next.pausedUntil,
        slowUntil: next.slowUntil,
        recent429s: next.recent429s,
        at,
      };
      if (version === undefined) {
        const inserted = await sql.run(
          `INSERT INTO hubspot_budgets (portal_id, policy, version, reservations, paused_until, slow_until, recent_429s, updated_at)
           VALUES (@portalId, @policy, 1, @reservations, @pausedUntil, @slowUntil, @recent429s, @at)
           ON CONFLICT (portal_id, policy) DO NOTHING`,
          params,
        );
        return inserted.changes === 1 ? 1 : undefined;
      }
      const updated = await sql.run(
        `UPDATE hubspot_budgets
            SET version = version + 1, reservations = @reservations, paused_until = @pausedUntil,
                slow_until = @slowUntil, recent_429s = @recent429s, updated_at = @at
          WHERE portal_id = @portalId AND policy = @policy AND version = @version`,
        { ...params, version },
      );
      return updated.changes === 1 ? version + 1 : undefined;
    },
  };
}
