import type { HubSpotDeal, StageChange } from '../hubspot/gateway';
import type { DealEventHandler, DealEventInput } from './dealEventHandler';
import type { InboxEvent } from '../storage/inboxStore';
import { observeRevenueWin } from './revenueGoalWins';
import { actorOf, isDeletion, isOwnEvent, isStageEvent, SWEEP_SUBSCRIPTION, appIdOf, enforcedBy, isOwnChange, sweepModeOf, sweepStartedAt } from './dealEventSource';
import { observedFrom } from './dealFacts';
import type { EnforcementContext, ObservedDeal, StageMoveVerdict } from './enforcementGate';
import { pipelineOf, actorName, stageLabel, pipelineOfStage } from './pipelineStages';
import { flagFound, flagWon } from './enforcementFlags';
import { attribute, recordViolation, type Attribution } from './violationAttribution';
import { SYSTEM_ACTOR } from '../domain/auditEntry';
import { revertCandidates } from '../domain/revertTarget';
import { enqueueEffect } from '../storage/outboxStore';
import { stageMoveNote } from './violationNote';

// The port and the event's own facts are defined beside the steps that use them; their names stay importable from here.
export type { GatePort, ObservedDeal, RelaxedBy, StageMoveVerdict } from './enforcementGate';
export { actorOf, isStageEvent, SWEEP_SUBSCRIPTION, sweepModeOf, type SweepMode } from './dealEventSource';

/**
 * What a deal event does (HubSpot sends the new value only; see HUBSPOT.md, Webhooks):
 * - every event keeps Dealgate's snapshot of the deal current (through the gate, which also
 *   applies what a changed commitment or amount means for the review and the status);
 * - a `dealstage` change into a stage past the gate that the gate does not allow is reverted: the
 *   stage it came from (from the stage history), a note saying why and what to do, a violation
 *   recorded (who, from, to, when) and the status written, all in the transaction that marks the
 *   event done;
 * - a move Dealgate made itself (its own revert), and a stale event (the deal has moved on since),
 *   are never reverted.
 */

export type DealEventHandlerDeps = EnforcementContext;

function toNumber(value: string | null): number | null {
  if (value === null || value.trim() === '') return null;
  const n = Number(value);
  return Number.isFinite(n) ? n : null;
}

/** The deal properties the snapshot keeps (see withEventValue). */
const TRACKED_PROPERTIES: ReadonlySet<string> = new Set([
  'dealstage',
  'pipeline',
  'amount',
  'amount_in_home_currency',
  'dealname',
  'hubspot_owner_id',
  'dealgate_commitment',
  'dealgate_commitment_summary',
  'dealgate_effort_weeks',
]);

/** The facts whose change can put a deal that sits past the gate out of its review's cover. */
const GATING_FACTS: ReadonlySet<string> = new Set([
  'pipeline',
  'amount',
  'amount_in_home_currency',
  // A deal's currency changes the amount in the account's currency (HubSpot recomputes it).
  'deal_currency_code',
  'dealgate_commitment',
  'dealgate_commitment_summary',
  'dealgate_effort_weeks',
]);

/** The commitment properties reps edit in HubSpot, which Dealgate also writes when a review is requested. */
const REP_WRITTEN = new Set(['dealgate_commitment', 'dealgate_commitment_summary', 'dealgate_effort_weeks']);

/** The snapshot with the one property the event carries applied, unless the snapshot is newer. */
function withEventValue(snapshot: ObservedDeal, event: InboxEvent): ObservedDeal {
  if (event.occurredAt < snapshot.observedAt) return snapshot;
  const value = event.propertyValue;
  const next: ObservedDeal = { ...snapshot, observedAt: event.occurredAt };
  switch (event.propertyName) {
    case 'dealstage':
      next.stage = value;
      break;
    case 'pipeline':
      next.pipeline = value;
      break;
    case 'amount':
      next.amount = toNumber(value);
      break;
    case 'amount_in_home_currency':
      next.amountInHomeCurrency = toNumber(value);
      break;
    case 'dealname':
      next.name = value;
      break;
    case 'hubspot_owner_id':
      next.ownerId = value;
      break;
    case 'dealgate_commitment':
      next.commitment = value === 'true';
      break;
    case 'dealgate_commitment_summary':
      next.commitmentSummary = value;
      break;
    case 'dealgate_effort_weeks':
      next.effortWeeks = toNumber(value);
      break;
    default:
      return snapshot;
  }
  return next;
}

