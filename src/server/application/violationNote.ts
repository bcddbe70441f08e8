import { escapeHtml } from './dealEffects';
import { describeActor } from './dealEventSource';
import type { StageMoveVerdict } from './enforcementGate';

function nextStep(verdict: StageMoveVerdict, gateLabel: string): string {
  switch (verdict.status) {
    case 'pending':
      return `A technical review is pending. The deal can move past ${gateLabel} once the reviewer answers yes (or yes-but) on the Dealgate card.`;
    case 'overdue':
      return `The technical review is overdue and has been escalated. The deal can move past ${gateLabel} once the reviewer answers yes (or yes-but) on the Dealgate card.`;
    case 'rejected':
      return `The reviewer answered no to this commitment. The deal stays before ${gateLabel} until the commitment is renegotiated: remove or change it on the deal, then request a new review from the Dealgate card.`;
    default:
      return `Request a technical review from the Dealgate card on this deal; once a reviewer answers yes (or yes-but), the deal can move past ${gateLabel}.`;
  }
}


/** Dealgate's names for the facts, as a rep knows them from the card and the deal record. */
const factNames: Record<string, string> = {
  dealgate_commitment: 'the custom commitment checkbox',
  dealgate_commitment_summary: 'the commitment summary',
  dealgate_effort_weeks: 'the engineering effort',
  amount: 'the amount',
  amount_in_home_currency: 'the amount (in the account currency)',
  pipeline: 'the pipeline',
};

/** How the deal came to be past the gate without cover, in words. */
function how(input: { by: string; to: string; change?: { property?: string | null; found?: 'reconciliation' } | undefined }): string {
  const who = describeActor(input.by);
  if (input.change?.found === 'reconciliation') {
    return `Dealgate found it in ${input.to} (moved there by ${who}; HubSpot had not told Dealgate) without a technical review sign-off.`;
  }
  if (input.change !== undefined) {
    const fact = factNames[input.change.property ?? ''] ?? input.change.property ?? 'a fact of the deal';
    return `It sits in ${input.to}, and ${who} changed ${fact}, so no technical review sign-off covers it any more.`;
  }
  return `It was moved to ${input.to} by ${who} without a technical review sign-off.`;
}

/**
 * The note Dealgate leaves on a deal it moved back: what happened, why, and what to do next.
 * HubSpot renders note bodies as HTML, so every value is escaped (as in every other note).
 */
export function stageMoveNote(input: {
  movedBy: string;
  from: string;
  to: string;
  verdict: StageMoveVerdict;
  gateLabel: string | null;
  change?: { property?: string | null; found?: 'reconciliation' } | undefined;
}): string {
  const gateLabel = input.gateLabel ?? 'the gate stage';
  return [
    `<p><strong>Dealgate moved this deal back to ${escapeHtml(input.from)}.</strong></p>`,
    `<p>${escapeHtml(how({ by: input.movedBy, to: input.to, change: input.change }))} ${escapeHtml(input.verdict.reason)}.</p>`,
    `<p>${escapeHtml(nextStep(input.verdict, gateLabel))}</p>`,
  ].join('');
}

/** The note on a won deal Dealgate flagged instead of moving (afterClose is flag). */
export function flaggedNote(input: { by: string; stage: string; verdict: StageMoveVerdict; gateLabel: string | null; cause: string; property: string | null }): string {
  const change = input.cause === 'fact_change' ? { property: input.property } : input.cause === 'reconciliation' ? { found: 'reconciliation' as const } : undefined;
  return [
    `<p><strong>Dealgate flagged this won deal: it has no technical review sign-off.</strong></p>`,
    `<p>${escapeHtml(how({ by: input.by, to: input.stage, change }))} ${escapeHtml(input.verdict.reason)}.</p>`,
    `<p>The deal stays won (this account flags won deals instead of moving them back). Request a technical review from the Dealgate card so engineering can confirm what was promised; the violation is recorded on the deal-desk home page.</p>`,
  ].join('');
}
