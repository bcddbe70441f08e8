import type { DecisionBody, GateResponse, GateStatus, RequestReviewBody, Settings } from '../../../extensions/contract/api';
import { forbidden, invalidRequest, notFound } from '../shared/errors';
import { CAPACITY_LIST_LIMIT, commitmentQuarter, consumedWeeks, planApproval, type ApprovalPlan } from '../domain/capacityLedger';
import { amountWithinApproval, gateAmount, gateStatusOf, reviewRequirement } from '../domain/gatePolicy';
import { decideReview, type DecisionInput } from '../domain/reviewDecision';
import { assertMayRequest, isActiveReview, isApproval, isOpenReview, transition, type Review } from '../domain/reviewLifecycle';
import { isAdmin, isDesignatedReviewer } from '../domain/roles';
import { decidingRoles, triadOf } from '../domain/triad';
import type { DealSnapshot } from '../storage/dealSnapshotStore';
import { enqueueEffect } from '../storage/outboxStore';
import { effectiveSettings, type Caller, type GateContext, type GateStoreContext } from './context';
import {
  commitmentProperties,
  completeReviewTasks,
  decisionNote,
  deprioritizedNote,
  projectStatus,
  resolveFlags,
  withCommitment,
} from './dealEffects';
import { ensurePipelines, loadDeal, refreshDeal } from './dealFacts';
import { ownerUserIdOf } from './owners';
import { buildGateResponse } from './gateView';
import { openPostSalesReview } from './postSalesReview';
import { cachedPeople, labelOf } from './people';
import { openDeliveryForApproval } from './deliveryService';
import { deprioritizeDeliveryOf, settleReplacedDelivery } from './deliverySettlement';
import { openReviewWithTasks, supersede } from './reviewOpening';
import { observeRevenueWin } from './revenueGoalWins';
import { decidersFor, recordTriadCall } from './triadCall';
import { absencesInForce, coveringFor } from './delegation';
import { withCovering } from './delegatedDecision';

/**
 * What a rep and a reviewer do from the card: look at the gate, request a review, decide it,
 * withdraw it. Each action is one store transaction holding the state change, its audit entries
 * and its HubSpot effects (outbox rows); HubSpot is only read before it, never inside. Each
 * transaction first locks its deal (deals.lockForChange), so it reads what enforcement and other
 * card actions on the deal committed before it, and they wait for it.
 */

async function prepareDeal(ctx: GateContext, portalId: number, dealId: string) {
  const loaded = await loadDeal(ctx, portalId, dealId);
  await ensurePipelines(ctx, portalId, loaded.snapshot.pipeline, loaded.snapshot.stage);
  return loaded;
}

/** The deal owner's user id, when it matters to what the caller may do (a reviewer looking at a waiting review). */
async function ownerIfDeciding(ctx: GateContext, caller: Caller, snapshot: DealSnapshot): Promise<string | null> {
  if (snapshot.ownerId === null) return null;
  const latest = await ctx.store.reviews.latestForDeal(caller.portalId, snapshot.dealId);
  const waiting = (latest !== undefined && isOpenReview(latest)) || (await ctx.store.reviews.postSalesForDeal(caller.portalId, snapshot.dealId)).some(isOpenReview);
  if (!waiting) return null;
  const { settings } = await effectiveSettings(ctx, caller.portalId);
  if (!isDesignatedReviewer(caller.userId, decidingRoles(settings, triadOf(settings)))) return null;
  try {
    return await ownerUserIdOf(ctx, caller.portalId, snapshot.ownerId);
  } catch {
    // The card still loads; deciding asks HubSpot again and refuses if it must.
    return null;
  }
}

async function respond(ctx: GateContext, caller: Caller, dealId: string, source: 'snapshot' | 'hubspot'): Promise<GateResponse> {
  const snapshot = await ctx.store.deals.get(caller.portalId, dealId);
  if (!snapshot) throw notFound(`deal ${dealId} is not known to Dealgate`);
  return await buildGateResponse(ctx, caller, snapshot, source, await ownerIfDeciding(ctx, caller, snapshot));
}

