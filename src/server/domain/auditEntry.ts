/**
 * One line of the append-only audit log: who did what to which deal (and review), when, from
 * which status to which, and why. Review transitions carry review statuses; gate-level entries
 * (a request, the requirement changing with the amount) carry gate statuses.
 */
export interface AuditEntry {
  dealId: string;
  reviewId: number | null;
  action: string;
  /** A HubSpot user id, or `system` / `hubspot` for changes nobody on the card made. */
  actor: string;
  fromStatus: string | null;
  toStatus: string | null;
  reason: string | null;
  details: Record<string, unknown> | null;
  at: number;
}

/** The actor recorded for what Dealgate does on its own (SLA clock, settings recomputation). */
export const SYSTEM_ACTOR = 'system';
