import type { DecideResult } from '../domain/reviewDecision';
import { peopleLabel } from '../domain/personLabel';
import type { TxStore } from '../storage/store';
import { cachedPeople, type PeopleBook } from './people';

/**
 * A decision made by a delegate for absent reviewers (issue 15) says so: its audit entry's reason
 * ends with "decided by X, covering for Y" and its details name them (`coveringFor`); the note on
 * the deal says it on its "Decided by" line (decisionNote). A decision nobody delegated is left as it is.
 */
export function coveringText(decidedBy: string, coveringFor: readonly string[], people: Pick<PeopleBook, 'label'>): string {
  return `decided by ${people.label(decidedBy)}, covering for ${peopleLabel(coveringFor, (id) => people.label(id))}`;
}

/** Names come from the cached people (the database only: this runs inside the decision's transaction). */
export async function withCovering(store: TxStore, portalId: number, decided: DecideResult, coveringFor: readonly string[]): Promise<DecideResult> {
  if (coveringFor.length === 0) return decided;
  const { audit } = decided;
  const people = await cachedPeople(store, portalId, [decided.decision.decidedBy, ...coveringFor]);
  return {
    ...decided,
    audit: {
      ...audit,
      reason: `${audit.reason ?? 'decided'}; ${coveringText(decided.decision.decidedBy, coveringFor, people)}`,
      details: { ...(audit.details ?? {}), coveringFor: [...coveringFor] },
    },
  };
}