/** GET /deals/:dealId/gate */
export async function getGate(ctx: GateContext, caller: Caller, dealId: string): Promise<GateResponse> {
  const { source } = await prepareDeal(ctx, caller.portalId, dealId);
  return await respond(ctx, caller, dealId, source);
}

/** A needed-by date already behind us cannot be promised: refused at request time (UTC dates). */
function assertNeededByAhead(neededBy: string | undefined, now: number): void {
  if (neededBy === undefined) return;
  const today = new Date(now).toISOString().slice(0, 10);
  if (neededBy < today) {
    throw invalidRequest(`neededBy: ${neededBy} is in the past (today is ${today}); give the date the customer needs it by from now on`, {
      issues: [{ path: 'neededBy', message: `${neededBy} is in the past (today is ${today})` }],
    });
  }
}

/** POST /deals/:dealId/reviews: any user on the deal (a rep) asks for a review of the commitment. */
export async function requestReview(ctx: GateContext, caller: Caller, dealId: string, body: RequestReviewBody): Promise<GateResponse> {
  const { source } = await prepareDeal(ctx, caller.portalId, dealId);
  if (body.kind === 'post_sales') {
    // Work on the won deal: booked against the customer share once approved; the commitment stays.
    assertNeededByAhead(body.neededBy, ctx.clock.now());
    await openPostSalesReview(ctx, caller, dealId, body);
    return await respond(ctx, caller, dealId, source);
  }
  const { store } = ctx;
  const { portalId, userId } = caller;
  await store.transaction(async () => {
    await store.deals.lockForChange(portalId, dealId);
    const now = ctx.clock.now();
    const snapshot = await store.deals.get(portalId, dealId);
    if (!snapshot) throw notFound(`deal ${dealId} is not known to Dealgate`);
    const { settings } = await effectiveSettings(ctx, portalId);
    const latest = await store.reviews.latestForDeal(portalId, dealId);
    assertNeededByAhead(body.neededBy, now);
    // An approval the amount has outgrown (beyond the tolerance) may be reviewed again.
    const outgrown = latest !== undefined && isApproval(latest.status) && !amountWithinApproval(latest.approvedAmount, snapshot, settings.amountTolerance);
    if (!outgrown) assertMayRequest(latest, body);
    const fromStatus = gateStatusOf(snapshot, reviewRequirement(snapshot, settings), latest, now, settings.amountTolerance);

    if (latest && isActiveReview(latest)) {
      // The rep renegotiated the commitment (or the amount outgrew the approval): the earlier answer was about something else.
      await supersede(ctx, portalId, latest, { actor: userId, at: now, reason: outgrown ? 'the amount outgrew the approval; a new review was requested' : 'a review of a changed commitment was requested' });
    }

    const review = await openReviewWithTasks(store, settings, {
      portalId,
      dealId,
      dealName: snapshot.name,
      summary: body.summary,
      effortWeeks: body.effortWeeks,
      neededBy: body.neededBy ?? null,
      amount: gateAmount(snapshot).amount,
      requestedBy: userId,
      fromStatus,
      at: now,
    });
    await store.deals.upsert(portalId, { ...withCommitment(snapshot, body.summary, body.effortWeeks), refreshedAt: now });
    // HubSpot and Dealgate agree on the commitment, and HubSpot shows the request is pending.
    await projectStatus(store, portalId, review.dealId, 'pending', undefined, now, commitmentProperties(body.summary, body.effortWeeks));
  });
  return await respond(ctx, caller, dealId, source);
}

async function reviewOf(ctx: GateStoreContext, portalId: number, reviewId: number): Promise<Review> {
  const review = await ctx.store.reviews.get(portalId, reviewId);
  if (!review) throw notFound(`review ${reviewId} does not exist in this account`);
  return review;
}

