import type { GateEvaluation, GateStatus, Settings } from '../../../extensions/contract/api';
import { DealgateError, notFound } from '../shared/errors';
import { evaluateGate, gateAmount, gateStatusOf, isWonStage, reviewRequirement, type DealFacts, type Pipeline } from '../domain/gatePolicy';
import {
  coversCommitment,
  describeCommitmentChange,
  isActiveReview,
  isApproval,
  isOpenReview,
  transition,
  type Review,
} from '../domain/reviewLifecycle';
import { classifyHubSpotError, type HubSpotDeal } from '../hubspot/gateway';
import { enqueueEffect } from '../storage/outboxStore';
import { COMMITMENT_PROPERTIES } from './dealgateProperties';
import type { OutboxRow } from '../storage/outboxStore';
import type { DealSnapshot } from '../storage/dealSnapshotStore';
import type { Store } from '../storage/store';
import { effectiveSettings, type GateContext, type GateStoreContext } from './context';
import { completeReviewTasks, projectStatus, resolveFlags, supersededNote } from './dealEffects';
import { openReviewWithTasks, supersede } from './reviewOpening';

/**
 * Keeping Dealgate's copy of a deal's facts, and the review lifecycle, in step with HubSpot.
 * `reconcileDealFacts` is the one way new facts enter: the webhook worker calls it with what
 * HubSpot says now, the card API with a deal it reads for the first time.
 */

/**
 * A deal's facts as Dealgate observed them, at a time: read from HubSpot (a `HubSpotDeal`, through
 * observedFrom), a webhook's value laid over the snapshot, or the snapshot itself. The application's
 * one deal type: reconcileDealFacts stores it, the gate and enforcement judge it.
 */
export interface ObservedDeal extends DealFacts {
  dealId: string;
  ownerId: string | null;
  /** HubSpot's time for these facts (the deal's last modification, or the event's occurrence). */
  observedAt: number;
  /** `dealgate_status` as HubSpot has it, when read from HubSpot: a projection that disagrees is written again. */
  hubspotStatus?: string | null;
  /**
   * When Dealgate sent the read these facts come from (its clock); absent for facts it did not read
   * from HubSpot just now (its snapshot, with a webhook's value laid over it). See withPendingWrites.
   */
  readAt?: number;
  /** HubSpot deleted the deal. */
  deleted?: boolean;
}

/** The deal as HubSpot answered it, as the facts the gate judges. */
export function observedFrom(deal: HubSpotDeal): ObservedDeal {
  return {
    dealId: deal.id,
    name: deal.name,
    amount: deal.amount,
    amountInHomeCurrency: deal.amountInHomeCurrency,
    stage: deal.stage,
    pipeline: deal.pipeline,
    ownerId: deal.ownerId,
    commitment: deal.commitment,
    commitmentSummary: deal.commitmentSummary,
    effortWeeks: deal.effortWeeks,
    observedAt: deal.updatedAt,
    hubspotStatus: deal.status,
    readAt: deal.readAt,
  };
}

/**
 * Dealgate's own writes of the deal's properties that facts read at `readAt` may not show yet,
 * oldest first: those still in the outbox, and for facts read from HubSpot those delivered since
 * the read was sent. HubSpot answers a read with what it had when it handled it, and that answer
 * can reach Dealgate after the outbox delivered a write HubSpot had not seen yet: the write is no
 * longer pending then, yet the facts predate it. (The deal-card suites on PostgreSQL: a reviewer's
 * decision read the deal, the request's commitment was delivered meanwhile, and the read withdrew
 * the review as if the rep had removed the commitment.) Rows done without being sent (yielded to a
 * rep's later change, skipped) carry a reason in last_error and are not laid over.
 */
function ownWritesNotIn(store: Store, portalId: number, dealId: string, readAt: number | undefined): Promise<OutboxRow[]> {
  return store.outbox.dealWritesNotDeliveredBefore(portalId, dealId, readAt ?? Number.MAX_SAFE_INTEGER);
}

/**
 * HubSpot's facts with Dealgate's own commitment writes that they may not show laid over them
 * (ownWritesNotIn): a deal read between a review request and the delivery of its properties must
 * not look as if the rep had removed the commitment.
 */
export async function withPendingWrites<F extends ObservedDeal>(store: Store, portalId: number, dealId: string, facts: F): Promise<F> {
  let result = facts;
  for (const row of await ownWritesNotIn(store, portalId, dealId, facts.readAt)) {
    const properties = (row.payload as { properties?: Record<string, string> }).properties ?? {};
    if (!COMMITMENT_PROPERTIES.some((name) => name in properties)) continue;
    result = { ...result };
    if (properties.dealgate_commitment !== undefined) result.commitment = properties.dealgate_commitment === 'true';
    if (properties.dealgate_commitment_summary !== undefined) result.commitmentSummary = properties.dealgate_commitment_summary;
    if (properties.dealgate_effort_weeks !== undefined) {
      const n = Number(properties.dealgate_effort_weeks);
      result.effortWeeks = properties.dealgate_effort_weeks.trim() === '' || !Number.isFinite(n) ? null : n;
    }
  }
  return result;
}

