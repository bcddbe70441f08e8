import { escapeHtml } from '../gate/dealEffects';
import type { StageMoveVerdict } from './dealEvents';

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

/**
 * The note Dealgate leaves on a deal it moved back: what happened, why, and what to do next.
 * HubSpot renders note bodies as HTML, so every value is escaped (as in every other note).
 */
export function stageMoveNote(input: { movedBy: string; from: string; to: string; verdict: StageMoveVerdict; gateLabel: string | null }): string {
  const who = /^\d+$/.test(input.movedBy) ? `user ${input.movedBy}` : input.movedBy === 'hubspot' ? 'an automation or integration' : input.movedBy;
  const gateLabel = input.gateLabel ?? 'the gate stage';
  return [
    `<p><strong>Dealgate moved this deal back to ${escapeHtml(input.from)}.</strong></p>`,
    `<p>It was moved to ${escapeHtml(input.to)} by ${escapeHtml(who)} without a technical review sign-off. ${escapeHtml(input.verdict.reason)}.</p>`,
    `<p>${escapeHtml(nextStep(input.verdict, gateLabel))}</p>`,
  ].join('');
}
