import type { StageChange } from '../hubspot/gateway';
import type { InboxEvent } from '../storage/inboxStore';
import type { ViolationCause } from '../storage/violationStore';
import { actorOf, isStageEvent, type SweepMode } from './dealEventSource';
import type { EnforcementContext } from './enforcementGate';

/** Who is behind the state the deal is in, and what revealed it. */
export interface Attribution {
  cause: ViolationCause;
  actor: string;
  movedByUserId: string | null;
  sourceType: string | null;
  sourceId: string | null;
  occurredAt: number;
  changedProperty: string | null;
}

export function attribute(event: InboxEvent, entry: StageChange | undefined, mode: SweepMode | null): Attribution {
  const byEntry = (cause: ViolationCause): Attribution => {
    const actor = actorOf(isStageEvent(event) ? event : { sourceId: null }, entry);
    return {
      cause,
      actor,
      movedByUserId: entry?.updatedByUserId ?? (/^\d+$/.test(actor) ? actor : null),
      sourceType: entry?.sourceType ?? (mode === null ? event.changeSource : null),
      sourceId: entry?.sourceId ?? (mode === null ? event.sourceId : null),
      occurredAt: entry?.timestamp ?? event.occurredAt,
      changedProperty: null,
    };
  };
  if (mode === 'reconcile') return byEntry('reconciliation');
  if (mode === 'enforce') return byEntry('enforced_backfill');
  // A fact set before the deal moved past the gate: the move is what broke the rule.
  if (isStageEvent(event) || (entry !== undefined && entry.timestamp >= event.occurredAt)) return byEntry('stage_move');
  const actor = actorOf(event);
  return {
    cause: 'fact_change',
    actor,
    movedByUserId: /^\d+$/.test(actor) ? actor : null,
    sourceType: event.changeSource,
    sourceId: event.sourceId,
    occurredAt: event.occurredAt,
    changedProperty: event.propertyName,
  };
}

export async function recordViolation(ctx: EnforcementContext, event: InboxEvent, dealId: string, who: Attribution, fromStage: string, toStage: string, action: 'reverted' | 'flagged'): Promise<number | undefined> {
  const { store, clock } = ctx;
  return await store.gateViolations.record(
    {
      portalId: event.portalId,
      dealId,
      movedByUserId: who.movedByUserId,
      sourceType: who.sourceType,
      sourceId: who.sourceId,
      fromStage,
      toStage,
      occurredAt: who.occurredAt,
      inboxEventId: event.id,
      action,
      cause: who.cause,
      changedProperty: who.changedProperty,
    },
    clock.now(),
  );
}
