import type { GateStatus } from '../../../extensions/contract/api';
import type { Clock } from '../clock';
import type { Logger } from '../logger';
import type { Store } from '../storage/store';
import type { HubSpotDeal, StageChange } from '../hubspot/gateway';
import type { DealFacts, Pipeline } from '../domain/gatePolicy';
import { enqueueEffect } from '../outbox/effects';
import { SYSTEM_ACTOR } from '../domain/auditEntry';
import type { DealEventHandler, DealEventInput } from '../workers/inboxWorker';
import type { InboxEvent } from './inboxStore';
import { stageMoveNote } from './violationNote';

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

/** The facts the gate reads, with where they came from and when. */
export interface ObservedDeal extends DealFacts {
  dealId: string;
  ownerId: string | null;
  /** HubSpot's time for these facts (the deal's last modification, or the event's occurrence). */
  observedAt: number;
  /** `dealgate_status` as HubSpot has it, when read from HubSpot (the gate rewrites a stale projection). */
  hubspotStatus?: string | null;
}

export interface StageMoveVerdict {
  allowed: boolean;
  /** `toStage` is past the pipeline's gate stage (a lost stage never is). */
  pastGate: boolean;
  /** The deal's gate status, to project onto `dealgate_status`. */
  status: GateStatus;
  /** Why review is (not) required, in words. */
  reason: string;
  gateStage: { id: string; label: string } | null;
}

/** The gate, as enforcement needs it. Both run inside the inbox transaction (synchronous, store only). */
export interface GatePort {
  /** Stores the facts and applies what changed (requirement, stale approval, status projection). */
  reconcile(portalId: number, deal: ObservedDeal, actor: string): void;
  /** Marks the deal deleted in the snapshot. */
  markDeleted(portalId: number, dealId: string, at: number): void;
  /** The snapshot as Dealgate holds it, if any. */
  snapshot(portalId: number, dealId: string): ObservedDeal | undefined;
  /** Whether the deal, with these facts, may sit in `toStage`. */
  judgeStageMove(portalId: number, deal: ObservedDeal, toStage: string): StageMoveVerdict;
}

export interface DealEventHandlerDeps {
  store: Store;
  clock: Clock;
  logger: Logger;
  gate: GatePort;
}

/** A revert Dealgate enqueued this recently that put the deal in a stage explains a move to that stage. */
export const OWN_REVERT_WINDOW_MS = 24 * 60 * 60 * 1000;

function observedFrom(deal: HubSpotDeal): ObservedDeal {
  return {
    dealId: deal.id,
    name: deal.name,
    amount: deal.amount,
    stage: deal.stage,
    pipeline: deal.pipeline,
    ownerId: deal.ownerId,
    commitment: deal.commitment,
    commitmentSummary: deal.commitmentSummary,
    effortWeeks: deal.effortWeeks,
    observedAt: deal.updatedAt,
    hubspotStatus: deal.status,
  };
}

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
  'dealname',
  'hubspot_owner_id',
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

/** `userId:123` (HubSpot's UI) becomes the user id; anything else is HubSpot acting. */
export function actorOf(event: Pick<InboxEvent, 'sourceId'>, entry?: StageChange): string {
  if (entry?.updatedByUserId) return entry.updatedByUserId;
  const match = /^userId:(\d+)$/.exec(event.sourceId ?? '');
  return match?.[1] ?? 'hubspot';
}

function appIdOf(event: InboxEvent): string | null {
  try {
    const appId = (JSON.parse(event.payload) as { appId?: unknown }).appId;
    return appId === undefined || appId === null ? null : String(appId);
  } catch {
    return null;
  }
}

/**
 * Changes made with the app's own token: HubSpot records them as INTEGRATION with the app id as
 * the source (https://developers.hubspot.com/docs/api/crm/properties#property-history).
 */
function isOwnChange(sourceType: string | null, sourceId: string | null, appId: string | null): boolean {
  return appId !== null && sourceId === appId && (sourceType === 'INTEGRATION' || sourceType === 'APP');
}

/** The event reports a change made with the app's own token. */
function isOwnEvent(event: InboxEvent): boolean {
  return isOwnChange(event.changeSource, event.sourceId, appIdOf(event));
}

export function isStageEvent(event: Pick<InboxEvent, 'subscriptionType' | 'propertyName'>): boolean {
  return event.subscriptionType === 'deal.propertyChange' && event.propertyName === 'dealstage';
}

function isDeletion(event: Pick<InboxEvent, 'subscriptionType'>): boolean {
  return event.subscriptionType === 'deal.deletion';
}