function statusOf(facts: DealFacts, settings: Settings, latest: Review | undefined, now: number): GateStatus {
  return gateStatusOf(facts, reviewRequirement(facts, settings), latest, now, settings.amountTolerance);
}

/** Flags that only stand while the deal sits past the gate needing a review it does not have. */
const STANDING_FLAGS = ['after_close', 'backfill', 'rules_tightened'] as const;

/**
 * Stores the deal's new facts and applies what they mean for its review, in one transaction:
 * the commitment removed -> a waiting review is withdrawn, an answered one superseded, status
 * not_required; the summary or effort changed -> the review no longer covers the deal and is
 * superseded (review required again); the amount crossing the threshold -> required or
 * not_required. Each change is an audit entry, and the status projection is enqueued whenever the
 * status changed (or HubSpot's copy disagrees). Synchronous: call it inside or outside a
 * transaction, never across an await. Returns the gate's new evaluation.
 */
export async function reconcileDealFacts(
  ctx: GateStoreContext,
  portalId: number,
  dealId: string,
  newFacts: ObservedDeal,
  actor: string,
): Promise<GateEvaluation> {
  const { store } = ctx;
  return await store.transaction(async () => {
    await store.deals.lockForChange(portalId, dealId);
    const now = ctx.clock.now();
    const { settings } = await effectiveSettings(ctx, portalId);
    const previous = await store.deals.get(portalId, dealId);
    let latest = await store.reviews.latestForDeal(portalId, dealId);
    const facts = await withPendingWrites(store, portalId, dealId, newFacts);
    const previousStatus = previous && !previous.deleted ? statusOf(previous, settings, latest, now) : undefined;
    const requirement = reviewRequirement(facts, settings);

    if (latest && isActiveReview(latest) && (newFacts.deleted === true || !coversCommitment(latest, facts))) {
      latest = await endUncoveredReview(ctx, { portalId, dealId, latest, facts, newFacts, requirement, settings, actor, now });
    }

    const snapshot = snapshotOf(dealId, facts, newFacts, previous, now);
    await store.deals.upsert(portalId, snapshot);

    const status = statusOf(facts, settings, latest, now);
    await recordStatus(ctx, { portalId, dealId, previousStatus, status, latest, facts, newFacts, requirement, settings, actor, now, deleted: snapshot.deleted });

    const pipeline = facts.pipeline ? await store.pipelines.get(portalId, facts.pipeline) : undefined;
    const evaluation = evaluateGate({ facts, pipeline, settings, latest, now, breakGlass: await store.breakGlasses.openForDeal(portalId, dealId) });
    await resolveStandingFlags(ctx, portalId, dealId, snapshot.deleted, evaluation, now);
    return evaluation;
  });
}

/** What a reconciled deal's facts carry along to each step after they are stored. */
interface FactsChange {
  portalId: number;
  dealId: string;
  facts: ObservedDeal;
  newFacts: ObservedDeal;
  requirement: ReturnType<typeof reviewRequirement>;
  settings: Settings;
  actor: string;
  now: number;
}

/**
 * The active review no longer covers the deal (its commitment changed or went, or the deal was
 * deleted): withdrawn while waiting for a commitment removed, else superseded; on a won deal whose
 * approval keeps its weeks booked, the changed commitment's review opens by itself. Returns the
 * deal's latest review after that.
 */
