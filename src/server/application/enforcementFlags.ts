import { SYSTEM_ACTOR } from '../domain/auditEntry';
import type { HubSpotDeal } from '../hubspot/gateway';
import type { InboxEvent } from '../storage/inboxStore';
import { flagCause } from './dealEffects';
import { enqueueEffect } from '../storage/outboxStore';
import type { EnforcementContext, ObservedDeal, StageMoveVerdict } from './enforcementGate';
import { actorName, stageLabel } from './pipelineStages';
import { recordViolation, type Attribution } from './violationAttribution';
import { flaggedNote } from './violationNote';

/** Deals past the gate that enforcement flags where they sit instead of moving them. */

/** A won deal under afterClose=flag: it stays won; the violation, the status, a note and tasks for its owner and the escalation reviewer say so. */
export async function flagWon(
  ctx: EnforcementContext,
  event: InboxEvent,
  observed: ObservedDeal,
  verdict: StageMoveVerdict,
  passage: string | undefined,
  who: Attribution,
  index: number,
  fresh: HubSpotDeal,
): Promise<boolean> {
  const { store, clock, logger, gate } = ctx;
  const portalId = event.portalId;
  const now = clock.now();
  const stage = fresh.stage as string;
  const passageKey = `after_close:${passage ?? `event:${event.id}`}`;
  const to = await stageLabel(ctx, portalId, fresh.pipeline, stage);
  const reason = `won (${to}) without a technical review sign-off: ${verdict.reason}`;
  // One open flag per passage; once it resolved (covered, or no longer needing review), the same
  // passage found uncovered again is a new cause: flagged again, under the next key.
  const open = (await store.dealFlags.openForDeal(portalId, fresh.id)).some((f) => f.kind === 'after_close' && (f.dedupeKey === passageKey || f.dedupeKey.startsWith(`${passageKey}:again`)));
  if (open) return false;
  let key = passageKey;
  let flagId = await store.dealFlags.record({ portalId, dealId: fresh.id, kind: 'after_close', reason, settingsChangeId: null, dedupeKey: key }, now);
  for (let again = 2; flagId === undefined; again += 1) {
    key = `${passageKey}:again${again}`;
    flagId = await store.dealFlags.record({ portalId, dealId: fresh.id, kind: 'after_close', reason, settingsChangeId: null, dedupeKey: key }, now);
  }
  const previous = fresh.stageHistory.slice(Math.max(index, 0) + 1).find((h) => h.value !== stage)?.value ?? verdict.gateStage?.id ?? stage;
  const violationId = await recordViolation(ctx, event, fresh.id, who, previous, stage, 'flagged');
  await enqueueEffect(store.outbox, { portalId, dealId: fresh.id, effect: { kind: 'update_deal', payload: { properties: { dealgate_status: verdict.status } } } }, now);
  const body = flaggedNote({ by: await actorName(ctx, portalId, who.actor), stage: to, verdict, gateLabel: verdict.gateStage?.label ?? null, cause: who.cause, property: who.changedProperty });
  await enqueueEffect(store.outbox, { portalId, dealId: fresh.id, effect: { kind: 'create_note', payload: { body } } , dedupeKey: `${key}:note` }, now);
  const subject = `Won without technical sign-off: ${observed.name ?? `deal ${fresh.id}`}`;
  const due = now + 24 * 60 * 60 * 1000;
  // The deal's owner (by owner id) and the escalation reviewer (by user id) are told.
  const escalation = await gate.escalationReviewer(portalId);
  const assignees = [
    ...(observed.ownerId !== null ? [{ who: 'owner', ownerId: observed.ownerId, ownerUserId: null }] : []),
    ...(escalation !== null ? [{ who: 'escalation', ownerUserId: escalation }] : []),
  ];
  for (const { who, ...assignee } of assignees) {
    await enqueueEffect(
      store.outbox,
      { portalId, dealId: fresh.id, effect: { kind: 'create_task', payload: { subject, body, ...assignee, dueAt: due } }, dedupeKey: `${key}:task:${who}`, cause: flagCause(flagId) },
      now,
    );
  }
  await store.audit.append(portalId, {
    dealId: fresh.id,
    reviewId: (await store.reviews.latestForDeal(portalId, fresh.id))?.id ?? null,
    action: 'deal_flagged',
    actor: SYSTEM_ACTOR,
    fromStatus: verdict.status,
    toStatus: verdict.status,
    reason: `flagged, not moved (afterClose is flag): ${reason}`,
    details: { flagId, violationId: violationId ?? null, stage, cause: who.cause, changedProperty: who.changedProperty },
    at: Math.max(now, who.occurredAt),
  });
  logger.info({ portalId, dealId: fresh.id, stage, cause: who.cause }, 'won deal without sign-off flagged');
  return true;
}

/** Found by the install sweep: it predates Dealgate, so it is flagged (listed for an admin to enforce), never moved. */
export async function flagFound(ctx: EnforcementContext, event: InboxEvent, observed: ObservedDeal, verdict: StageMoveVerdict, passage: string | undefined): Promise<boolean> {
  const { store, clock } = ctx;
  const portalId = event.portalId;
  const now = clock.now();
  const stage = observed.stage as string;
  const reason = `sits in ${await stageLabel(ctx, portalId, observed.pipeline, stage)}, past the gate, without a technical review sign-off (found when Dealgate was installed): ${verdict.reason}`;
  const flagId = await store.dealFlags.record(
    { portalId, dealId: observed.dealId, kind: 'backfill', reason, settingsChangeId: null, dedupeKey: `backfill:${passage ?? observed.dealId}` },
    now,
  );
  if (flagId === undefined) return false;
  await enqueueEffect(store.outbox, { portalId, dealId: observed.dealId, effect: { kind: 'update_deal', payload: { properties: { dealgate_status: verdict.status } } } }, now);
  await store.audit.append(portalId, {
    dealId: observed.dealId,
    reviewId: (await store.reviews.latestForDeal(portalId, observed.dealId))?.id ?? null,
    action: 'deal_flagged',
    actor: SYSTEM_ACTOR,
    fromStatus: verdict.status,
    toStatus: verdict.status,
    reason: `flagged by the install sweep: ${reason}`,
    details: { flagId, stage },
    at: now,
  });
  return true;
}