export function createDealEventHandler(deps: DealEventHandlerDeps): DealEventHandler {
  return {
    needsFreshDeal: (portalId, dealId, events) => needsFreshDeal(deps, portalId, dealId, events),
    unknownStage: (portalId, fresh) => unknownStage(deps, portalId, fresh),
    apply: (input) => apply(deps, input),
  };
}

/**
 * A stage event that cannot need a revert, judged from the snapshot alone (no HubSpot read): our
 * own move, or a move into a known stage that is not past the gate. A move past the gate is
 * always judged on the deal as HubSpot has it when we read it, since the facts that decide it
 * (a commitment ticked a moment before the move) may sit in events not received yet.
 */
async function plainlyAllowed(ctx: EnforcementContext, event: InboxEvent, snapshot: ObservedDeal): Promise<boolean> {
  const { gate } = ctx;
  if (isOwnEvent(event)) return true;
  const stage = event.propertyValue;
  if (stage === null) return true;
  const pipeline = await pipelineOf(ctx, event.portalId, snapshot.pipeline);
  if (!pipeline || !pipeline.stages.some((s) => s.id === stage)) return false;
  return !(await gate.judgeStageMove(event.portalId, { ...snapshot, stage }, stage)).pastGate;
}

/** An event about a fact the snapshot keeps, older than the snapshot: it arrived late, so only a read tells the truth. */
function arrivedLate(event: InboxEvent, snapshot: ObservedDeal): boolean {
  return event.propertyName !== null && TRACKED_PROPERTIES.has(event.propertyName) && event.occurredAt < snapshot.observedAt;
}

async function needsFreshDeal(ctx: EnforcementContext, portalId: number, dealId: string, events: readonly InboxEvent[]): Promise<boolean> {
  const { gate } = ctx;
  if (events.every(isDeletion)) return false;
  if (events.some((e) => e.subscriptionType === SWEEP_SUBSCRIPTION)) return true;
  const snapshot = await gate.snapshot(portalId, dealId);
  if (!snapshot) return true;
  // A fact of a deal that sits past the gate changed: whether a decision still covers it is judged on HubSpot's current deal.
  const pastGate = async () => snapshot.stage !== null && (await gate.judgeStageMove(portalId, snapshot, snapshot.stage)).pastGate;
  for (const e of events) {
    if (e.subscriptionType === 'deal.creation' || e.subscriptionType === 'deal.restore' || e.propertyName === 'pipeline') return true;
    if (await arrivedLate(e, snapshot)) return true;
    // The home-currency amount is HubSpot's to compute: an amount change is read back.
    if (e.propertyName === 'deal_currency_code') return true;
    if (e.propertyName === 'amount' && snapshot.amountInHomeCurrency !== undefined && snapshot.amountInHomeCurrency !== null) return true;
    if (e.propertyName !== null && GATING_FACTS.has(e.propertyName) && !isOwnEvent(e) && (await pastGate())) return true;
    if (isStageEvent(e) && !(await plainlyAllowed(ctx, e, snapshot))) return true;
  }
  return false;
}

async function unknownStage(ctx: EnforcementContext, portalId: number, fresh: HubSpotDeal): Promise<boolean> {
  const pipeline = await pipelineOf(ctx, portalId, fresh.pipeline);
  return !pipeline || (fresh.stage !== null && !pipeline.stages.some((s) => s.id === fresh.stage));
}

async function apply(ctx: EnforcementContext, { event, fresh, goneFromHubSpot }: DealEventInput): Promise<boolean> {
  const { store, clock, gate } = ctx;
  const portalId = event.portalId;
  // Everything below reads the deal's facts and review and writes on them: after the card's
  // actions on the deal that committed before, and before those that come now (they wait).
  await store.deals.lockForChange(portalId, event.objectId);
  if (isDeletion(event) || goneFromHubSpot) {
    await gate.markDeleted(portalId, event.objectId, event.occurredAt);
    await observeRevenueWin(ctx, portalId, event.objectId, event.occurredAt);
    return false;
  }
  const actor = actorOf(event);
  // A rep's edit of the commitment in HubSpot wins over our write of it still waiting in the
  // outbox (HubSpot slow or rate limiting): that write would silently undo the edit.
  if (event.propertyName !== null && REP_WRITTEN.has(event.propertyName) && !isOwnEvent(event)) {
    await store.outbox.yieldToLaterChange(portalId, event.objectId, event.propertyName, event.occurredAt, clock.now());
  }
  if (fresh) {
    await gate.reconcile(portalId, observedFrom(fresh), actor);
  } else {
    const snapshot = await gate.snapshot(portalId, event.objectId);
    if (snapshot) await gate.reconcile(portalId, withEventValue(snapshot, event), actor);
  }
  // Every event whose deal was read is judged on the deal as it is now, not only stage moves.
  const acted = fresh !== undefined ? await enforce(ctx, event, fresh) : false;
  // The revenue goal counts the deal's win (or takes it off), on the facts just applied.
  const wonAt = fresh?.stageHistory.find((h) => h.value === fresh.stage)?.timestamp ?? event.occurredAt;
  await observeRevenueWin(ctx, portalId, event.objectId, wonAt);
  return acted;
}