export function createDealEventHandler(deps: DealEventHandlerDeps): DealEventHandler {
  const { store, clock, logger, gate } = deps;

  function pipelineOf(portalId: number, pipelineId: string | null): Pipeline | undefined {
    return pipelineId === null ? undefined : store.pipelines.get(portalId, pipelineId);
  }

  /**
   * A stage event that cannot need a revert, judged from the snapshot alone (no HubSpot read): our
   * own move, or a move into a known stage that is not past the gate. A move past the gate is
   * always judged on the deal as HubSpot has it when we read it, since the facts that decide it
   * (a commitment ticked a moment before the move) may sit in events not received yet.
   */
  function plainlyAllowed(event: InboxEvent, snapshot: ObservedDeal): boolean {
    if (isOwnEvent(event)) return true;
    const stage = event.propertyValue;
    if (stage === null) return true;
    const pipeline = pipelineOf(event.portalId, snapshot.pipeline);
    if (!pipeline || !pipeline.stages.some((s) => s.id === stage)) return false;
    return !gate.judgeStageMove(event.portalId, { ...snapshot, stage }, stage).pastGate;
  }

  /** An event about a fact the snapshot keeps, older than the snapshot: it arrived late, so only a read tells the truth. */
  function arrivedLate(event: InboxEvent, snapshot: ObservedDeal): boolean {
    return event.propertyName !== null && TRACKED_PROPERTIES.has(event.propertyName) && event.occurredAt < snapshot.observedAt;
  }

  function enforce(event: InboxEvent, fresh: HubSpotDeal): boolean {
    const portalId = event.portalId;
    const movedTo = event.propertyValue;
    if (movedTo === null) return false;
    const appId = appIdOf(event);
    if (isOwnChange(event.changeSource, event.sourceId, appId)) return false;
    // Stale: the deal has moved on since (possibly legitimately); only its current stage counts.
    if (fresh.stage !== movedTo) return false;
    const observed = observedFrom(fresh);
    const verdict = gate.judgeStageMove(portalId, observed, movedTo);
    if (verdict.allowed) return false;

    // HubSpot's history is newest first; the entry for this move is the newest with this value.
    const index = fresh.stageHistory.findIndex((h) => h.value === movedTo);
    const entry = index >= 0 ? fresh.stageHistory[index] : undefined;
    if (entry && isOwnChange(entry.sourceType, entry.sourceId, appId)) return false;
    // A move nobody identifiable made, to the stage a revert of ours set: our own revert landing.
    const byUser = Boolean(entry?.updatedByUserId) || /^userId:/.test(event.sourceId ?? '');
    const revert = byUser ? undefined : store.outbox.recentRevert(portalId, fresh.id, event.occurredAt - OWN_REVERT_WINDOW_MS);
    if (revert && revert.createdAt <= event.occurredAt && (revert.payload as { toStage?: unknown }).toStage === movedTo) return false;
    const pipeline = pipelineOf(portalId, fresh.pipeline);
    // The stage it came from may be in another pipeline (HubSpot moves the deal to a stage's
    // pipeline along with the stage): the revert then restores that pipeline too.
    const pipelineOfStage = (stageId: string): Pipeline | undefined =>
      pipeline?.stages.some((s) => s.id === stageId) ? pipeline : store.pipelines.list(portalId).find((p) => p.stages.some((s) => s.id === stageId));
    const previous = index >= 0 ? fresh.stageHistory[index + 1]?.value : undefined;
    const backTo = previous && previous !== movedTo && pipelineOfStage(previous) ? previous : verdict.gateStage?.id;
    if (!backTo || backTo === movedTo) {
      logger.warn({ portalId, dealId: fresh.id, stage: movedTo }, 'a move past the gate cannot be reverted: no earlier stage and no gate stage');
      return false;
    }
    const backToPipeline = pipelineOfStage(backTo);

    const now = clock.now();
    const movedBy = actorOf(event, entry);
    const revertEffect = {
      kind: 'revert_stage' as const,
      payload: {
        toStage: backTo,
        fromStage: movedTo,
        ...(backToPipeline && backToPipeline.id !== fresh.pipeline ? { toPipeline: backToPipeline.id } : {}),
        ...(entry ? { movedAt: entry.timestamp } : {}),
      },
    };
    // One revert per move in the stage history: events that find the deal in the same illegal state
    // (moved there twice before we read it, or duplicates with different ids) revert it once.
    const moveKey = entry ? `stage-move:${fresh.id}:${movedTo}:${entry.timestamp}` : undefined;
    if (moveKey !== undefined && enqueueEffect(store.outbox, { portalId, dealId: fresh.id, effect: revertEffect, dedupeKey: `${moveKey}:revert` }, now) === undefined) {
      return false;
    }
    const violationId = store.gateViolations.record(
      {
        portalId,
        dealId: fresh.id,
        movedByUserId: entry?.updatedByUserId ?? (movedBy === 'hubspot' ? null : movedBy),
        sourceType: entry?.sourceType ?? event.changeSource,
        sourceId: entry?.sourceId ?? event.sourceId,
        fromStage: backTo,
        toStage: movedTo,
        occurredAt: entry?.timestamp ?? event.occurredAt,
        inboxEventId: event.id,
      },
      now,
    );
    if (violationId === undefined) {
      // Only a second application of the same inbox event gets here, which its transaction rules out.
      if (moveKey !== undefined) throw new Error(`inbox event ${event.id} recorded its violation already`);
      return false;
    }
    const key = moveKey ?? `violation:${violationId}`;
    if (moveKey === undefined) enqueueEffect(store.outbox, { portalId, dealId: fresh.id, effect: revertEffect, dedupeKey: `${key}:revert` }, now);
    enqueueEffect(store.outbox, { portalId, dealId: fresh.id, effect: { kind: 'update_deal', payload: { properties: { dealgate_status: verdict.status } } } }, now);
    const label = (stageId: string) => pipelineOfStage(stageId)?.stages.find((s) => s.id === stageId)?.label ?? stageId;
    enqueueEffect(
      store.outbox,
      {
        portalId,
        dealId: fresh.id,
        effect: {
          kind: 'create_note',
          payload: { body: stageMoveNote({ movedBy, from: label(backTo), to: label(movedTo), verdict, gateLabel: verdict.gateStage?.label ?? null }) },
        },
        dedupeKey: `${key}:note`,
      },
      now,
    );
    store.audit.append(portalId, {
      dealId: fresh.id,
      reviewId: store.reviews.latestForDeal(portalId, fresh.id)?.id ?? null,
      action: 'stage_move_reverted',
      // Dealgate moves the deal back; who moved it past the gate is the violation's entry.
      actor: SYSTEM_ACTOR,
      fromStatus: verdict.status,
      toStatus: verdict.status,
      reason: `moved back from ${label(movedTo)} to ${label(backTo)} (moved there by ${/^\d+$/.test(movedBy) ? `user ${movedBy}` : movedBy} without sign-off): ${verdict.reason}`,
      details: { violationId, fromStage: backTo, toStage: movedTo, sourceType: entry?.sourceType ?? event.changeSource },
      // Never before the move it undoes, even when HubSpot's clock runs ahead of ours.
      at: Math.max(now, entry?.timestamp ?? event.occurredAt),
    });
    logger.info({ portalId, dealId: fresh.id, movedBy, from: backTo, to: movedTo }, 'move past the gate reverted');
    return true;
  }

  return {
    needsFreshDeal(portalId, dealId, events) {
      if (events.every(isDeletion)) return false;
      const snapshot = gate.snapshot(portalId, dealId);
      if (!snapshot) return true;
      return events.some((e) => {
        if (e.subscriptionType === 'deal.creation' || e.subscriptionType === 'deal.restore' || e.propertyName === 'pipeline') return true;
        if (arrivedLate(e, snapshot)) return true;
        return isStageEvent(e) && !plainlyAllowed(e, snapshot);
      });
    },

    unknownStage(portalId, fresh) {
      const pipeline = pipelineOf(portalId, fresh.pipeline);
      return !pipeline || (fresh.stage !== null && !pipeline.stages.some((s) => s.id === fresh.stage));
    },

    apply({ event, fresh, goneFromHubSpot }: DealEventInput) {
      const portalId = event.portalId;
      if (isDeletion(event) || goneFromHubSpot) {
        gate.markDeleted(portalId, event.objectId, event.occurredAt);
        return false;
      }
      const actor = actorOf(event);
      // A rep's edit of the commitment in HubSpot wins over our write of it still waiting in the
      // outbox (HubSpot slow or rate limiting): that write would silently undo the edit.
      if (event.propertyName !== null && REP_WRITTEN.has(event.propertyName) && !isOwnEvent(event)) {
        store.outbox.yieldToLaterChange(portalId, event.objectId, event.propertyName, event.occurredAt, clock.now());
      }
      if (fresh) {
        gate.reconcile(portalId, observedFrom(fresh), actor);
      } else {
        const snapshot = gate.snapshot(portalId, event.objectId);
        if (snapshot) gate.reconcile(portalId, withEventValue(snapshot, event), actor);
      }
      return fresh !== undefined && isStageEvent(event) ? enforce(event, fresh) : false;
    },
  };
}
