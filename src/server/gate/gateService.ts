import type { DecisionBody, GateResponse, RequestReviewBody } from '../../../extensions/contract/api';
import { forbidden, notFound } from '../errors';
import { commitmentQuarter, consumedWeeks, planApproval, type ApprovalPlan } from '../domain/capacityLedger';
import { gateStatusOf, reviewRequirement } from '../domain/gatePolicy';
import { decideReview, type DecisionInput } from '../domain/reviewDecision';
import { assertMayRequest, isActiveReview, openReview, requestAudit, transition, type Review } from '../domain/reviewLifecycle';
import { isAdmin } from '../domain/roles';
import { dueAt } from '../domain/sla';
import { enqueueEffect } from '../outbox/effects';
import { effectiveSettings, type Caller, type GateContext, type GateStoreContext } from './context';
import {
  commitmentProperties,
  decisionNote,
  deprioritizedNote,
  projectStatus,
  reviewTask,
  withCommitment,
} from './dealEffects';
import { ensurePipelines, loadDeal } from './dealFacts';
import { buildGateResponse } from './gateView';

/**
 * What a rep and a reviewer do from the card: look at the gate, request a review, decide it,
 * withdraw it. Each action is one store transaction holding the state change, its audit entries
 * and its HubSpot effects (outbox rows); HubSpot is only read before it, never inside.
 */

async function prepareDeal(ctx: GateContext, portalId: number, dealId: string) {
  const loaded = await loadDeal(ctx, portalId, dealId);
  await ensurePipelines(ctx, portalId, loaded.snapshot.pipeline, loaded.snapshot.stage);
  return loaded;
}

function respond(ctx: GateStoreContext, caller: Caller, dealId: string, source: 'snapshot' | 'hubspot'): GateResponse {
  const snapshot = ctx.store.deals.get(caller.portalId, dealId);
  if (!snapshot) throw notFound(`deal ${dealId} is not known to Dealgate`);
  return buildGateResponse(ctx, caller, snapshot, source);
}

/** GET /deals/:dealId/gate */
export async function getGate(ctx: GateContext, caller: Caller, dealId: string): Promise<GateResponse> {
  const { snapshot, source } = await prepareDeal(ctx, caller.portalId, dealId);
  return buildGateResponse(ctx, caller, snapshot, source);
}

/** POST /deals/:dealId/reviews: any user on the deal (a rep) asks for a review of the commitment. */
export async function requestReview(ctx: GateContext, caller: Caller, dealId: string, body: RequestReviewBody): Promise<GateResponse> {
  const { source } = await prepareDeal(ctx, caller.portalId, dealId);
  const { store } = ctx;
  const { portalId, userId } = caller;
  store.transaction(() => {
    const now = ctx.clock.now();
    const snapshot = store.deals.get(portalId, dealId);
    if (!snapshot) throw notFound(`deal ${dealId} is not known to Dealgate`);
    const { settings } = effectiveSettings(ctx, portalId);
    const latest = store.reviews.latestForDeal(portalId, dealId);
    assertMayRequest(latest, body);
    const fromStatus = gateStatusOf(snapshot, reviewRequirement(snapshot, settings.valueThreshold), latest, now);

    if (latest && isActiveReview(latest)) {
      // The rep renegotiated the commitment: the earlier answer was about something else.
      const moved = transition(latest, 'supersede', 'superseded', { actor: userId, at: now, reason: 'a review of a changed commitment was requested' });
      store.reviews.update(portalId, moved.review);
      store.audit.append(portalId, moved.audit);
    }

    const review = store.reviews.insert(
      portalId,
      openReview({
        dealId,
        summary: body.summary,
        effortWeeks: body.effortWeeks,
        neededBy: body.neededBy ?? null,
        amount: snapshot.amount,
        requestedBy: userId,
        at: now,
        dueAt: dueAt(now, settings.slaHours),
      }),
    );
    store.audit.append(portalId, requestAudit(review, fromStatus, userId));
    store.deals.upsert(portalId, { ...withCommitment(snapshot, body.summary, body.effortWeeks), refreshedAt: now });
    // HubSpot and Dealgate agree on the commitment, and HubSpot shows the request is pending.
    projectStatus(store, portalId, dealId, 'pending', undefined, now, commitmentProperties(body.summary, body.effortWeeks));

    const assignees = settings.reviewers.filter((id) => id !== userId);
    if (assignees.length === 0 && settings.escalationReviewer !== null && settings.escalationReviewer !== userId) {
      assignees.push(settings.escalationReviewer);
    }
    const task = reviewTask(review, snapshot.name);
    for (const reviewer of assignees) {
      enqueueEffect(
        store.outbox,
        {
          portalId,
          dealId,
          effect: { kind: 'create_task', payload: { subject: task.subject, body: task.body, ownerUserId: reviewer, dueAt: review.dueAt } },
          dedupeKey: `review:${review.id}:task:${reviewer}`,
        },
        now,
      );
    }
  });
  return respond(ctx, caller, dealId, source);
}

function reviewOf(ctx: GateStoreContext, portalId: number, reviewId: number): Review {
  const review = ctx.store.reviews.get(portalId, reviewId);
  if (!review) throw notFound(`review ${reviewId} does not exist in this account`);
  return review;
}

