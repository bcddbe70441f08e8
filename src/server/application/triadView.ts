import type { PerspectiveView, Settings, TriadCallView, TriadStance, TriadView } from '../../../extensions/contract/api';
import { isOpenReview, type Review } from '../domain/reviewLifecycle';
import { assertMayGiveView, latestViews, notWeighedIn, STANCES, triadOf, triadRoleOf, type Perspective, type TriadRole, type TriadSettings } from '../domain/triad';
import { conflict, DealgateError, forbidden } from '../shared/errors';
import type { Store } from '../storage/store';
import type { TriadCallRecord } from '../storage/triadStore';

/** What the card shows of the Triad on a review: the views so far, who has not weighed in, the caller's part, the call. */

const iso = (ms: number) => new Date(ms).toISOString();

export function stanceOf(view: Perspective): TriadStance {
  const stances: readonly TriadStance[] = STANCES[view.role];
  const stance = stances.find((s) => s === view.stance);
  // Stored views were checked against their role when given (assertWellFormedView).
  if (stance === undefined) throw new Error(`a ${view.role} view with stance "${view.stance}" is stored: views are checked against their role before they are`);
  return stance;
}

export function perspectiveView(view: Perspective): PerspectiveView {
  return { userId: view.userId, role: view.role, stance: stanceOf(view), note: view.note, weeks: view.weeks ?? null, value: view.value ?? null, at: iso(view.at) };
}

function callView(call: TriadCallRecord): TriadCallView {
  return { decidedBy: call.decidedBy, decidedAt: iso(call.decidedAt), disagreeAndCommit: call.disagreeAndCommit, dissent: call.dissent.map(perspectiveView), notWeighedIn: call.notWeighedIn };
}

/**
 * The role in which `userId` gives a view on `review`: 403 when the Triad is off or they hold no
 * role (the role comes from the settings, never from the request), 409 when the review no longer
 * waits for the call.
 */
export function roleForView(userId: string, review: Review, triad: TriadSettings): TriadRole {
  // Off, nobody gives a view, whatever the saved members say (the domain's refusal names why).
  if (!triad.enabled) assertMayGiveView(userId, triad.decisionMaker, triad);
  const role = triadRoleOf(userId, triad);
  if (role === null) throw forbidden('you hold no Triad role in this account, so you give no view; an admin names the Triad in the settings');
  assertMayGiveView(userId, role, triad);
  if (!isOpenReview(review)) throw conflict(`review #${review.id} is ${review.status}: views are given while it waits for the call`, { status: review.status });
  return role;
}

/** Why `userId` may not give a view on `review` now (null: they may). */
function giveViewDenied(userId: string, review: Review | undefined, triad: TriadSettings): string | null {
  if (!review) return 'no review has been requested';
  try {
    roleForView(userId, review, triad);
    return null;
  } catch (error) {
    if (error instanceof DealgateError && (error.code === 'forbidden' || error.code === 'conflict')) return error.message;
    throw error;
  }
}

/** The Triad on the review, as `userId` sees it; null when the Triad is off and the review has no Triad record. */
export async function triadViewOf(store: Store, portalId: number, review: Review | undefined, userId: string, settings: Settings): Promise<TriadView | null> {
  const triad = triadOf(settings);
  const history = review ? await store.triad.perspectives(portalId, review.id) : [];
  const call = review ? await store.triad.callFor(portalId, review.id) : undefined;
  if (!triad.enabled && history.length === 0 && call === undefined) return null;
  const denied = giveViewDenied(userId, review, triad);
  const latest = latestViews(history);
  return {
    enabled: triad.enabled,
    decisionMaker: triad.decisionMaker,
    members: { tech_lead: [...triad.members.tech_lead], product_manager: [...triad.members.product_manager], product_marketing: [...triad.members.product_marketing] },
    views: latest.map(perspectiveView),
    history: history.map(perspectiveView),
    notWeighedIn: call?.notWeighedIn ?? (triad.enabled ? notWeighedIn(triad, latest) : []),
    callerRole: triadRoleOf(userId, triad),
    canGiveView: denied === null,
    giveViewDenied: denied,
    call: call ? callView(call) : null,
  };
}
