import type { EngagementRecord, NewEngagement } from '../hubspot/gateway';
import { IN_DOUBT } from '../storage/outboxStore';
import { carriesRef, chunk, withRef, type CreateTaskPayload, type EngagementPlan } from '../storage/deliveryPlan';
import { call, mustWait, send, type OutboxContext } from './outboxCalls';
import { recordFailure } from './outboxMarks';

/** How one kind of engagement is created: notes, or tasks (whose HubSpot ids are recorded). */
export interface EngagementKind<P> {
  kind: 'note' | 'task';
  toEngagement: (item: EngagementPlan<P>) => NewEngagement;
  /** Creates them; answers the created records (id and body; notes: ids only, in order). */
  create: (engagements: NewEngagement[]) => Promise<EngagementRecord[]>;
  /** Inside the transaction that marks the rows done: the HubSpot ids each row's engagement got. */
  record?: (created: { item: EngagementPlan<P>; ids: string[] }[]) => Promise<void>;
  /** Rows no longer worth creating (the reason, by row id); asked once it is known they do not exist yet. */
  unwanted?: (items: EngagementPlan<P>[]) => Promise<Map<number, string>>;
}

/**
 * Of the engagements whose earlier delivery may have landed, those HubSpot already has: row id
 * -> the ids of the engagements carrying its reference (more than one if a doubt made duplicates).
 */
export async function alreadyCreated(
  ctx: OutboxContext,
  portalId: number,
  kind: 'note' | 'task',
  doubtful: readonly { row: { id: number; portalId: number }; dealId: string }[],
): Promise<Map<number, string[]>> {
  const found = new Map<number, string[]>();
  const dealIds = [...new Set(doubtful.map((i) => i.dealId))];
  for (const dealId of dealIds) {
    const existing = await call(ctx, portalId, (pace) => ctx.gateway.listDealEngagements(portalId, dealId, kind, pace), 'read');
    for (const item of doubtful) {
      if (item.dealId !== dealId) continue;
      const ids = existing.filter((e) => carriesRef(e.body, item.row)).map((e) => e.id);
      if (ids.length > 0) found.set(item.row.id, ids);
    }
  }
  return found;
}

async function settleCreated<P>(ctx: OutboxContext, spec: EngagementKind<P>, created: { item: EngagementPlan<P>; ids: string[] }[]): Promise<void> {
  const { store } = ctx;
  const now = ctx.clock.now();
  await store.transaction(async () => {
    const changed = await store.outbox.markDone(created.map((c) => c.item.row), now);
    if (changed < created.length) ctx.lostClaims(created.length - changed);
    await spec.record?.(created.filter((c) => c.ids.length > 0));
  });
}

/** Which created record is whose: by the reference in its body, else (as many as asked for, none with a reference) by position. */
function matchCreated<P>(batch: EngagementPlan<P>[], records: EngagementRecord[]): { item: EngagementPlan<P>; ids: string[] }[] {
  const positional = records.length === batch.length && records.every((r) => !(r.body ?? '').includes('dealgate-ref-'));
  return batch.map((item, i) => {
    const byBody = records.filter((r) => carriesRef(r.body, item.row)).map((r) => r.id);
    if (byBody.length > 0) return { item, ids: byBody };
    const record = positional ? records[i] : undefined;
    return { item, ids: record ? [record.id] : [] };
  });
}

export async function deliverEngagements<P>(ctx: OutboxContext, portalId: number, spec: EngagementKind<P>, items: EngagementPlan<P>[]): Promise<void> {
  const { store } = ctx;
  let doubtful = items.filter((i) => i.row.inDoubt);
  const claimed = new Map(items.map((i) => [i.row.id, i.row]));
  const claimsOf = (id: number) => [claimed.get(id)].filter((c) => c !== undefined);
  const waits = new Map<number, number>();
  // An earlier attempt still open here: look for it once it has been answered, without spending an attempt.
  for (const i of doubtful) {
    const ms = mustWait(ctx, i.row, false);
    if (ms !== undefined) waits.set(i.row.id, ms);
  }
  doubtful = doubtful.filter((i) => !waits.has(i.row.id));
  if (doubtful.length > 0) items = await lookUpDoubtful(ctx, portalId, spec, items, doubtful, waits);
  if (waits.size > 0) {
    const now = ctx.clock.now();
    await store.transaction(async () => {
      for (const [id, ms] of waits) await store.outbox.release(claimsOf(id), now + ms, IN_DOUBT + 'an earlier attempt may still land at HubSpot; looking for it before creating again');
    });
    items = items.filter((i) => !waits.has(i.row.id));
  }
  const unwanted = spec.unwanted && items.length > 0 ? await spec.unwanted(items) : new Map<number, string>();
  if (unwanted.size > 0) {
    const now = ctx.clock.now();
    await store.transaction(async () => {
      for (const i of items) if (unwanted.has(i.row.id)) await store.outbox.skip([i.row], unwanted.get(i.row.id) ?? '', now);
    });
    items = items.filter((i) => !unwanted.has(i.row.id));
  }
  for (const batch of chunk(items)) {
    try {
      const engagements = batch.map(spec.toEngagement);
      const records = await send(ctx, portalId, batch.map((i) => i.row), () => spec.create(engagements));
      await settleCreated(ctx, spec, matchCreated(batch, records));
    } catch (error) {
      if (!await recordFailure(ctx, portalId, batch.map((i) => i.row), error, batch.length > 1, true)) {
        for (const single of batch) await deliverEngagements(ctx, portalId, spec, [single]);
      }
    }
  }
}