/** A revert Dealgate enqueued this recently that put the deal in a stage explains a move to that stage. */
export const OWN_REVERT_WINDOW_MS = 24 * 60 * 60 * 1000;

/** A deal that passed the gate only because the latest change of the rule relaxed it: recorded, naming that change's author. */
async function notePassage(ctx: EnforcementContext, event: InboxEvent, observed: ObservedDeal, entry: StageChange): Promise<void> {
  const { store, clock, gate } = ctx;
  const relaxed = await gate.relaxedBy(event.portalId, observed);
  if (!relaxed) return;
  const now = clock.now();
  const stage = await stageLabel(ctx, event.portalId, observed.pipeline, entry.value);
  const reason = `passed to ${stage} under a rule relaxed by ${await actorName(ctx, event.portalId, relaxed.changedBy)} (settings change #${relaxed.settingsChangeId}, ${new Date(relaxed.changedAt).toISOString()}); the rule before it required a review`;
  const id = await store.dealFlags.record(
    { portalId: event.portalId, dealId: observed.dealId, kind: 'relaxed_passage', reason, settingsChangeId: relaxed.settingsChangeId, dedupeKey: `relaxed:${observed.dealId}:${entry.value}:${entry.timestamp}` },
    now,
  );
  if (id === undefined) return;
  await store.audit.append(event.portalId, {
    dealId: observed.dealId,
    reviewId: (await store.reviews.latestForDeal(event.portalId, observed.dealId))?.id ?? null,
    action: 'passed_under_relaxed_rule',
    actor: actorOf(event, entry),
    fromStatus: null,
    toStatus: null,
    reason,
    details: { settingsChangeId: relaxed.settingsChangeId, changedBy: relaxed.changedBy, stage: entry.value },
    at: Math.max(now, entry.timestamp),
  });
}

/**
 * Judges the deal where it sits now, whatever event brought it here (its stage move, another
 * fact's change, a sweep): past the gate and not covered, it is moved back (open stages, and won
 * ones under afterClose=revert), flagged (won under afterClose=flag; found by the install sweep),
 * and the attempt recorded, once per passage however many events or sweeps reveal it.
 */
