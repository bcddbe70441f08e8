import { triadStanceLabels, type Settings } from '../../../extensions/contract/api';
import type { Decision } from '../domain/reviewDecision';
import type { Review } from '../domain/reviewLifecycle';
import type { LabelOf } from '../domain/personLabel';
import type { RoleSettings } from '../domain/roles';
import { assertMayMakeTheCall, decidingRoles, judgeCall, triadOf, TRIAD_ROLE_NAMES, type Perspective, type TriadCall } from '../domain/triad';
import { escapeHtml } from './dealEffects';
import type { Store } from '../storage/store';
import { stanceOf } from './triadView';
import { labelsOf } from './people';

/**
 * The Triad's part of a decision (issue 14, disagree and commit). With the Triad on, only the
 * decision maker's role makes the call (403 for anyone else, before anything else is checked), and
 * may make it before every view is in; a call against any view is recorded as
 * disagree-and-commit with the dissent as it stood, and the deal's note says who decided and who
 * disagreed, and why, by name. Off, nothing here changes the decision: one designated reviewer decides.
 */

/** The people who decide under the account's settings; with the Triad on, 403 for a caller who does not make the call. */
export function decidersFor(userId: string, settings: Settings): RoleSettings {
  const triad = triadOf(settings);
  if (triad.enabled) assertMayMakeTheCall(userId, triad);
  return decidingRoles(settings, triad);
}

function stanceWords(view: Perspective): string {
  const label = triadStanceLabels[stanceOf(view)];
  const weeks = view.weeks === undefined ? '' : ` (${view.weeks} weeks)`;
  const value = view.value === undefined ? '' : ` (at ${view.value})`;
  return `${label}${weeks}${value}`;
}

/** How the note and the audit reason name a Triad member: "Ada Lovelace (tech lead)". */
const namedWith = (label: LabelOf) => (p: { userId: string; role: Perspective['role'] }) => `${label(p.userId)} (${TRIAD_ROLE_NAMES[p.role]})`;

/**
 * The paragraphs the decision's note gains: who made the call, who disagreed and why, who had not
 * weighed in; people by name (`label`: the cached people's label, name else email else `user <id>`).
 */
export function triadNote(call: TriadCall, decision: Pick<Decision, 'decidedBy'>, settings: Settings, label: (userId: string) => string): string {
  const maker = TRIAD_ROLE_NAMES[triadOf(settings).decisionMaker];
  const named = namedWith(label);
  const lines = [`<p>Triad decision: the ${escapeHtml(maker)}, ${escapeHtml(label(decision.decidedBy))}, made the call.</p>`];
  if (call.disagreeAndCommit) {
    const dissent = call.dissent.map((v) => `<p>${escapeHtml(named(v))} disagreed: ${escapeHtml(stanceWords(v))}${v.note ? `: ${escapeHtml(v.note)}` : ''}</p>`);
    lines.push(`<p><strong>Disagree and commit</strong>: the call went against ${call.dissent.length === 1 ? 'this view' : 'these views'}; everyone executes it.</p>${dissent.join('')}`);
  } else {
    lines.push('<p>Every view given agreed with the call.</p>');
  }
  if (call.notWeighedIn.length > 0) lines.push(`<p>Not weighed in when the call was made: ${escapeHtml(call.notWeighedIn.map(named).join(', '))}.</p>`);
  return lines.join('');
}

/**
 * With the Triad on, records the call on `review` against the views given so far, with its audit
 * entry, in the decision's transaction; returns what the decision's note gains ('' when off).
 */
export async function recordTriadCall(store: Store, portalId: number, review: Review, decision: Decision, settings: Settings): Promise<string> {
  const triad = triadOf(settings);
  if (!triad.enabled) return '';
  const call = judgeCall(decision.outcome, await store.triad.perspectives(portalId, review.id), triad);
  await store.triad.recordCall(portalId, { ...call, reviewId: review.id, decidedBy: decision.decidedBy, decidedAt: decision.decidedAt });
  // Names from the cached people, read by key: the decision's transaction reads only the database.
  const label = await labelsOf(store, portalId, [decision.decidedBy, ...call.dissent.map((v) => v.userId), ...call.notWeighedIn.map((p) => p.userId)]);
  const named = namedWith(label);
  const maker = `the ${TRIAD_ROLE_NAMES[triad.decisionMaker]}, ${label(decision.decidedBy)},`;
  await store.audit.append(portalId, {
    dealId: review.dealId,
    reviewId: review.id,
    action: call.disagreeAndCommit ? 'triad_disagree_and_commit' : 'triad_call',
    actor: decision.decidedBy,
    fromStatus: null,
    toStatus: null,
    reason: call.disagreeAndCommit
      ? `disagree and commit: ${maker} decided ${decision.outcome} against ${call.dissent.map((v) => `${named(v)}: ${stanceWords(v)}`).join('; ')}`
      : `${maker} decided ${decision.outcome}; no view given disagreed`,
    details: { disagreeAndCommit: call.disagreeAndCommit, dissenters: call.dissent.map((v) => v.userId), notWeighedIn: call.notWeighedIn.map((p) => p.userId) },
    at: decision.decidedAt,
  });
  return triadNote(call, decision, settings, label);
}