/** POST /reviews/:reviewId/decision: a designated reviewer (not the requester) answers yes, yes-but or no. */
export async function decide(ctx: GateContext, caller: Caller, reviewId: number, body: DecisionBody): Promise<GateResponse> {
  const { portalId, userId } = caller;
  const dealId = reviewOf(ctx, portalId, reviewId).dealId;
  const { source } = await prepareDeal(ctx, portalId, dealId);
  const { store } = ctx;
  const input: DecisionInput = {
    outcome: body.outcome,
    note: body.note ?? '',
    extraWeeks: body.extraWeeks,
    tradeoff: body.tradeoff,
    deprioritizeReviewId: body.deprioritizeReviewId,
  };
  store.transaction(() => {
    const now = ctx.clock.now();
    const review = reviewOf(ctx, portalId, reviewId);
    const { settings } = effectiveSettings(ctx, portalId);
    const quarter = input.outcome === 'no' ? null : commitmentQuarter(review.neededBy, now);
    const decided = decideReview(review, input, { userId, settings, at: now, quarter });
    // Checked before anything is written: the named review must be this account's (404, not a
    // foreign-key failure) and the approval must fit the ledger (409).
    let plan: ApprovalPlan = { deprioritize: null };
    if (quarter !== null) {
      if (input.deprioritizeReviewId !== undefined) reviewOf(ctx, portalId, input.deprioritizeReviewId);
      plan = planApproval({
        capacity: settings.capacity,
        reviewId,
        quarter,
        requestedWeeks: consumedWeeks(review.effortWeeks, decided.decision.extraWeeks),
        commitments: store.reviews.activeCommitments(portalId).filter((c) => c.reviewId !== reviewId),
        deprioritizeReviewId: input.deprioritizeReviewId,
      });
    }
    store.reviews.update(portalId, decided.review);
    store.reviews.insertDecision(portalId, decided.decision);
    store.audit.append(portalId, decided.audit);

    if (plan.deprioritize) {
      const target = reviewOf(ctx, portalId, plan.deprioritize.reviewId);
      store.reviews.update(portalId, { ...target, deprioritizedAt: now, deprioritizedFor: reviewId, updatedAt: now });
      store.audit.append(portalId, {
        dealId: target.dealId,
        reviewId: target.id,
        action: 'commitment_deprioritized',
        actor: userId,
        fromStatus: target.status,
        toStatus: target.status,
        reason: `deprioritized to make room for review #${reviewId} (deal ${review.dealId}); releases ${plan.deprioritize.weeks} weeks of ${plan.deprioritize.quarter}`,
        details: { forReviewId: reviewId, weeks: plan.deprioritize.weeks, quarter: plan.deprioritize.quarter },
        at: now,
      });
      enqueueEffect(
        store.outbox,
        {
          portalId,
          dealId: target.dealId,
          effect: { kind: 'create_note', payload: { body: deprioritizedNote(target, review, plan.deprioritize.weeks, plan.deprioritize.quarter) } },
          dedupeKey: `review:${target.id}:deprioritized`,
        },
        now,
      );
    }

    const snapshot = store.deals.get(portalId, review.dealId);
    const status = snapshot
      ? gateStatusOf(snapshot, reviewRequirement(snapshot, settings.valueThreshold), decided.review, now)
      : decided.review.status === 'rejected'
        ? 'rejected'
        : decided.review.status === 'approved'
          ? 'approved'
          : 'approved_with_conditions';
    projectStatus(store, portalId, review.dealId, status, decided.decision, now);
    enqueueEffect(
      store.outbox,
      { portalId, dealId: review.dealId, effect: { kind: 'create_note', payload: { body: decisionNote(review, decided.decision) } }, dedupeKey: `review:${reviewId}:decision` },
      now,
    );
  });
  return respond(ctx, caller, dealId, source);
}

/** POST /reviews/:reviewId/withdraw: the rep who asked (or an admin) takes a waiting request back. */
export async function withdraw(ctx: GateContext, caller: Caller, reviewId: number): Promise<GateResponse> {
  const { portalId, userId } = caller;
  const dealId = reviewOf(ctx, portalId, reviewId).dealId;
  const { source } = await prepareDeal(ctx, portalId, dealId);
  const { store } = ctx;
  store.transaction(() => {
    const now = ctx.clock.now();
    const review = reviewOf(ctx, portalId, reviewId);
    const { settings } = effectiveSettings(ctx, portalId);
    if (review.requestedBy !== userId && !isAdmin(userId, settings)) {
      throw forbidden(`only the rep who requested review ${reviewId} (user ${review.requestedBy}) or an admin can withdraw it`);
    }
    const moved = transition(review, 'withdraw', 'withdrawn', { actor: userId, at: now, reason: 'the request was withdrawn' });
    store.reviews.update(portalId, moved.review);
    store.audit.append(portalId, moved.audit);
    const snapshot = store.deals.get(portalId, review.dealId);
    if (snapshot) {
      const status = gateStatusOf(snapshot, reviewRequirement(snapshot, settings.valueThreshold), moved.review, now);
      projectStatus(store, portalId, review.dealId, status, undefined, now);
    }
  });
  return respond(ctx, caller, dealId, source);
}
