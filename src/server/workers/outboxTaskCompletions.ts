import { TASK_COMPLETED } from '../hubspot/gateway';
import { IN_DOUBT, NOT_SENT, type OutboxRow } from '../storage/outboxStore';
import { chunk, type CompleteTasksPayload, type EngagementPlan } from '../storage/deliveryPlan';
import { call, mustWait, type OutboxContext, markDone, recordFailure, alreadyCreated } from './outboxCalls';

interface Completion {
  item: EngagementPlan<CompleteTasksPayload>;
  taskIds: Set<string>;
  /** Set when a create of the cause has not settled: when to look again. */
  waitUntil: number | undefined;
  waitingFor: number[];
  lookups: OutboxRow[];
}

function wait(c: Completion, rowIds: number[], at: number): void {
  c.waitingFor.push(...rowIds);
  c.waitUntil = c.waitUntil === undefined ? at : Math.min(c.waitUntil, at);
}

/**
 * Completes the tasks of each complete_tasks row's cause. For every create_task row of the cause:
 * - a recorded task is completed; a 404, or a 207 naming it not found, means it was deleted in
 *   HubSpot: nothing is left to complete (not retried);
 * - a create still waiting that cannot have reached HubSpot (never tried, or each try answered
 *   with a failure) is not sent at all;
 * - a create whose outcome is unknown is waited for: its own retry looks it up by reference and
 *   records the id it finds, or, not finding it, skips it now that the cause is closed;
 * - a create done without a recorded id (delivered before ids were recorded), or failed after a
 *   try that got no answer, is looked up here by its reference;
 * - a create that failed with an answer was never made.
 * A row is done only once every task of its cause is completed, gone or was never created; a row
 * that waits for a create does not spend an attempt.
 */
export async function deliverTaskCompletions(ctx: OutboxContext, portalId: number, items: EngagementPlan<CompleteTasksPayload>[]): Promise<void> {
  const now = ctx.clock.now();
  const work: Completion[] = [];
  for (const item of items) work.push(await completionOf(ctx, portalId, item, now));

  const failed = new Set<Completion>();
  for (const c of work) {
    // A create that timed out may still land: look for it once that call has been answered.
    const open = c.lookups.filter((row) => mustWait(ctx, row, false) !== undefined);
    if (open.length === 0) continue;
    c.lookups = c.lookups.filter((row) => !open.includes(row));
    wait(c, open.map((r) => r.id), now + Math.min(ctx.callTimeoutMs, 1_000));
  }
  for (const c of work.filter((x) => x.lookups.length > 0)) {
    try {
      await lookUpCreatedTasks(ctx, portalId, c, now);
    } catch (error) {
      await recordFailure(ctx, portalId, [c.item.row], error, false);
      failed.add(c);
    }
  }
  await completeTasks(ctx, portalId, work, failed);

  const settled = work.filter((c) => !failed.has(c));
  const done = settled.filter((c) => c.waitUntil === undefined);
  if (done.length > 0) await markDone(ctx, done.map((c) => c.item.row));
  const waiting = settled.filter((c) => c.waitUntil !== undefined);
  if (waiting.length > 0) {
    const { store } = ctx;
    await store.transaction(async () => {
      for (const c of waiting) await store.outbox.release([c.item.row], c.waitUntil ?? now, `waiting for task create #${c.waitingFor.join(', #')} to settle`);
    });
  }
}

/** The tasks a complete_tasks row completes (those recorded), and the creates of its cause it waits for or looks up. */
async function completionOf(ctx: OutboxContext, portalId: number, item: EngagementPlan<CompleteTasksPayload>, now: number): Promise<Completion> {
  const { store } = ctx;
  const { cause } = item.payload;
  const completion: Completion = { item, taskIds: new Set(), waitUntil: undefined, waitingFor: [], lookups: [] };
  const records = await store.outbox.tasksOf(portalId, cause);
  const recorded = new Set(records.map((r) => r.outboxId));
  for (const r of records) if (r.completedAt === null && r.goneAt === null) completion.taskIds.add(r.taskId);
  for (const create of await store.outbox.byCause(portalId, cause, 'create_task')) {
    if (recorded.has(create.id)) continue;
    const lastError = create.lastError ?? '';
    if (create.status === 'pending') {
      if (await store.transaction(async () => await store.outbox.skipIfUnsent(create.id, `${cause} was closed before its task was created`, now))) continue;
      wait(completion, [create.id], Math.max(create.nextAttemptAt, now + 1_000));
    } else if (create.status === 'done' ? !lastError.startsWith(NOT_SENT) : lastError.startsWith(IN_DOUBT)) {
      completion.lookups.push(create);
    }
  }
  return completion;
}

/** Looks the completion's unrecorded creates up by reference; records the tasks found, waits for those that may still land. */
async function lookUpCreatedTasks(ctx: OutboxContext, portalId: number, c: Completion, now: number): Promise<void> {
  const { store } = ctx;
  const found = await alreadyCreated(ctx, portalId, 'task', c.lookups.map((row) => ({ row, dealId: row.dealId ?? c.item.dealId })));
  for (const row of c.lookups) {
    const ms = found.has(row.id) ? undefined : mustWait(ctx, row, true);
    if (ms !== undefined) wait(c, [row.id], now + ms);
  }
  const tasks = c.lookups.flatMap((row) =>
    (found.get(row.id) ?? []).map((taskId) => ({ taskId, outboxId: row.id, cause: c.item.payload.cause, dealId: row.dealId ?? c.item.dealId })),
  );
  if (tasks.length > 0) await store.transaction(async () => await store.outbox.recordTasks(portalId, tasks, ctx.clock.now()));
  for (const t of tasks) c.taskIds.add(t.taskId);
}

/** The tasks of every row in batch updates of up to 100. */
async function completeTasks(ctx: OutboxContext, portalId: number, work: Completion[], failed: Set<Completion>): Promise<void> {
  const { store, logger } = ctx;
  const byTask = new Map<string, Completion[]>();
  for (const c of work) {
    if (failed.has(c)) continue;
    for (const taskId of c.taskIds) byTask.set(taskId, [...(byTask.get(taskId) ?? []), c]);
  }
  for (const ids of chunk([...byTask.keys()])) {
    try {
      const outcome = await call(ctx, portalId, () => ctx.gateway.batchUpdateTasks(portalId, ids.map((id) => ({ id, properties: { hs_task_status: TASK_COMPLETED } }))), 'write');
      await store.transaction(async () => await store.outbox.settleTasks(portalId, { completed: outcome.updated, gone: outcome.missing }, ctx.clock.now()));
      if (outcome.missing.length > 0) logger.info({ portalId, tasks: outcome.missing }, 'tasks to complete are no longer in HubSpot (deleted); nothing left to complete');
      const answered = new Set([...outcome.updated, ...outcome.missing]);
      const unanswered = ids.filter((id) => !answered.has(id));
      if (unanswered.length > 0) throw new Error(`HubSpot's answer left out tasks ${unanswered.join(', ')}`);
    } catch (error) {
      const rows = [...new Set(ids.flatMap((id) => byTask.get(id) ?? []))].filter((c) => !failed.has(c));
      await recordFailure(ctx, portalId, rows.map((c) => c.item.row), error, false);
      for (const c of rows) failed.add(c);
    }
  }
}
