import type { HubSpotDeal } from '../hubspot/gateway';
import type { ClaimedOutboxRow } from '../storage/outboxStore';
import { chunk, planDelivery, revertProperties, type DealUpdatePlan, type RevertStagePayload } from '../storage/deliveryPlan';
import { call, type OutboxContext } from './outboxCalls';
import { markDone, recordFailure } from './outboxMarks';
import { deliverEngagements, noteKind, taskKind } from './outboxEngagements';
import { deliverTaskCompletions } from './outboxTaskCompletions';

/** The deal still sits in the stage it was moved into without sign-off, and by that move (the newest in its history). */
export function stillAsMoved(deal: HubSpotDeal | undefined, revert: RevertStagePayload): boolean {
  if (!deal || deal.stage !== revert.fromStage) return false;
  if (revert.movedAt === undefined) return true;
  const newest = deal.stageHistory[0];
  return newest === undefined || (newest.value === revert.fromStage && newest.timestamp === revert.movedAt);
}

/** One account's claimed rows: planned, then deal updates, notes, tasks and task completions, in that order. */
export async function deliverAccount(ctx: OutboxContext, portalId: number, rows: ClaimedOutboxRow[]): Promise<void> {
  const { store, logger } = ctx;
  try {
    await ctx.deps.prepareAccount?.(portalId);
  } catch (error) {
    await recordFailure(ctx, portalId, rows, error, false);
    return;
  }
  const plan = planDelivery(rows, await supersededIn(ctx, portalId, rows));
  if (plan.invalid.length > 0) {
    const now = ctx.clock.now();
    await store.transaction(async () => {
      for (const { row, reason } of plan.invalid) await store.outbox.markFailed(row, reason, now);
    });
    logger.error({ portalId, rows: plan.invalid.map((i) => ({ id: i.row.id, reason: i.reason })) }, 'outbox rows cannot be delivered');
  }
  const guard = async (what: string, work: () => Promise<void>, rowsOf: ClaimedOutboxRow[]) => {
    try {
      await work();
    } catch (error) {
      // A failure outside a batch call (e.g. the revert re-check read): the rows wait for a retry.
      logger.warn({ portalId, err: error, what }, 'outbox delivery step failed');
      await recordFailure(ctx, portalId, rowsOf, error, false);
    }
  };
  await guard('deal updates', () => deliverDealUpdates(ctx, portalId, plan.dealUpdates), plan.dealUpdates.flatMap((u) => u.rows));
  await guard('notes', () => deliverEngagements(ctx, portalId, noteKind(ctx, portalId), plan.notes), plan.notes.map((n) => n.row));
  await guard(
    'tasks',
    async () => {
      const needed = [...new Set(plan.tasks.flatMap((t) => (t.payload.ownerId || !t.payload.ownerUserId ? [] : [t.payload.ownerUserId])))];
      const owners = needed.length > 0 ? await ownersByUserId(ctx, portalId, needed) : new Map<string, string>();
      await deliverEngagements(ctx, portalId, taskKind(ctx, portalId, owners), plan.tasks);
    },
    plan.tasks.map((t) => t.row),
  );
  await guard('task completions', () => deliverTaskCompletions(ctx, portalId, plan.taskCompletions), plan.taskCompletions.map((t) => t.row));
}