export async function enforce(ctx: EnforcementContext, event: InboxEvent, fresh: HubSpotDeal): Promise<boolean> {
  const { store, clock, gate } = ctx;
  const portalId = event.portalId;
  if (isOwnEvent(event) || fresh.stage === null) return false;
  let mode = sweepModeOf(event);
  const observed = observedFrom(fresh);
  const verdict = await gate.judgeStageMove(portalId, observed, fresh.stage);
  if (!verdict.pastGate) return false;
  const stage = fresh.stage;
  const appId = appIdOf(event);
  // HubSpot's history is newest first; the entry for the deal's passage is the newest with its stage.
  const index = fresh.stageHistory.findIndex((h) => h.value === stage);
  const entry = index >= 0 ? fresh.stageHistory[index] : undefined;
  if (entry && isOwnChange(entry.sourceType, entry.sourceId, appId)) return false;
  const isMove = isStageEvent(event) && event.propertyValue === stage;
  if (verdict.allowed) {
    if (isMove && entry) await notePassage(ctx, event, observed, entry);
    return false;
  }
  // The install sweep flags what predates Dealgate; a deal it finds moved past the gate since
  // Dealgate was installed (before the pass began too: its webhook may come after the sweep, or
  // never) is judged as the reconciliation judges it.
  const watchedSince = mode === 'backfill' ? await backfillCutoff(ctx, event) : undefined;
  if (mode === 'backfill' && entry && watchedSince !== undefined && entry.timestamp >= watchedSince) mode = 'reconcile';
  // Flagged where it sits because its passage was legal (before install, before the rules
  // tightened): a later edit or sweep of it leaves it flagged; a move past the gate since is judged.
  // The webhook of the very move that put the deal here proves it was made under Dealgate's watch:
  // a backfill flag the install sweep raised for that passage (the sweep got there first) does not stand.
  const ownMoveWebhook = mode === null && isMove && entry !== undefined && event.occurredAt >= entry.timestamp;
  if (mode !== 'enforce' && mode !== 'backfill' && await standsFlagged(ctx, portalId, fresh.id, entry, ownMoveWebhook)) return false;
  if (isMove) {
    // A move nobody identifiable made, to the stage a revert of ours set: our own revert landing.
    const byUser = Boolean(entry?.updatedByUserId) || /^userId:/.test(event.sourceId ?? '');
    const revert = byUser ? undefined : await store.outbox.recentRevert(portalId, fresh.id, event.occurredAt - OWN_REVERT_WINDOW_MS);
    if (revert && revert.createdAt <= event.occurredAt && (revert.payload as { toStage?: unknown }).toStage === stage) return false;
  }
  const who = attribute(event, entry, mode);
  // Done while the rule allowed it, and learnt of after a change tightened the rule (a late
  // webhook, a sweep): legal when it happened, so flagged, not moved.
  if (mode === null || mode === 'reconcile') {
    const tightened = await gate.tightenedSince(portalId, observed, who.occurredAt);
    if (tightened) return await gate.flagTightened(portalId, observed, tightened);
  }
  const epoch = await gate.coverageEpoch(portalId, fresh.id);
  // One action per passage (the history entry that put the deal where it is) and approval:
  // events that find the deal in the same state (moved twice before we read it, duplicates, the
  // webhook and a sweep) act once.
  const passage = entry ? `${fresh.id}:${stage}:${entry.timestamp}:e${epoch}` : undefined;
  if (mode === 'backfill') return await flagFound(ctx, event, observed, verdict, passage);
  const flag = verdict.inWonStage && verdict.afterClose === 'flag';
  // The deal's move past the gate is what broke the rule (its own event, a fact set before it,
  // a sweep finding it): it goes back where it came from. A fact changed on a deal sitting won
  // sends it back to the gate stage.
  const byMove = who.cause !== 'fact_change';
  const acted = flag ? await flagWon(ctx, event, observed, verdict, passage, who, index, fresh) : await revert(ctx, event, observed, fresh, verdict, passage, who, index, byMove);
  // Enforced: acted on now, or already (its passage reverted or flagged won before): the install flag is done either way.
  if (mode === 'enforce') {
    const by = enforcedBy(event);
    await store.dealFlags.resolveForDeal(portalId, fresh.id, ['backfill'], `enforced by ${by === null ? 'an admin' : await actorName(ctx, portalId, by)}`, clock.now());
  } else if (ownMoveWebhook) {
    await store.dealFlags.resolveForDeal(portalId, fresh.id, ['backfill'], 'the move was made after Dealgate was installed (its webhook arrived after the install sweep): enforced as a move', clock.now());
  }
  return acted;
}

/** An open flag of a legal passage (found at install, caught by tightened rules) raised after the deal reached its stage. */
async function standsFlagged(ctx: EnforcementContext, portalId: number, dealId: string, entry: StageChange | undefined, ownMoveWebhook: boolean): Promise<boolean> {
  const { store } = ctx;
  return (await store.dealFlags.openForDeal(portalId, dealId))
    .some((flag) => ((flag.kind === 'backfill' && !ownMoveWebhook) || flag.kind === 'rules_tightened') && (entry === undefined || entry.timestamp <= flag.createdAt));
}


/**
 * From when a passage found by the install sweep was made under Dealgate's watch: the account's
 * install (HubSpot sends webhooks from then on), or the pass's start if that is earlier or the
 * install is unknown. A move between the install and the pass is not one that predates Dealgate:
 * flagged, its own webhook would then find it flagged and leave it past the gate.
 */
async function backfillCutoff(ctx: EnforcementContext, event: InboxEvent): Promise<number | undefined> {
  const { store } = ctx;
  const startedAt = sweepStartedAt(event);
  const installedAt = (await store.accounts.get(event.portalId))?.installedAt;
  if (installedAt === undefined) return startedAt;
  return startedAt === undefined ? installedAt : Math.min(startedAt, installedAt);
}

/** Where a deal past the gate goes back to: the newest stage it sat in before that is not past the gate, else the gate stage. */
export async function revertTarget(ctx: EnforcementContext, portalId: number, observed: ObservedDeal, fresh: HubSpotDeal, index: number, verdict: StageMoveVerdict, isMove: boolean) {
  const { gate } = ctx;
  // The domain names the stages to try, best first; the gate judges each with its pipeline's rules.
  const candidates = revertCandidates({ history: fresh.stageHistory, currentStage: fresh.stage ?? '', moveIndex: index, isMove, inWonStage: verdict.inWonStage });
  for (const stageId of candidates) {
    const pipeline = await pipelineOfStage(ctx, portalId, fresh.pipeline, stageId);
    if (!pipeline) continue;
    if (!(await gate.judgeStageMove(portalId, { ...observed, pipeline: pipeline.id, stage: stageId }, stageId)).pastGate) return stageId;
  }
  return verdict.gateStage?.id;
}