/**
 * The doubtful items HubSpot already has are settled; those not found whose call may still land
 * are added to `waits` (looked for again later, nothing created yet). Answers the items left.
 */
async function lookUpDoubtful<P>(
  ctx: OutboxContext,
  portalId: number,
  spec: EngagementKind<P>,
  items: EngagementPlan<P>[],
  doubtful: EngagementPlan<P>[],
  waits: Map<number, number>,
): Promise<EngagementPlan<P>[]> {
  try {
    const existing = await alreadyCreated(ctx, portalId, spec.kind, doubtful);
    if (existing.size > 0) {
      await settleCreated(
        ctx,
        spec,
        doubtful.filter((i) => existing.has(i.row.id)).map((item) => ({ item, ids: existing.get(item.row.id) ?? [] })),
      );
    }
    // Not found, but a call that carried it may still land: look again later, create nothing yet.
    for (const i of doubtful) {
      if (existing.has(i.row.id)) continue;
      const ms = mustWait(ctx, i.row, true);
      if (ms !== undefined) waits.set(i.row.id, ms);
    }
    return items.filter((i) => !existing.has(i.row.id));
  } catch (error) {
    await recordFailure(ctx, portalId, doubtful.map((i) => i.row), error, false);
    return items.filter((i) => !i.row.inDoubt);
  }
}

/** Notes: created in batches, their ids not recorded. */
export function noteKind(ctx: OutboxContext, portalId: number): EngagementKind<{ body: string }> {
  return {
    kind: 'note',
    toEngagement: (n) => ({ dealId: n.dealId, body: withRef(n.payload.body, n.row) }),
    create: async (notes) => (await ctx.gateway.createNotes(portalId, notes)).map((id) => ({ id, body: null })),
  };
}

/** Tasks: assigned to the owners of the reviewers' user ids, their HubSpot ids recorded with their cause. */
export function taskKind(ctx: OutboxContext, portalId: number, owners: Map<string, string>): EngagementKind<CreateTaskPayload> {
  const { store } = ctx;
  return {
    kind: 'task',
    toEngagement: (t) => {
      const ownerId = t.payload.ownerId ?? (t.payload.ownerUserId ? owners.get(t.payload.ownerUserId) : undefined);
      // Not an owner of the account even in the owners just read: the task goes out unassigned, and the log says so.
      if (!ownerId && t.payload.ownerUserId) ctx.logger.warn({ portalId, outboxId: t.row.id, userId: t.payload.ownerUserId }, 'outbox: task for a user who is no HubSpot owner of the account goes out unassigned');
      return { dealId: t.dealId, subject: t.payload.subject, body: withRef(t.payload.body, t.row), dueAt: t.payload.dueAt, ...(ownerId ? { ownerId } : {}), ...(t.payload.reminderAt === undefined ? {} : { reminderAt: t.payload.reminderAt }) };
    },
    create: (tasks) => ctx.gateway.createTaskRecords(portalId, tasks),
    record: async (created) =>
      await store.outbox.recordTasks(
        portalId,
        created.flatMap(({ item, ids }) => ids.map((taskId) => ({ taskId, outboxId: item.row.id, cause: item.row.cause, dealId: item.dealId }))),
        ctx.clock.now(),
      ),
    // Its review was closed (a complete_tasks row exists) before the task reached HubSpot.
    unwanted: async (tasks) => {
      const closed = await store.outbox.causesWith(portalId, tasks.flatMap((t) => (t.row.cause ? [t.row.cause] : [])), 'complete_tasks');
      return new Map(tasks.filter((t) => t.row.cause !== null && closed.has(t.row.cause)).map((t) => [t.row.id, `${t.row.cause} was closed before its task was created`]));
    },
  };
}
