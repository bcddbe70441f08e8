import type { z } from 'zod';
import type { OutboxRepository } from './outboxStore';
import type { OutboxKind, outboxPayloads } from './deliveryPlan';

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

export type OutboxEffect = UpdateDealEffect | CreateNoteEffect | CreateTaskEffect | RevertStageEffect;

export interface DealEffect {
  portalId: number;
  dealId: string;
  effect: OutboxEffect;
  dedupeKey?: string | null;
}

/** Enqueues one effect on a deal; call inside the transaction that records its cause. Returns the row id (undefined: a duplicate). */
export function enqueueEffect(outbox: OutboxRepository, entry: DealEffect, at: number): number | undefined {
  return outbox.enqueue(
    { portalId: entry.portalId, dealId: entry.dealId, kind: entry.effect.kind, payload: entry.effect.payload, dedupeKey: entry.dedupeKey ?? null },
    at,
  );
}

/** The deal properties Dealgate writes as the projection of its gate status and decision. */
export const STATUS_PROPERTIES = ['dealgate_status', 'dealgate_decided_by', 'dealgate_decided_at', 'dealgate_conditions'] as const;

/** The commitment properties reps write (from the card through a review request, or in HubSpot). */
export const COMMITMENT_PROPERTIES = ['dealgate_commitment', 'dealgate_commitment_summary', 'dealgate_effort_weeks'] as const;
