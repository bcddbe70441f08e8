import type { BreakGlass } from '../domain/breakGlass';
import { escapeHtml } from './dealEffects';

/**
 * The notes a break-glass leaves on the deal (via the outbox): who, why and until when; and how it
 * ended. `openedBy` is how the note names whoever opened it (their name from the cached people,
 * else "user N").
 */

const iso = (ms: number) => new Date(ms).toISOString();

export function breakGlassOpenedNote(glass: Pick<BreakGlass, 'reason' | 'until'>, gateLabel: string | null, openedBy: string): string {
  return (
    `<p><strong>Dealgate: break-glass.</strong> ${escapeHtml(openedBy)} let this deal pass ${gateLabel ? `the ${escapeHtml(gateLabel)} gate` : 'the gate'} without a technical review, until ${iso(glass.until)}.</p>` +
    `<p>Why: ${escapeHtml(glass.reason)}</p>` +
    `<p>The review must be decided by then: if it is not, Dealgate treats the deal like any other past the gate without sign-off and moves it back.</p>`
  );
}

export function breakGlassExpiredNote(glass: Pick<BreakGlass, 'until'>, openedBy: string): string {
  return (
    `<p><strong>Dealgate: the break-glass by ${escapeHtml(openedBy)} ended at ${iso(glass.until)} with no decision.</strong></p>` +
    `<p>The deal is judged like any other now: past the gate without sign-off, it is moved back. Request or chase the technical review from the Dealgate card.</p>`
  );
}