async function endUncoveredReview(ctx: GateStoreContext, change: FactsChange & { latest: Review }): Promise<Review> {
  const { store } = ctx;
  const { portalId, dealId, latest: uncovered, facts, newFacts, requirement, settings, actor, now } = change;
  let latest = uncovered;
  const why = newFacts.deleted === true ? 'the deal was deleted' : describeCommitmentChange(latest, facts);
  const removeRequest = isOpenReview(latest) && (!facts.commitment || newFacts.deleted === true);
  const wasApproval = isApproval(latest.status);
  let moved: Review;
  if (removeRequest) {
    const withdrawn = transition(latest, 'withdraw', 'withdrawn', { actor, at: now, reason: why });
    await store.reviews.update(portalId, withdrawn.review);
    await store.audit.append(portalId, withdrawn.audit);
    await completeReviewTasks(store, portalId, latest, now);
    moved = withdrawn.review;
  } else {
    // Judged where the deal sits now (a won deal's approval keeps its weeks booked).
    moved = await supersede(ctx, portalId, latest, { actor, at: now, reason: why }, { pipeline: facts.pipeline, stage: facts.stage, deleted: newFacts.deleted === true });
  }
  if (wasApproval && newFacts.deleted !== true) {
    await enqueueEffect(
      store.outbox,
      { portalId, dealId, effect: { kind: 'create_note', payload: { body: supersededNote(latest, why, requirement.reviewRequired) } }, dedupeKey: `review:${latest.id}:superseded` },
      now,
    );
  }
  latest = moved;
  // A changed commitment on a won deal is post-sales work the contract now carries: its review
  // opens by itself, also when it changes again before the review of the first change is decided
  // (the approval it replaces still keeps its weeks booked).
  const pipelineNow = facts.pipeline ? await store.pipelines.get(portalId, facts.pipeline) : undefined;
  const summary = facts.commitmentSummary?.trim() ?? '';
  const keepsBooking = moved.keepsBooking || (await store.reviews.listForDeal(portalId, dealId)).some((r) => r.keepsBooking);
  if (
    keepsBooking &&
    requirement.reviewRequired &&
    isWonStage(pipelineNow, facts.stage) &&
    summary !== '' &&
    facts.effortWeeks !== null &&
    facts.effortWeeks > 0
  ) {
    latest = await openReviewWithTasks(store, settings, {
      portalId,
      dealId,
      dealName: facts.name,
      summary,
      effortWeeks: facts.effortWeeks,
      neededBy: null,
      amount: gateAmount(facts).amount,
      requestedBy: actor,
      fromStatus: 'required',
      at: now,
    });
  }
  return latest;
}

/** The snapshot Dealgate keeps of the deal's facts (the owner kept when the facts do not say). */
function snapshotOf(dealId: string, facts: ObservedDeal, newFacts: ObservedDeal, previous: DealSnapshot | undefined, now: number): DealSnapshot {
  return {
    dealId,
    name: facts.name,
    amount: facts.amount,
    amountInHomeCurrency: facts.amountInHomeCurrency ?? null,
    stage: facts.stage,
    pipeline: facts.pipeline,
    commitment: facts.commitment,
    commitmentSummary: facts.commitmentSummary,
    effortWeeks: facts.effortWeeks,
    ownerId: newFacts.ownerId !== undefined ? newFacts.ownerId : previous?.ownerId ?? null,
    deleted: newFacts.deleted === true,
    sourceUpdatedAt: newFacts.observedAt,
    refreshedAt: now,
  };
}

/** A changed status is an audit entry, and projected to HubSpot (also when HubSpot's copy disagrees). */
async function recordStatus(
  ctx: GateStoreContext,
  change: FactsChange & { previousStatus: GateStatus | undefined; status: GateStatus; latest: Review | undefined; deleted: boolean },
): Promise<void> {
  const { store } = ctx;
  const { portalId, dealId, previousStatus, status, latest, facts, newFacts, requirement, settings, actor, now } = change;
  if (previousStatus !== undefined && previousStatus !== status) {
    await store.audit.append(portalId, {
      dealId,
      reviewId: latest?.id ?? null,
      action: 'gate_status_changed',
      actor,
      fromStatus: previousStatus,
      toStatus: status,
      reason: requirement.reason,
      details: { amount: gateAmount(facts).amount, threshold: settings.valueThreshold, commitment: facts.commitment },
      at: now,
    });
  }
  const hubspotStatus = newFacts.hubspotStatus === undefined || newFacts.hubspotStatus === null || newFacts.hubspotStatus === '' ? undefined : newFacts.hubspotStatus;
  const hubspotDisagrees = newFacts.hubspotStatus !== undefined && hubspotStatus !== status && !(hubspotStatus === undefined && status === 'not_required');
  if (!change.deleted && ((previousStatus !== undefined && previousStatus !== status) || hubspotDisagrees)) {
    const decision = latest ? await store.reviews.decisionFor(portalId, latest.id) : undefined;
    await projectStatus(store, portalId, dealId, status, decision, now);
  }
}

/** Flags that stand only while the deal sits past the gate uncovered are resolved once it no longer does. */
async function resolveStandingFlags(ctx: GateStoreContext, portalId: number, dealId: string, deleted: boolean, evaluation: GateEvaluation, now: number): Promise<void> {
  const { store } = ctx;
  // A break-glass lets the deal pass without sign-off: the flags of a passage it stands for stay.
  if (deleted || !evaluation.pastGate || (evaluation.mayAdvance && !evaluation.breakGlassHolds)) {
    const why = deleted
      ? 'the deal was deleted'
      : !evaluation.pastGate
        ? 'the deal is back before the gate'
        : evaluation.reviewRequired
          ? 'a decision covers the deal'
          : 'the deal no longer needs review';
    await resolveFlags(store, portalId, dealId, STANDING_FLAGS, why, now);
  }
}

