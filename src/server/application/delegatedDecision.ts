import type { DecideResult } from '../domain/reviewDecision';
import { peopleLabel, personLabel } from '../domain/personLabel';

/**
 * A decision made by a delegate for absent reviewers (issue 15) says so: its audit entry's reason
 * ends with "decided by X, covering for Y" and its details name them (`coveringFor`); the note on
 * the deal says it on its "Decided by" line (decisionNote). A decision nobody delegated is left as it is.
 */
export function coveringText(decidedBy: string, coveringFor: readonly string[]): string {
  return `decided by ${personLabel(decidedBy)}, covering for ${peopleLabel(coveringFor)}`;
}

export function withCovering(decided: DecideResult, coveringFor: readonly string[]): DecideResult {
  if (coveringFor.length === 0) return decided;
  const { audit } = decided;
  return {
    ...decided,
    audit: {
      ...audit,
      reason: `${audit.reason ?? 'decided'}; ${coveringText(decided.decision.decidedBy, coveringFor)}`,
      details: { ...(audit.details ?? {}), coveringFor: [...coveringFor] },
    },
  };
}
