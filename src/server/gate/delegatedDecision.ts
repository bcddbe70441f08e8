import type { DecideResult, Decision } from '../domain/reviewDecision';
import { peopleLabel, personLabel } from '../domain/personLabel';
import { escapeHtml } from './dealEffects';

/**
 * A decision made by a delegate for absent reviewers (issue 15) says so: its audit entry's reason
 * ends with "decided by X, covering for Y" and its details name them (`coveringFor`); the note on
 * the deal has the same line. A decision nobody delegated is left as it is.
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

/** The note's line for a delegated decision ('' otherwise). */
export function coveringLine(decision: Pick<Decision, 'decidedBy'>, coveringFor: readonly string[]): string {
  if (coveringFor.length === 0) return '';
  const text = coveringText(decision.decidedBy, coveringFor);
  return `<p>${escapeHtml(text.charAt(0).toUpperCase() + text.slice(1))} (away).</p>`;
}
