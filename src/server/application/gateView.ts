import type {
  CapacityPreview,
  CapacityView,
  DecisionView,
  GateResponse,
  HistoryEntry,
  Permissions,
  ReviewView,
  Settings,
} from '../../../extensions/contract/api';
import { CAPACITY_LIST_LIMIT, capacityView, commitmentQuarter, quarterOf } from '../domain/capacityLedger';
import { approvalCovers, evaluateGate, type DealFacts, type Pipeline } from '../domain/gatePolicy';
import type { Decision } from '../domain/reviewDecision';
import { isApproval, isOpenReview, type Review } from '../domain/reviewLifecycle';
import { isAdmin, isDesignatedReviewer, rolesOf } from '../domain/roles';
import { slaClock, statusAt } from '../domain/sla';
import type { DealSnapshot } from '../storage/dealSnapshotStore';
import type { Store } from '../storage/store';
import { effectiveSettings, type Caller, type GateStoreContext } from './context';
import { deliveryViewOf } from './deliveryView';
import { capacityPreviewOf } from './capacityPreview';
import { postSalesViewOf } from './postSalesReview';
import { triadViewOf } from './triadView';
import { decidingRoles, triadOf, TRIAD_ROLE_NAMES } from '../domain/triad';
import { breakGlassCardOf } from './breakGlassView';
import { coveringOnCard } from './delegation';
import { cachedPeople, waitingOn, type PeopleBook, waitingOnIds } from './people';

/** Everything the card shows about a deal, built from the store (synchronous). */

const iso = (ms: number) => new Date(ms).toISOString();

function decisionView(decision: Decision, people: PeopleBook): DecisionView {
  return {
    outcome: decision.outcome,
    note: decision.note,
    extraWeeks: decision.extraWeeks,
    tradeoff: decision.tradeoff,
    decidedBy: decision.decidedBy,
    decider: people.person(decision.decidedBy),
    decidedAt: iso(decision.decidedAt),
    deprioritizedReviewId: decision.deprioritizedReviewId,
    quarter: decision.quarter,
  };
}

export function reviewView(review: Review, decision: Decision | undefined, facts: DealFacts, now: number, settings: Settings, people: PeopleBook): ReviewView {
  return {
    id: review.id,
    dealId: review.dealId,
    kind: review.kind,
    status: statusAt(review, now),
    summary: review.summary,
    effortWeeks: review.effortWeeks,
    neededBy: review.neededBy,
    requestedBy: review.requestedBy,
    requester: people.person(review.requestedBy),
    waitingOn: waitingOn(review, settings, people),
    requestedAt: iso(review.requestedAt),
    dueAt: iso(review.dueAt),
    escalatedAt: review.escalatedAt === null ? null : iso(review.escalatedAt),
    decision: decision ? decisionView(decision, people) : null,
    coversDeal: approvalCovers(review, facts, settings.amountTolerance),
    approvedAmount: isApproval(review.status) || review.keepsBooking ? review.approvedAmount : null,
    deprioritized: review.deprioritizedAt === null ? null : { at: iso(review.deprioritizedAt), forReviewId: review.deprioritizedFor },
    // Read apart (deliveryViewOf): the card's gate answer adds it.
    delivery: null,
  };
}

export function permissionsOf(userId: string, settings: Settings, latest: Review | undefined, dealOwnerUserId: string | null = null): Permissions {
  const denied: Permissions['denied'] = {};
  const triad = triadOf(settings);
  const open = latest !== undefined && isOpenReview(latest);
  if (open) denied.request = `review #${latest.id} is already waiting for an answer`;
  if (!open) denied.withdraw = 'no review is waiting for an answer';
  else if (latest.requestedBy !== userId && !isAdmin(userId, settings)) denied.withdraw = 'only the rep who requested the review, or an admin, can withdraw it';
  if (!open) denied.decide = 'no review is waiting for an answer';
  else if (!isDesignatedReviewer(userId, decidingRoles(settings, triad))) {
    denied.decide = triad.enabled
      ? `the Triad is on: the ${TRIAD_ROLE_NAMES[triad.decisionMaker]} makes the call (an admin names them in the settings)`
      : 'only designated reviewers decide; an admin adds reviewers in the settings';
  }
  else if (latest.requestedBy === userId) denied.decide = 'you requested this review, so another reviewer must decide it';
  else if (dealOwnerUserId === userId) denied.decide = 'you own this deal, so another reviewer must decide its review';
  return {
    canRequest: denied.request === undefined,
    canWithdraw: denied.withdraw === undefined,
    canDecide: denied.decide === undefined,
    canEditSettings: isAdmin(userId, settings),
    denied,
  };
}

