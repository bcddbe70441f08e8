import { z } from 'zod';
import type { ClaimedOutboxRow } from './outboxStore';

/**
 * Turns claimed outbox rows into as few HubSpot calls as possible: every deal-property effect of a
 * deal (status projection, decision properties, a stage revert) becomes one input of a batch
 * update, notes and tasks go out in batch creates, task completions in batch updates. Pure: no I/O.
 */
export const MAX_BATCH_INPUTS = 100;

export const outboxPayloads = {
  update_deal: z.object({ properties: z.record(z.string(), z.string()) }),
  /**
   * Move the deal back to `toStage`; `fromStage` is the stage it was moved into without sign-off,
   * `movedAt` the time of that move in the deal's stage history (when known), `toPipeline` the
   * pipeline to restore with the stage when the move also changed the pipeline.
   */
  revert_stage: z.object({ toStage: z.string().min(1), fromStage: z.string().min(1), movedAt: z.number().optional(), toPipeline: z.string().min(1).optional() }),
  create_note: z.object({ body: z.string().min(1) }),
  create_task: z.object({
    subject: z.string().min(1),
    body: z.string(),
    ownerUserId: z.string().nullable().optional(),
    /** The HubSpot owner id itself (a deal's owner), when known: used before ownerUserId. */
    ownerId: z.string().nullable().optional(),
    dueAt: z.number(),
    /** HubSpot's own reminder to the owner (`hs_task_reminders`, ms since the epoch), when set. */
    reminderAt: z.number().int().positive().optional(),
  }),
  /** Sets every task the create_task rows of `cause` (e.g. `review:12`) made to COMPLETED. */
  complete_tasks: z.object({ cause: z.string().min(1) }),
};
export type OutboxKind = keyof typeof outboxPayloads;
export type RevertStagePayload = z.infer<(typeof outboxPayloads)['revert_stage']>;
export type CreateTaskPayload = z.infer<(typeof outboxPayloads)['create_task']>;
export type CompleteTasksPayload = z.infer<(typeof outboxPayloads)['complete_tasks']>;

/** The deal properties a revert writes: the stage, and its pipeline when the move also changed that. */
export function revertProperties(revert: RevertStagePayload): Record<string, string> {
  return revert.toPipeline === undefined ? { dealstage: revert.toStage } : { dealstage: revert.toStage, pipeline: revert.toPipeline };
}

export interface DealUpdatePlan {
  dealId: string;
  properties: Record<string, string>;
  /** The revert among the rows, if any (the latest wins). */
  revert: RevertStagePayload | undefined;
  rows: ClaimedOutboxRow[];
}

export interface EngagementPlan<P> {
  row: ClaimedOutboxRow;
  dealId: string;
  payload: P;
}

export interface DeliveryPlan {
  dealUpdates: DealUpdatePlan[];
  notes: EngagementPlan<{ body: string }>[];
  tasks: EngagementPlan<CreateTaskPayload>[];
  /** complete_tasks rows: delivered after the creates of the same round. */
  taskCompletions: EngagementPlan<CompleteTasksPayload>[];
  /** Rows that cannot be delivered as they are (unknown kind, bad payload, no deal). */
  invalid: { row: ClaimedOutboxRow; reason: string }[];
}

/**
 * Groups one account's claimed rows (in id order). Later property values win, as if applied in
 * order; `superseded(row)` names the properties a later row of the same deal writes (claimed now
 * or not, delivered or not), which this row must leave alone: a retried old status must not
 * overwrite a newer one.
 */
export function planDelivery(rows: readonly ClaimedOutboxRow[], superseded: (row: ClaimedOutboxRow) => ReadonlySet<string> = () => new Set()): DeliveryPlan {
  const plan: DeliveryPlan = { dealUpdates: [], notes: [], tasks: [], taskCompletions: [], invalid: [] };
  const byDeal = new Map<string, DealUpdatePlan>();
  const sorted = [...rows].sort((a, b) => a.id - b.id);
  for (const row of sorted) {
    if (!(row.kind in outboxPayloads)) {
      plan.invalid.push({ row, reason: `unknown outbox kind "${row.kind}"` });
      continue;
    }
    if (row.dealId === null) {
      plan.invalid.push({ row, reason: `${row.kind} needs a deal id` });
      continue;
    }
    const kind = row.kind as OutboxKind;
    const parsed = outboxPayloads[kind].safeParse(row.payload);
    if (!parsed.success) {
      plan.invalid.push({ row, reason: `bad ${kind} payload: ${parsed.error.issues[0]?.message ?? 'invalid'}` });
      continue;
    }
    if (kind === 'update_deal' || kind === 'revert_stage') {
      let update = byDeal.get(row.dealId);
      if (!update) {
        update = { dealId: row.dealId, properties: {}, revert: undefined, rows: [] };
        byDeal.set(row.dealId, update);
        plan.dealUpdates.push(update);
      }
      update.rows.push(row);
      const newer = superseded(row);
      if (kind === 'update_deal') {
        for (const [name, value] of Object.entries(outboxPayloads.update_deal.parse(row.payload).properties)) {
          if (!newer.has(name)) update.properties[name] = value;
        }
      } else if (!newer.has('dealstage')) {
        const revert = outboxPayloads.revert_stage.parse(row.payload);
        update.revert = revert;
        Object.assign(update.properties, revertProperties(revert));
      }
    } else if (kind === 'create_note') {
      plan.notes.push({ row, dealId: row.dealId, payload: outboxPayloads.create_note.parse(row.payload) });
    } else if (kind === 'complete_tasks') {
      plan.taskCompletions.push({ row, dealId: row.dealId, payload: outboxPayloads.complete_tasks.parse(row.payload) });
    } else {
      plan.tasks.push({ row, dealId: row.dealId, payload: outboxPayloads.create_task.parse(row.payload) });
    }
  }
  return plan;
}

export function chunk<T>(items: readonly T[], size: number = MAX_BATCH_INPUTS): T[][] {
  const chunks: T[][] = [];
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size));
  return chunks;
}

/**
 * A reference in every note and task Dealgate writes. It lets a delivery whose outcome is unknown
 * (timeout, crash between HubSpot's answer and our commit) check whether the engagement exists
 * before creating it again.
 */
export function engagementRef(row: { portalId: number; id: number }): string {
  return `dealgate-ref-${row.portalId}-${row.id}`;
}

/**
 * Whether an engagement's body carries this row's reference, and not merely one that starts with
 * it: the reference of row 12 is a prefix of row 120's, so a bare substring test would take row
 * 120's task or note for row 12's.
 */
export function carriesRef(body: string | null | undefined, row: { portalId: number; id: number }): boolean {
  if (!body) return false;
  const ref = engagementRef(row);
  for (let at = body.indexOf(ref); at !== -1; at = body.indexOf(ref, at + 1)) {
    if (!/[0-9]/.test(body.charAt(at + ref.length))) return true;
  }
  return false;
}

export function withRef(body: string, row: { portalId: number; id: number }): string {
  return `${body}<p style="color:#7c98b6;font-size:11px">${engagementRef(row)}</p>`;
}