async function deliverDealUpdates(ctx: OutboxContext, portalId: number, updates: DealUpdatePlan[]): Promise<void> {
  // A revert that waited (a retry, or an unknown earlier outcome) is only applied while the deal
  // still sits where it was moved without sign-off, by that same move: a later, legitimate move
  // is never undone (not even one back into the same stage after an approval).
  const recheck = updates.filter((u) => u.revert && u.rows.some((r) => r.attempts > 1 || r.inDoubt));
  if (recheck.length > 0) {
    const current = new Map<string, HubSpotDeal>();
    for (const ids of chunk(recheck.map((u) => u.dealId))) {
      const deals = await call(ctx, portalId, () => ctx.gateway.batchReadDeals(portalId, ids, { withStageHistory: true }), 'read');
      for (const deal of deals) current.set(deal.id, deal);
    }
    for (const update of recheck) {
      if (update.revert && !stillAsMoved(current.get(update.dealId), update.revert)) {
        for (const name of Object.keys(revertProperties(update.revert))) delete update.properties[name];
      }
    }
  }
  const settledWithoutCall = updates.filter((u) => Object.keys(u.properties).length === 0);
  if (settledWithoutCall.length > 0) await markDone(ctx, settledWithoutCall.flatMap((u) => u.rows));
  const toSend = updates.filter((u) => Object.keys(u.properties).length > 0);

  for (const batch of chunk(toSend)) {
    try {
      let sent: DealUpdatePlan[] = [];
      await call(
        ctx,
        portalId,
        async () => {
          // After the permit, right before the call: only the updates whose rows are still this delivery's go out.
          sent = await stillClaimed(ctx, batch);
          if (sent.length > 0) await ctx.gateway.batchUpdateDeals(portalId, sent.map((u) => ({ id: u.dealId, properties: u.properties })));
        },
        'write',
      );
      await markDone(ctx, sent.flatMap((u) => u.rows));
    } catch (error) {
      if (!await recordFailure(ctx, portalId, batch.flatMap((u) => u.rows), error, batch.length > 1, true)) {
        for (const single of batch) await deliverDealUpdates(ctx, portalId, [single]);
      }
    }
  }
}

/**
 * The updates whose rows are all still claimed by this delivery, their leases renewed. A row
 * taken over while this delivery stalled (past its lease) is another instance's now, which may
 * already have written a newer value: this older one must not land after it.
 */
async function stillClaimed(ctx: OutboxContext, updates: readonly DealUpdatePlan[]): Promise<DealUpdatePlan[]> {
  const { store } = ctx;
  const until = ctx.clock.now() + ctx.leaseMs;
  const kept = await store.transaction(async () => {
    const ours: DealUpdatePlan[] = [];
    for (const update of updates) if ((await store.outbox.renewClaims(update.rows, until)) === update.rows.length) ours.push(update);
    return ours;
  });
  if (kept.length < updates.length) ctx.logger.warn({ lostClaims: updates.length - kept.length }, 'outbox: deal updates taken over by another instance while this one stalled are left to it');
  return kept;
}

/**
 * HubSpot assigns tasks to owners, not users: map the reviewers' user ids (cached ten minutes). A
 * user id the cached list lacks (a reviewer added since) reads the owners again, once per round of
 * the account (deliverAccount's one call), drawing a read permit like the other reads.
 */
async function ownersByUserId(ctx: OutboxContext, portalId: number, needed: readonly string[]): Promise<Map<string, string>> {
  const cached = ctx.ownerIds.get(portalId);
  const fresh = cached !== undefined && ctx.clock.now() - cached.at < 10 * 60_000;
  if (fresh && needed.every((userId) => cached.byUserId.has(userId))) return cached.byUserId;
  const owners = await call(ctx, portalId, (pace) => ctx.gateway.getOwners(portalId, pace), 'read');
  const byUserId = new Map<string, string>();
  for (const owner of owners) if (owner.userId !== null) byUserId.set(owner.userId, owner.id);
  ctx.ownerIds.set(portalId, { at: ctx.clock.now(), byUserId });
  return byUserId;
}

/** For each deal-property row, the properties later rows of its deal write (see planDelivery). */
async function supersededIn(ctx: OutboxContext, portalId: number, rows: readonly ClaimedOutboxRow[]): Promise<(row: ClaimedOutboxRow) => ReadonlySet<string>> {
  const firstByDeal = new Map<string, number>();
  for (const row of rows) {
    if (row.dealId === null || (row.kind !== 'update_deal' && row.kind !== 'revert_stage')) continue;
    firstByDeal.set(row.dealId, Math.min(row.id, firstByDeal.get(row.dealId) ?? row.id));
  }
  const writes = new Map<string, { id: number; properties: string[] }[]>();
  for (const [dealId, firstId] of firstByDeal) writes.set(dealId, await ctx.store.outbox.dealWritesAfter(portalId, dealId, firstId));
  return (row) => {
    const later = row.dealId === null ? undefined : writes.get(row.dealId);
    return new Set((later ?? []).filter((w) => w.id > row.id).flatMap((w) => w.properties));
  };
}
