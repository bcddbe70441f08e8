import { triadStanceLabels, type GateResponse, type PerspectiveBody } from '../../../extensions/contract/api';
import { assertWellFormedView, triadOf, TRIAD_ROLE_NAMES, type Perspective } from '../domain/triad';
import { notFound } from '../shared/errors';
import { effectiveSettings, type Caller, type GateContext } from './context';
import { loadDeal } from './dealFacts';
import { buildGateResponse } from './gateView';
import { roleForView } from './triadView';

/**
 * POST /reviews/:reviewId/perspective: a Triad member gives (or changes) their view on a waiting
 * review, in the role the account's settings give them. The latest view of each person counts;
 * every view stays in the history. Refused: 404 a review of another account, 403 the Triad off or
 * a caller named for no role, 409 a review no longer waiting for the call, 400 a view that does
 * not fit the role (its field named).
 */
export async function givePerspective(ctx: GateContext, caller: Caller, reviewId: number, body: PerspectiveBody): Promise<GateResponse> {
  const { store } = ctx;
  const { portalId, userId } = caller;
  const found = await store.reviews.get(portalId, reviewId);
  if (!found) throw notFound(`review ${reviewId} does not exist in this account`);
  const { snapshot, source } = await loadDeal(ctx, portalId, found.dealId);
  await store.transaction(async () => {
    // As the decision does: a view given while the call is being made is in it, or refused (409).
    await store.deals.lockForChange(portalId, found.dealId);
    const at = ctx.clock.now();
    const review = (await store.reviews.get(portalId, reviewId)) ?? found;
    const triad = triadOf((await effectiveSettings(ctx, portalId)).settings);
    const role = roleForView(userId, review, triad);
    const view: Perspective = { userId, role, stance: body.stance, note: body.note?.trim() ?? '', weeks: body.weeks, value: body.value, at };
    assertWellFormedView(view);
    await store.triad.addPerspective(portalId, reviewId, view);
    await store.audit.append(portalId, {
      dealId: review.dealId,
      reviewId,
      action: 'triad_view_given',
      actor: userId,
      fromStatus: null,
      toStatus: null,
      reason: `the ${TRIAD_ROLE_NAMES[role]}'s view: ${triadStanceLabels[body.stance]}${view.note ? `: ${view.note}` : ''}`,
      details: { role, stance: body.stance, weeks: view.weeks ?? null, value: view.value ?? null },
      at,
    });
  });
  return await buildGateResponse(ctx, caller, (await store.deals.get(portalId, found.dealId)) ?? snapshot, source);
}
