import type { HubSpotDeal } from '../hubspot/gateway';
import type { DealEventHandler, DealEventInput } from './dealEventHandler';
import type { InboxEvent } from '../storage/inboxStore';
import { observeRevenueWin } from './revenueGoalWins';
import { actorOf, isDeletion, isOwnEvent, isStageEvent, SWEEP_SUBSCRIPTION } from './dealEventSource';
import { observedFrom, type ObservedDeal } from './dealFacts';
import type { EnforcementContext } from './enforcementGate';
import { pipelineOf } from './pipelineStages';
import { enforce } from './stageEnforcement';

// The port, the event's own facts and the revert window are defined beside the steps that use them; their names stay importable from here.
export type { GatePort, ObservedDeal, RelaxedBy, StageMoveVerdict } from './enforcementGate';
export { actorOf, isStageEvent, SWEEP_SUBSCRIPTION, sweepModeOf, type SweepMode } from './dealEventSource';
export { OWN_REVERT_WINDOW_MS } from './stageEnforcement';

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