/** POST /reviews/:reviewId/decision: a designated reviewer (not the requester) answers yes, yes-but or no. */
export async function decide(ctx: GateContext, caller: Caller, reviewId: number, body: DecisionBody): Promise<GateResponse> {
  const { portalId, userId } = caller;
  const dealId = (await reviewOf(ctx, portalId, reviewId)).dealId;
  const { source, snapshot: loaded } = await prepareDeal(ctx, portalId, dealId);
  // Neither the rep who asked nor the deal's owner approves their own deal. The owner is HubSpot's
  // now: a deal reassigned in HubSpot sends no webhook, so the snapshot's owner may be stale.
  const current = source === 'hubspot' ? loaded : await refreshDeal(ctx, portalId, dealId);
  const dealOwnerUserId = current.ownerId === null ? null : await ownerUserIdOf(ctx, portalId, current.ownerId);
  if (dealOwnerUserId === userId) {
    throw forbidden('you own this deal, so another reviewer must decide its review');
  }
  const { store } = ctx;
  const input: DecisionInput = {
    outcome: body.outcome,
    note: body.note ?? '',
    extraWeeks: body.extraWeeks,
    tradeoff: body.tradeoff,
    deprioritizeReviewId: body.deprioritizeReviewId,
  };
  // The commitment it deprioritizes sits on another deal, whose review and delivery it writes too:
  // both deals are locked, in one order, so enforcement there neither overwrites it nor deadlocks with it.
  const targetDealId = input.deprioritizeReviewId === undefined ? undefined : (await store.reviews.get(portalId, input.deprioritizeReviewId))?.dealId;
  const lockedDeals = [...new Set([dealId, ...(targetDealId === undefined ? [] : [targetDealId])])].sort();
  await store.transaction(async () => {
    for (const locked of lockedDeals) await store.deals.lockForChange(portalId, locked);
    const now = ctx.clock.now();
    const review = await reviewOf(ctx, portalId, reviewId);
    const { settings } = await effectiveSettings(ctx, portalId);
    const quarter = input.outcome === 'no' ? null : commitmentQuarter(review.neededBy, now);
    // With the Triad on, the decision maker makes the call (others get a 403 naming who does). A
    // delegate deciding for an absent reviewer says so in the audit and the note (issue 15).
    const covering = coveringFor(review, userId, settings, await absencesInForce(store, portalId, now, settings));
    const decided = await withCovering(store, portalId, decideReview(review, input, { userId, settings: decidersFor(userId, settings), at: now, quarter }), covering);
    // An approval superseded on the won deal keeps its weeks booked until this decision, which releases them.
    // A post-sales review replaces nothing: it books beside the deal's commitment.
    const released = new Set(review.kind === 'post_sales' ? [] : (await store.reviews.listForDeal(portalId, review.dealId)).filter((r) => r.keepsBooking && r.id !== reviewId).map((r) => r.id));
    // Checked before anything is written: the named review must be this account's (404, not a
    // foreign-key failure) and the approval must fit the ledger (409).
    const plan: ApprovalPlan =
      quarter === null
        ? { deprioritize: null }
        : await capacityPlan(ctx, portalId, { review, input, quarter, released, capacity: settings.capacity, extraWeeks: decided.decision.extraWeeks });
    const snapshotNow = await store.deals.get(portalId, review.dealId);
    // The approval covers the amount it was given at (plus the tolerance); no amount counts as 0.
    const approvedAmount = quarter === null ? null : (snapshotNow ? gateAmount(snapshotNow).amount : review.amountAtRequest) ?? 0;
    await store.reviews.update(portalId, { ...decided.review, approvedAmount });
    await store.reviews.insertDecision(portalId, decided.decision);
    await store.audit.append(portalId, decided.audit);
    // An approval superseded on the won deal kept its weeks booked until this decision replaced it.
    await releaseReplacedApprovals(ctx, portalId, review, released, userId, now);
    if (plan.deprioritize) await deprioritizeFor(ctx, portalId, review, plan.deprioritize, userId, now);
    await openDeliveryForApproval(store, portalId, review, decided.decision);
    // A deal already won (left won and flagged) that gets its approval now counts toward the revenue goal.
    await observeRevenueWin(ctx, portalId, review.dealId, now);

    const status = statusAfterDecision(snapshotNow, { ...decided.review, approvedAmount }, settings, now);
    // A post-sales decision leaves the gate's status and flags as the deal's commitment has them.
    if (review.kind === 'pre_sales') await projectStatus(store, portalId, review.dealId, status, decided.decision, now);
    const named = await cachedPeople(store, portalId, [userId, ...covering]);
    const decider = named.label(userId);
    if (review.kind === 'pre_sales' && (status === 'approved' || status === 'approved_with_conditions')) {
      await resolveFlags(store, portalId, review.dealId, ['after_close', 'backfill', 'rules_tightened'], `review #${reviewId} approved by ${decider}`, now);
    }
    const triadLines = await recordTriadCall(store, portalId, review, decided.decision, settings);
    await enqueueEffect(
      store.outbox,
      { portalId, dealId: review.dealId, effect: { kind: 'create_note', payload: { body: decisionNote(review, decided.decision, decider, covering.map((id) => named.label(id))) + triadLines } }, dedupeKey: `review:${reviewId}:decision` },
      now,
    );
    await completeReviewTasks(store, portalId, review, now);
  });
  return await respond(ctx, caller, dealId, source);
}