export async function revert(
  ctx: EnforcementContext,
  event: InboxEvent,
  observed: ObservedDeal,
  fresh: HubSpotDeal,
  verdict: StageMoveVerdict,
  passage: string | undefined,
  who: Attribution,
  index: number,
  isMove: boolean,
): Promise<boolean> {
  const { store, clock, logger } = ctx;
  const portalId = event.portalId;
  const movedTo = fresh.stage as string;
  const backTo = await revertTarget(ctx, portalId, observed, fresh, index, verdict, isMove);
  if (!backTo || backTo === movedTo) {
    logger.warn({ portalId, dealId: fresh.id, stage: movedTo }, 'a deal past the gate cannot be moved back: no earlier stage and no gate stage');
    return false;
  }
  const backToPipeline = await pipelineOfStage(ctx, portalId, fresh.pipeline, backTo);
  const now = clock.now();
  const entry = index >= 0 ? fresh.stageHistory[index] : undefined;
  const revertEffect = {
    kind: 'revert_stage' as const,
    payload: {
      toStage: backTo,
      fromStage: movedTo,
      // The stage it came from may be in another pipeline (HubSpot moves the deal to a stage's
      // pipeline along with the stage): the revert then restores that pipeline too.
      ...(backToPipeline && backToPipeline.id !== fresh.pipeline ? { toPipeline: backToPipeline.id } : {}),
      ...(entry ? { movedAt: entry.timestamp } : {}),
    },
  };
  const moveKey = passage === undefined ? undefined : `gate:${passage}`;
  if (moveKey !== undefined && await enqueueEffect(store.outbox, { portalId, dealId: fresh.id, effect: revertEffect, dedupeKey: `${moveKey}:revert` }, now) === undefined) {
    return false;
  }
  const violationId = await recordViolation(ctx, event, fresh.id, who, backTo, movedTo, 'reverted');
  if (violationId === undefined) {
    // Only a second application of the same inbox event gets here, which its transaction rules out.
    if (moveKey !== undefined) throw new Error(`inbox event ${event.id} recorded its violation already`);
    return false;
  }
  const key = moveKey ?? `violation:${violationId}`;
  if (moveKey === undefined) await enqueueEffect(store.outbox, { portalId, dealId: fresh.id, effect: revertEffect, dedupeKey: `${key}:revert` }, now);
  await enqueueEffect(store.outbox, { portalId, dealId: fresh.id, effect: { kind: 'update_deal', payload: { properties: { dealgate_status: verdict.status } } } }, now);
  const from = await stageLabel(ctx, portalId, fresh.pipeline, backTo);
  const to = await stageLabel(ctx, portalId, fresh.pipeline, movedTo);
  const change = who.cause === 'fact_change' ? { property: who.changedProperty } : who.cause === 'reconciliation' ? { found: 'reconciliation' as const } : undefined;
  const movedBy = await actorName(ctx, portalId, who.actor);
  await enqueueEffect(
    store.outbox,
    {
      portalId,
      dealId: fresh.id,
      effect: { kind: 'create_note', payload: { body: stageMoveNote({ movedBy, from, to, verdict, gateLabel: verdict.gateStage?.label ?? null, change }) } },
      dedupeKey: `${key}:note`,
    },
    now,
  );
  const what = who.cause === 'fact_change' ? `${who.changedProperty ?? 'a fact'} changed by ${movedBy} while it sat in ${to}` : `moved there by ${movedBy}`;
  await store.audit.append(portalId, {
    dealId: fresh.id,
    reviewId: (await store.reviews.latestForDeal(portalId, fresh.id))?.id ?? null,
    action: 'stage_move_reverted',
    // Dealgate moves the deal back; who put it past the gate is the violation's entry.
    actor: SYSTEM_ACTOR,
    fromStatus: verdict.status,
    toStatus: verdict.status,
    reason: `moved back from ${to} to ${from} (${what} without sign-off): ${verdict.reason}`,
    details: { violationId, fromStage: backTo, toStage: movedTo, sourceType: who.sourceType, cause: who.cause, changedProperty: who.changedProperty },
    // Never before what it undoes, even when HubSpot's clock runs ahead of ours.
    at: Math.max(now, who.occurredAt),
  });
  logger.info({ portalId, dealId: fresh.id, movedBy: who.actor, from: backTo, to: movedTo, cause: who.cause }, 'deal past the gate without sign-off moved back');
  return true;
}