/** The quarter whose capacity matters for this deal: its review's, else the current one. */
function relevantQuarter(latest: Review | undefined, decision: Decision | undefined, now: number): string {
  if (decision?.quarter) return decision.quarter;
  if (latest && (isOpenReview(latest) || isApproval(latest.status))) return commitmentQuarter(latest.neededBy, now);
  return quarterOf(now);
}

/**
 * The quarter a request would book in, for the card's capacity preview: an approval that still
 * covers the deal books its decision's quarter (the preview is then empty anyway); an open review
 * its needed-by date's; anything else (a superseded approval, whose weeks were released, a no, a
 * withdrawal) the current quarter, not the old decision's.
 */
function previewQuarter(latest: Review | undefined, decision: Decision | undefined, now: number): string {
  if (latest && isApproval(latest.status)) return decision?.quarter ?? commitmentQuarter(latest.neededBy, now);
  if (latest && isOpenReview(latest)) return commitmentQuarter(latest.neededBy, now);
  return quarterOf(now);
}

/** The card's capacity preview, from the quarter a request would book in (read again when it is not the card's). */
async function previewOf(ctx: GateStoreContext, portalId: number, settings: Settings, capacity: CapacityView | null, snapshot: DealSnapshot, latest: Review | undefined, decision: Decision | undefined): Promise<CapacityPreview | null> {
  if (capacity === null || settings.capacity === null) return null;
  const quarter = previewQuarter(latest, decision, ctx.clock.now());
  const view = quarter === capacity.quarter ? capacity : capacityView(settings.capacity, await ctx.store.reviews.quarterBooking(portalId, quarter, { limit: CAPACITY_LIST_LIMIT }));
  return capacityPreviewOf(view, snapshot, latest, settings.amountTolerance);
}

export async function buildGateResponse(
  ctx: GateStoreContext,
  caller: Caller,
  snapshot: DealSnapshot,
  source: 'snapshot' | 'hubspot',
  dealOwnerUserId: string | null = null,
): Promise<GateResponse> {
  const { store } = ctx;
  const now = ctx.clock.now();
  const { portalId, userId } = caller;
  const { settings } = await effectiveSettings(ctx, portalId);
  const pipeline: Pipeline | undefined = snapshot.pipeline ? await store.pipelines.get(portalId, snapshot.pipeline) : undefined;
  const reviews = await store.reviews.listForDeal(portalId, snapshot.dealId);
  const latest = reviews[reviews.length - 1];
  const decision = latest ? await store.reviews.decisionFor(portalId, latest.id) : undefined;
  const audit = await store.audit.listForDeal(portalId, snapshot.dealId);
  const violations = await store.gateViolations.listForDeal(portalId, snapshot.dealId);
  const people = await cachedPeople(store, portalId, namedOnCard(userId, settings, latest, decision, audit, violations));
  const history = await dealHistory(ctx, portalId, pipeline, audit, violations, people);

  let capacity: CapacityView | null = null;
  if (settings.capacity !== null) {
    const quarter = relevantQuarter(latest, decision, now);
    capacity = capacityView(settings.capacity, await store.reviews.quarterBooking(portalId, quarter, { limit: CAPACITY_LIST_LIMIT }));
  }

  const stage = pipeline?.stages.find((s) => s.id === snapshot.stage);
  const gate = evaluateGate({ facts: snapshot, pipeline, settings, latest, now, breakGlass: await store.breakGlasses.openForDeal(portalId, snapshot.dealId) });
  return {
    dealId: snapshot.dealId,
    portalId,
    deal: {
      name: snapshot.name,
      amount: snapshot.amount,
      stage: snapshot.stage,
      stageLabel: stage?.label ?? null,
      pipeline: snapshot.pipeline,
      pipelineLabel: pipeline?.label ?? null,
      commitment: snapshot.commitment,
      commitmentSummary: snapshot.commitmentSummary,
      effortWeeks: snapshot.effortWeeks,
      source,
      asOf: iso(snapshot.refreshedAt),
    },
    gate,
    review: latest ? { ...reviewView(latest, decision, snapshot, now, settings, people), delivery: await deliveryViewOf(store, portalId, latest.id, userId, settings, now) } : null,
    history,
    sla: latest && isOpenReview(latest) ? slaClock(latest, now) : null,
    capacity,
    capacityPreview: await previewOf(ctx, portalId, settings, capacity, snapshot, latest, decision),
    postSales: await postSalesViewOf(ctx, caller, snapshot, dealOwnerUserId, (r, d) => reviewView(r, d, snapshot, now, settings, people)),
    caller: { userId, person: people.person(userId), roles: rolesOf(userId, settings) },
    permissions: permissionsOf(userId, settings, latest, dealOwnerUserId),
    standingFlag: await standingFlagOf(ctx, portalId, snapshot.dealId),
    triad: await triadViewOf(store, portalId, latest, userId, settings),
    breakGlass: await breakGlassCardOf(store, { portalId, userId, dealId: snapshot.dealId, dealName: snapshot.name, settings, gate, latest }),
    covering: latest && isOpenReview(latest) ? await coveringOnCard(store, portalId, latest, settings, now) : [],
  };
}