/** What the approval does to the quarter's capacity: fits, or names the commitment it deprioritizes (refused with 404 or 409 before anything is written). */
async function capacityPlan(
  ctx: GateContext,
  portalId: number,
  approval: { review: Review; input: DecisionInput; quarter: string; released: ReadonlySet<number>; capacity: Settings['capacity']; extraWeeks: number | null },
): Promise<ApprovalPlan> {
  const { store } = ctx;
  const { review, input, quarter, released } = approval;
  const reviewId = review.id;
  if (input.deprioritizeReviewId !== undefined) await reviewOf(ctx, portalId, input.deprioritizeReviewId);
  // The quarter's booking only (its sum in SQL, the largest few listed), never every approval
  // the account made; the named commitment is read by its id.
  const named = input.deprioritizeReviewId;
  return planApproval({
    capacity: approval.capacity,
    reviewId,
    quarter,
    requestedWeeks: consumedWeeks(review.effortWeeks, approval.extraWeeks),
    booking: await store.reviews.quarterBooking(portalId, quarter, { limit: CAPACITY_LIST_LIMIT, exclude: [reviewId, ...released] }),
    named: named === undefined || named === reviewId || released.has(named) ? undefined : await store.reviews.activeCommitment(portalId, named),
    deprioritizeReviewId: named,
  });
}

/** An approval superseded on the won deal kept its weeks booked until this decision replaced it: released, and its delivery settled. */
async function releaseReplacedApprovals(ctx: GateStoreContext, portalId: number, review: Review, released: ReadonlySet<number>, userId: string, now: number): Promise<void> {
  const { store } = ctx;
  const reviewId = review.id;
  for (const earlier of await store.reviews.listForDeal(portalId, review.dealId)) {
    if (released.has(earlier.id)) {
      await store.reviews.update(portalId, { ...earlier, keepsBooking: false, updatedAt: now });
      await store.audit.append(portalId, {
        dealId: earlier.dealId,
        reviewId: earlier.id,
        action: 'commitment_replaced',
        actor: userId,
        fromStatus: earlier.status,
        toStatus: earlier.status,
        reason: `review #${reviewId} decided the changed commitment; the weeks booked for review #${earlier.id} are released`,
        details: { replacedBy: reviewId },
        at: now,
      });
      await settleReplacedDelivery(store, portalId, earlier, `review #${reviewId} decided the changed commitment`, now);
    }
  }
}