/**
 * The gate's verdict on a deal with the given facts (for a stage move, the facts with the stage
 * it was moved to: `pastGate && !mayAdvance` means the move was not allowed). Reads settings, the
 * cached pipeline and the latest review; writes nothing.
 */
export async function evaluateGateForDeal(ctx: GateStoreContext, portalId: number, dealId: string, facts: ObservedDeal, under?: Settings): Promise<GateEvaluation> {
  const { store } = ctx;
  const settings = under ?? (await effectiveSettings(ctx, portalId)).settings;
  const withOwn = await withPendingWrites(store, portalId, dealId, facts);
  const pipeline = withOwn.pipeline ? await store.pipelines.get(portalId, withOwn.pipeline) : undefined;
  return evaluateGate({
    facts: withOwn,
    pipeline,
    settings,
    latest: await store.reviews.latestForDeal(portalId, dealId),
    now: ctx.clock.now(),
    breakGlass: await store.breakGlasses.openForDeal(portalId, dealId),
  });
}

function hubspotUnavailable(what: string, error: unknown): DealgateError {
  if (error instanceof DealgateError) return error;
  const info = classifyHubSpotError(error);
  return new DealgateError(
    'hubspot_unavailable',
    `HubSpot did not answer ${what}${info.status ? ` (HTTP ${info.status})` : ''}: ${info.message}`,
    info.status === undefined ? undefined : { hubspotStatus: info.status },
  );
}

/** The deal's facts: the snapshot when Dealgate holds one, else read from HubSpot now (and stored). */
export async function loadDeal(ctx: GateContext, portalId: number, dealId: string): Promise<{ snapshot: DealSnapshot; source: 'snapshot' | 'hubspot' }> {
  const held = await ctx.store.deals.get(portalId, dealId);
  if (held) {
    if (held.deleted) throw notFound(`deal ${dealId} was deleted in HubSpot`);
    return { snapshot: held, source: 'snapshot' };
  }
  return { snapshot: await refreshDeal(ctx, portalId, dealId), source: 'hubspot' };
}

/**
 * The deal as HubSpot has it now, stored like any new facts: for what the snapshot cannot be
 * trusted with, such as who owns the deal (owner changes send Dealgate no webhook).
 */
export async function refreshDeal(ctx: GateContext, portalId: number, dealId: string): Promise<DealSnapshot> {
  let deal;
  try {
    deal = await ctx.gateway.getDeal(portalId, dealId);
  } catch (error) {
    throw hubspotUnavailable(`the read of deal ${dealId}`, error);
  }
  if (!deal) throw notFound(`deal ${dealId} does not exist in HubSpot account ${portalId}`);
  await reconcileDealFacts(ctx, portalId, dealId, observedFrom(deal), 'hubspot');
  const stored = await ctx.store.deals.get(portalId, dealId);
  if (!stored) throw new DealgateError('internal', `deal ${dealId} was read but not stored`);
  return stored;
}

/** Pipelines are read again at most this often when a deal names a pipeline or stage the cache lacks. */
export const PIPELINE_REREAD_MS = 60_000;

/** Stores the pipelines HubSpot answered (the provisioner and the card API both go through here). */
export async function savePipelines(ctx: Pick<GateStoreContext, 'store'>, portalId: number, pipelines: readonly Pipeline[], at: number): Promise<void> {
  await ctx.store.pipelines.replaceAll(portalId, pipelines, at);
}

/**
 * Makes sure the cached pipelines know `pipelineId` and `stageId` (any pipeline when none is
 * given): read through HubSpot when they do not, at most once a minute. A failed read leaves the
 * cache as it was and is logged; the card still shows what Dealgate knows.
 */
export async function ensurePipelines(ctx: GateContext, portalId: number, pipelineId: string | null, stageId: string | null): Promise<void> {
  const { store } = ctx;
  const known = pipelineId ? await store.pipelines.get(portalId, pipelineId) : (await store.pipelines.list(portalId))[0];
  const complete = known !== undefined && (stageId === null || known.stages.some((s) => s.id === stageId));
  if (complete) return;
  const fetchedAt = await store.pipelines.fetchedAt(portalId);
  if (fetchedAt !== undefined && ctx.clock.now() - fetchedAt < PIPELINE_REREAD_MS) return;
  try {
    const pipelines = await ctx.gateway.getPipelines(portalId);
    await store.transaction(async () => await savePipelines(ctx, portalId, pipelines, ctx.clock.now()));
  } catch (error) {
    ctx.logger.warn({ portalId, err: error }, 'could not read the pipelines from HubSpot; using the cached ones');
  }
}