type AuditEntries = Awaited<ReturnType<Store['audit']['listForDeal']>>;
type Violations = Awaited<ReturnType<Store['gateViolations']['listForDeal']>>;

/** Everyone the card names (issue 15), so their names are read by key. */
function namedOnCard(userId: string, settings: Settings, latest: Review | undefined, decision: Decision | undefined, audit: AuditEntries, violations: Violations): string[] {
  return [
    ...(latest ? [latest.requestedBy] : []),
    ...(decision ? [decision.decidedBy] : []),
    userId,
    ...settings.reviewers,
    ...(settings.escalationReviewer === null ? [] : [settings.escalationReviewer]),
    // Who the card says it waits on (with the Triad on, the decision maker's members).
    ...(latest ? waitingOnIds(latest, settings) : []),
    ...audit.map((e) => e.actor),
    ...violations.flatMap((v) => (v.movedByUserId === null ? [] : [v.movedByUserId])),
  ];
}

/** The deal's history on the card: its transitions and the moves past the gate, oldest first, people by name. */
async function dealHistory(ctx: GateStoreContext, portalId: number, pipeline: Pipeline | undefined, audit: AuditEntries, violations: Violations, people: PeopleBook): Promise<HistoryEntry[]> {
  const { store } = ctx;
  // Stage ids are what HubSpot stores (numbers, in a custom pipeline): the card shows their labels.
  const stageLabels = new Map<string, string>();
  for (const p of [...(await store.pipelines.list(portalId)), ...(pipeline ? [pipeline] : [])]) for (const s of p.stages) stageLabels.set(s.id, s.label);
  const labelOf = (stageId: string | null) => (stageId === null ? null : stageLabels.get(stageId) ?? null);

  return [
    ...audit.map(
      (e): HistoryEntry & { order: number } => ({
        at: iso(e.at),
        kind: 'transition',
        action: e.action,
        actor: e.actor,
        actorPerson: people.person(e.actor),
        fromStatus: e.fromStatus,
        toStatus: e.toStatus,
        reason: e.reason,
        reviewId: e.reviewId,
        fromStage: null,
        toStage: null,
        fromStageLabel: null,
        toStageLabel: null,
        order: e.at,
      }),
    ),
    ...violations.map(
      (v): HistoryEntry & { order: number } => ({
        at: iso(v.occurredAt),
        kind: 'violation',
        action: 'gate_skip_reverted',
        actor: v.movedByUserId ?? v.sourceId ?? v.sourceType ?? 'unknown',
        actorPerson: people.person(v.movedByUserId ?? v.sourceId ?? v.sourceType ?? 'unknown'),
        fromStatus: null,
        toStatus: null,
        reason: `moved past the gate without sign-off${v.sourceType ? ` (${v.sourceType})` : ''}`,
        reviewId: null,
        fromStage: v.fromStage,
        toStage: v.toStage,
        fromStageLabel: labelOf(v.fromStage),
        toStageLabel: labelOf(v.toStage),
        order: v.occurredAt,
      }),
    ),
  ]
    // Oldest first; in the same millisecond a move past the gate comes before what Dealgate did about it.
    .sort((a, b) => a.order - b.order || (a.kind === 'violation' ? 0 : 1) - (b.kind === 'violation' ? 0 : 1))
    .map(({ order: _order, ...entry }) => entry);
}

/** The newest open flag of a legal passage (found at install, caught by tightened rules): enforcement leaves such a deal where it is. */
async function standingFlagOf(ctx: GateStoreContext, portalId: number, dealId: string): Promise<GateResponse['standingFlag']> {
  const flag = (await ctx.store.dealFlags.openForDeal(portalId, dealId))
    .filter((f): f is typeof f & { kind: 'backfill' | 'rules_tightened' } => f.kind === 'backfill' || f.kind === 'rules_tightened')
    .at(-1);
  return flag ? { kind: flag.kind, reason: flag.reason, since: iso(flag.createdAt) } : null;
}