/** The commitment the approval makes room with: deprioritized, with its audit entry, a note on its deal and its delivery moved. */
async function deprioritizeFor(
  ctx: GateStoreContext,
  portalId: number,
  review: Review,
  deprioritize: NonNullable<ApprovalPlan['deprioritize']>,
  userId: string,
  now: number,
): Promise<void> {
  const { store } = ctx;
  const reviewId = review.id;
  const target = await reviewOf(ctx, portalId, deprioritize.reviewId);
  await store.reviews.update(portalId, { ...target, deprioritizedAt: now, deprioritizedFor: reviewId, updatedAt: now });
  await store.audit.append(portalId, {
    dealId: target.dealId,
    reviewId: target.id,
    action: 'commitment_deprioritized',
    actor: userId,
    fromStatus: target.status,
    toStatus: target.status,
    reason: `deprioritized to make room for review #${reviewId} (deal ${review.dealId}); releases ${deprioritize.weeks} weeks of ${deprioritize.quarter}`,
    details: { forReviewId: reviewId, weeks: deprioritize.weeks, quarter: deprioritize.quarter },
    at: now,
  });
  await enqueueEffect(
    store.outbox,
    {
      portalId,
      dealId: target.dealId,
      effect: { kind: 'create_note', payload: { body: deprioritizedNote(target, review, deprioritize.weeks, deprioritize.quarter) } },
      dedupeKey: `review:${target.id}:deprioritized`,
    },
    now,
  );
  await deprioritizeDeliveryOf(store, portalId, target, reviewId, now);
}

/** The deal's gate status once the review is decided (the decision's own when Dealgate holds no snapshot). */
function statusAfterDecision(snapshot: DealSnapshot | undefined, decided: Review, settings: Settings, now: number): GateStatus {
  return snapshot
    ? gateStatusOf(snapshot, reviewRequirement(snapshot, settings), decided, now, settings.amountTolerance)
    : decided.status === 'rejected'
      ? 'rejected'
      : decided.status === 'approved'
        ? 'approved'
        : 'approved_with_conditions';
}

/** POST /reviews/:reviewId/withdraw: the rep who asked (or an admin) takes a waiting request back. */
export async function withdraw(ctx: GateContext, caller: Caller, reviewId: number): Promise<GateResponse> {
  const { portalId, userId } = caller;
  const dealId = (await reviewOf(ctx, portalId, reviewId)).dealId;
  const { source } = await prepareDeal(ctx, portalId, dealId);
  const { store } = ctx;
  await store.transaction(async () => {
    await store.deals.lockForChange(portalId, dealId);
    const now = ctx.clock.now();
    const review = await reviewOf(ctx, portalId, reviewId);
    const { settings } = await effectiveSettings(ctx, portalId);
    if (review.requestedBy !== userId && !isAdmin(userId, settings)) {
      throw forbidden(`only the rep who requested this review (${await labelOf(store, portalId, review.requestedBy)}) or an admin can withdraw it`);
    }
    const moved = transition(review, 'withdraw', 'withdrawn', { actor: userId, at: now, reason: 'the request was withdrawn' });
    await store.reviews.update(portalId, moved.review);
    await store.audit.append(portalId, moved.audit);
    await completeReviewTasks(store, portalId, review, now);
    const snapshot = await store.deals.get(portalId, review.dealId);
    if (snapshot && review.kind === 'pre_sales') {
      const status = gateStatusOf(snapshot, reviewRequirement(snapshot, settings), moved.review, now, settings.amountTolerance);
      await projectStatus(store, portalId, review.dealId, status, undefined, now);
    }
  });
  return await respond(ctx, caller, dealId, source);
}
