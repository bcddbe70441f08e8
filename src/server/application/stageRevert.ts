import { SYSTEM_ACTOR } from '../domain/auditEntry';
import type { HubSpotDeal, StageChange } from '../hubspot/gateway';
import type { InboxEvent } from '../storage/inboxStore';
import { enqueueEffect } from './effects';
import type { EnforcementContext, ObservedDeal, StageMoveVerdict } from './enforcementGate';
import { actorName, pipelineOfStage, stageLabel } from './pipelineStages';
import { recordViolation, type Attribution } from './violationAttribution';
import { stageMoveNote } from './violationNote';

/** Where a deal past the gate goes back to: the newest stage it sat in before that is not past the gate, else the gate stage. */
export async function revertTarget(ctx: EnforcementContext, portalId: number, observed: ObservedDeal, fresh: HubSpotDeal, index: number, verdict: StageMoveVerdict, isMove: boolean) {
  const { gate } = ctx;
  // A won deal found without sign-off (not moved there just now) goes back to the gate stage.
  if (!isMove && verdict.inWonStage) return verdict.gateStage?.id;
  for (let i = Math.max(index, 0) + 1; i < fresh.stageHistory.length; i += 1) {
    const stageId = (fresh.stageHistory[i] as StageChange).value;
    if (stageId === fresh.stage) continue;
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
