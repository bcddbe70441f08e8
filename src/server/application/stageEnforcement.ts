import type { HubSpotDeal, StageChange } from '../hubspot/gateway';
import type { InboxEvent } from '../storage/inboxStore';
import { actorOf, appIdOf, enforcedBy, isOwnChange, isOwnEvent, isStageEvent, sweepModeOf, sweepStartedAt } from './dealEventSource';
import { flagFound, flagWon } from './enforcementFlags';
import { observedFrom, type ObservedDeal } from './dealFacts';
import type { EnforcementContext } from './enforcementGate';
import { actorName, stageLabel } from './pipelineStages';
import { revert } from './stageRevert';
import { attribute } from './violationAttribution';

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
