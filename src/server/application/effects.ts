import type { z } from 'zod';
import type { OutboxRepository } from '../storage/outboxStore';
import type { OutboxKind, outboxPayloads } from '../storage/deliveryPlan';

/**
 * The effects on HubSpot that Dealgate's state changes cause, as rows of the outbox. They are
 * enqueued inside the same store transaction as the change (so a change never lands without its
 * effects, nor the other way round) and delivered later by the outbox worker, which validates each
 * payload with `outboxPayloads` (deliveryPlan.ts). Every kind targets one deal (`dealId` is set).
 *
 * - `update_deal` `{properties}`: sets deal properties. Used for the status projection
 *   (`dealgate_status`, `dealgate_decided_by`, `dealgate_decided_at` as ISO 8601,
 *   `dealgate_conditions`; an empty string clears one) and for the commitment properties a review
 *   request writes (`dealgate_commitment` "true", `dealgate_commitment_summary`,
 *   `dealgate_effort_weeks`). Later rows win property by property.
 * - `create_note` `{body}`: a note (HTML) associated with the deal, e.g. the decision.
 * - `create_task` `{subject, body, ownerUserId, dueAt}`: a task associated with the deal, assigned
 *   to the owner whose HubSpot user id is `ownerUserId` (unassigned when unknown), due at `dueAt`
 *   (ms since the epoch). A review request creates one per reviewer, due at the SLA.
 * - `revert_stage` `{toStage, fromStage}`: moves the deal back to `toStage` (enforcement).
 * - `complete_tasks` `{cause}`: sets every task the create_task rows of `cause` made to COMPLETED
 *   (a review's reviewer and escalation tasks, once it is decided, withdrawn or superseded). The
 *   worker records the HubSpot id of each task it creates (outbox_tasks); a create still waiting
 *   when its cause closes is not sent at all, one whose outcome is unknown is found by its
 *   reference first. No review gets a task after its completion was queued: tasks are created by
 *   the request and the escalation, both only while the review waits.
 *
 * Rows carry a `cause` (the Dealgate record they belong to, `review:<id>`) where a later effect
 * refers to them: create_task rows take it from `cause`, else from a `review:<id>:...` dedupe key.
 *
 * Dedupe keys make an effect happen once however often its cause is replayed: a second enqueue
 * with the same key in the same account is ignored. Status projections have no key (each is a new
 * state; the latest wins); notes and tasks are keyed by their cause (`review:<id>:...`).
 */
export type OutboxPayload<K extends OutboxKind> = z.infer<(typeof outboxPayloads)[K]>;

export type UpdateDealEffect = { kind: 'update_deal'; payload: OutboxPayload<'update_deal'> };
export type CreateNoteEffect = { kind: 'create_note'; payload: OutboxPayload<'create_note'> };
export type CreateTaskEffect = { kind: 'create_task'; payload: OutboxPayload<'create_task'> };
export type RevertStageEffect = { kind: 'revert_stage'; payload: OutboxPayload<'revert_stage'> };
export type CompleteTasksEffect = { kind: 'complete_tasks'; payload: OutboxPayload<'complete_tasks'> };

export type OutboxEffect = UpdateDealEffect | CreateNoteEffect | CreateTaskEffect | RevertStageEffect | CompleteTasksEffect;

export interface DealEffect {
  portalId: number;
  dealId: string;
  effect: OutboxEffect;
  dedupeKey?: string | null;
  /** What the effect belongs to (`reviewCause(id)`), for effects a later one refers to (tasks). */
  cause?: string | null;
}

/** The cause of a review's effects. */
export function reviewCause(reviewId: number): string {
  return `review:${reviewId}`;
}

/** `review:<id>` from a dedupe key `review:<id>:...`. */
export function causeOfDedupeKey(dedupeKey: string | null | undefined): string | null {
  const match = dedupeKey ? /^review:(\d+):/.exec(dedupeKey) : null;
  return match ? reviewCause(Number(match[1])) : null;
}

function causeOf(entry: DealEffect): string | null {
  if (entry.cause) return entry.cause;
  if (entry.effect.kind === 'complete_tasks') return entry.effect.payload.cause;
  if (entry.effect.kind === 'create_task') return causeOfDedupeKey(entry.dedupeKey);
  return null;
}

/** Enqueues one effect on a deal; call inside the transaction that records its cause. Returns the row id (undefined: a duplicate). */
export function enqueueEffect(outbox: OutboxRepository, entry: DealEffect, at: number): Promise<number | undefined> {
  return outbox.enqueue(
    {
      portalId: entry.portalId,
      dealId: entry.dealId,
      kind: entry.effect.kind,
      payload: entry.effect.payload,
      dedupeKey: entry.dedupeKey ?? null,
      cause: causeOf(entry),
    },
    at,
  );
}

/** The deal properties Dealgate writes as the projection of its gate status and decision. */
export const STATUS_PROPERTIES = ['dealgate_status', 'dealgate_decided_by', 'dealgate_decided_at', 'dealgate_conditions'] as const;

/** The commitment properties reps write (from the card through a review request, or in HubSpot). */
export const COMMITMENT_PROPERTIES = ['dealgate_commitment', 'dealgate_commitment_summary', 'dealgate_effort_weeks'] as const;
