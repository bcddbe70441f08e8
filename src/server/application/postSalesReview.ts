import type { PostSalesView, RequestReviewBody, ReviewView, Settings } from '../../../extensions/contract/api';
import { conflict, notFound } from '../shared/errors';
import { gateAmount, gateStatusOf, isWonStage, reviewRequirement, type Pipeline } from '../domain/gatePolicy';
import type { Decision } from '../domain/reviewDecision';
import { isOpenReview, type Review } from '../domain/reviewLifecycle';
import { isAdmin, isDesignatedReviewer } from '../domain/roles';
import { decidingRoles, triadOf, TRIAD_ROLE_NAMES } from '../domain/triad';
import type { DealSnapshot } from '../storage/dealSnapshotStore';
import type { Store } from '../storage/store';
import { effectiveSettings, type Caller, type GateContext, type GateStoreContext } from './context';
import { deliveryViewOf } from './deliveryView';
import { openReviewWithTasks } from './reviewOpening';

/**
 * Post-sales customization and implementation work (issue 14): asked for on a WON deal, decided by
 * a reviewer like any review, and once approved booked against the same customer share of the
 * quarter (it is customer work too; capacityBookingStore's syncBooking books every approval).
 * It is not the deal's commitment: the deal's `dealgate_commitment*` properties and its
 * `dealgate_status` stay what the pre-sales review made them, and enforcement never looks at it
 * (reviews.latestForDeal returns pre-sales reviews only).
 */

function stageLabelOf(pipeline: Pipeline | undefined, stageId: string | null): string {
  return pipeline?.stages.find((s) => s.id === stageId)?.label ?? stageId ?? 'no stage';
}

/** Why post-sales work cannot be requested on this deal now (null when it can). */
function postSalesRefusal(snapshot: DealSnapshot, pipeline: Pipeline | undefined, postSales: readonly Review[]): string | null {
  if (!isWonStage(pipeline, snapshot.stage)) {
    return `post-sales work is requested on a won deal; deal ${snapshot.dealId} sits in "${stageLabelOf(pipeline, snapshot.stage)}", which is not a won stage (request a review of the deal's commitment instead)`;
  }
  const waiting = postSales.find((r) => isOpenReview(r));
  if (waiting) return `post-sales review #${waiting.id} of this deal is already ${waiting.status}: withdraw it or wait for its answer before requesting another`;
  return null;
}

async function pipelineOf(store: Store, portalId: number, snapshot: DealSnapshot): Promise<Pipeline | undefined> {
  return snapshot.pipeline ? await store.pipelines.get(portalId, snapshot.pipeline) : undefined;
}

/**
 * POST /deals/:dealId/reviews with `kind: post_sales`: opens a pending post-sales review of a won
 * deal with a task for each reviewer, in one transaction under the deal's lock. 409 when the deal
 * is not won or a post-sales review of it is already waiting.
 */
export async function openPostSalesReview(ctx: GateContext, caller: Caller, dealId: string, body: RequestReviewBody): Promise<Review> {
  const { store } = ctx;
  const { portalId, userId } = caller;
  return await store.transaction(async () => {
    await store.deals.lockForChange(portalId, dealId);
    const now = ctx.clock.now();
    const snapshot = await store.deals.get(portalId, dealId);
    if (!snapshot || snapshot.deleted) throw notFound(`deal ${dealId} is not known to Dealgate`);
    const { settings } = await effectiveSettings(ctx, portalId);
    const pipeline = await pipelineOf(store, portalId, snapshot);
    const refusal = postSalesRefusal(snapshot, pipeline, await store.reviews.postSalesForDeal(portalId, dealId));
    if (refusal !== null) throw conflict(refusal, { kind: 'post_sales', stage: snapshot.stage, stageLabel: stageLabelOf(pipeline, snapshot.stage) });
    const latest = await store.reviews.latestForDeal(portalId, dealId);
    return await openReviewWithTasks(store, settings, {
      portalId,
      dealId,
      dealName: snapshot.name,
      kind: 'post_sales',
      summary: body.summary,
      effortWeeks: body.effortWeeks,
      neededBy: body.neededBy ?? null,
      amount: gateAmount(snapshot).amount,
      requestedBy: userId,
      // The gate's status stays what it was: the audit entry records it as the request's context.
      fromStatus: gateStatusOf(snapshot, reviewRequirement(snapshot, settings), latest, now, settings.amountTolerance),
      at: now,
    });
  });
}

/** Why the caller may not decide a waiting post-sales review (null when they may); the service checks again when they do. */
function decideDenial(review: Review, userId: string, settings: Settings, dealOwnerUserId: string | null): string | null {
  if (!isOpenReview(review)) return 'it is not waiting for an answer';
  // Who decides as on the pre-sales review (gateView.ts permissionsOf): with the Triad on, the decision maker's members.
  const triad = triadOf(settings);
  if (!isDesignatedReviewer(userId, decidingRoles(settings, triad))) {
    return triad.enabled
      ? `the Triad is on: the ${TRIAD_ROLE_NAMES[triad.decisionMaker]} makes the call (an admin names them in the settings)`
      : 'only designated reviewers decide; an admin adds reviewers in the settings';
  }
  if (review.requestedBy === userId) return 'you requested this review, so another reviewer must decide it';
  if (dealOwnerUserId === userId) return 'you own this deal, so another reviewer must decide its review';
  return null;
}

/**
 * The card's post-sales part of the gate answer: the deal's post-sales reviews and whether the
 * caller may ask for one. `viewOf` is the gate answer's own review view (gateView.ts), so a
 * post-sales review reads like the pre-sales one.
 */
export async function postSalesViewOf(
  ctx: GateStoreContext,
  caller: Caller,
  snapshot: DealSnapshot,
  dealOwnerUserId: string | null,
  viewOf: (review: Review, decision: Decision | undefined) => ReviewView,
): Promise<PostSalesView> {
  const { store } = ctx;
  const { portalId, userId } = caller;
  const now = ctx.clock.now();
  const { settings } = await effectiveSettings(ctx, portalId);
  const postSales = await store.reviews.postSalesForDeal(portalId, snapshot.dealId);
  const refusal = postSalesRefusal(snapshot, await pipelineOf(store, portalId, snapshot), postSales);
  const reviews = [];
  for (const review of postSales) {
    const decision = await store.reviews.decisionFor(portalId, review.id);
    const denied = decideDenial(review, userId, settings, dealOwnerUserId);
    reviews.push({
      review: { ...viewOf(review, decision), delivery: await deliveryViewOf(store, portalId, review.id, userId, settings, now) },
      canDecide: denied === null,
      canWithdraw: isOpenReview(review) && (review.requestedBy === userId || isAdmin(userId, settings)),
      decideDenied: denied,
    });
  }
  return { canRequest: refusal === null, requestDenied: refusal, reviews };
}
