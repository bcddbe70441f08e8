import { z } from 'zod';

/**
 * The card API's contract, shared by the service (which validates requests with these schemas
 * and answers with these shapes) and the UI extensions (which send and render them). It lives in
 * the extensions package because HubSpot uploads that package with the cards; the service
 * imports it from here. One source of truth: a field renamed here breaks both sides at compile time.
 */

// ---- vocabulary -------------------------------------------------------------------------------

/** The deal's gate status, also written to the deal's `dealgate_status` property. */
export const gateStatuses = [
  'not_required',
  'required',
  'pending',
  'overdue',
  'approved',
  'approved_with_conditions',
  'rejected',
] as const;
export type GateStatus = (typeof gateStatuses)[number];

/** A review record's own status. `withdrawn` and `superseded` (commitment changed) end a review without a decision. */
export const reviewStatuses = [
  'pending',
  'overdue',
  'approved',
  'approved_with_conditions',
  'rejected',
  'withdrawn',
  'superseded',
] as const;
export type ReviewStatus = (typeof reviewStatuses)[number];

export const decisionOutcomes = ['yes', 'yes_but', 'no'] as const;
export type DecisionOutcome = (typeof decisionOutcomes)[number];

export type Role = 'rep' | 'reviewer' | 'admin' | 'escalation_reviewer';

const hubspotUserId = z.string().regex(/^\d+$/, { message: 'must be a HubSpot user id (digits only)' });
const isoDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, { message: 'must be a date as YYYY-MM-DD' })
  .refine((v) => !Number.isNaN(Date.parse(`${v}T00:00:00Z`)) && new Date(`${v}T00:00:00Z`).toISOString().startsWith(v), {
    message: 'is not a real calendar date',
  });

// ---- requests ---------------------------------------------------------------------------------

export const requestReviewBody = z
  .object({
    summary: z.string().trim().min(1, { message: 'is required: describe what the customer asked for' }).max(4000),
    effortWeeks: z.number().positive({ message: 'must be more than 0 engineer-weeks' }).max(520),
    neededBy: isoDate.optional(),
  })
  .strict();
export type RequestReviewBody = z.infer<typeof requestReviewBody>;

export const decisionBody = z
  .object({
    outcome: z.enum(decisionOutcomes),
    note: z.string().trim().max(4000).default(''),
    extraWeeks: z.number().positive({ message: 'must be more than 0 weeks' }).max(520).optional(),
    tradeoff: z.string().trim().min(1).max(4000).optional(),
    deprioritizeReviewId: z.number().int().positive().optional(),
  })
  .strict()
  .superRefine((body, ctx) => {
    if (body.outcome === 'yes_but' && body.extraWeeks === undefined && body.tradeoff === undefined) {
      ctx.addIssue({ code: 'custom', path: ['extraWeeks'], message: 'a yes-but needs extra weeks and/or a tradeoff, written down' });
    }
    if (body.outcome === 'no' && body.note === '') {
      ctx.addIssue({ code: 'custom', path: ['note'], message: 'a no needs a reason' });
    }
    if (body.outcome !== 'yes_but' && (body.extraWeeks !== undefined || body.tradeoff !== undefined)) {
      ctx.addIssue({ code: 'custom', path: ['outcome'], message: 'extra weeks and tradeoff belong to a yes_but' });
    }
    if (body.outcome === 'no' && body.deprioritizeReviewId !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['deprioritizeReviewId'], message: 'a no consumes no capacity, so it deprioritizes nothing' });
    }
  });
export type DecisionBody = z.input<typeof decisionBody>;

export const capacitySettings = z
  .object({
    engineerWeeksPerQuarter: z.number().positive({ message: 'must be more than 0 engineer-weeks' }).max(100000),
    commitmentShare: z.number().gt(0, { message: 'must be more than 0' }).max(1, { message: 'must be at most 1 (100%)' }),
  })
  .strict();

export const settingsBody = z
  .object({
    valueThreshold: z.number().min(0, { message: 'must be 0 or more' }),
    slaHours: z.number().int({ message: 'must be whole hours' }).min(1).max(336),
    reviewers: z.array(hubspotUserId).max(100),
    admins: z.array(hubspotUserId).min(1, { message: 'needs at least one admin, or nobody could change settings again' }).max(100),
    escalationReviewer: hubspotUserId.nullable(),
    gateStageLabel: z.string().trim().min(1).max(100),
    /** pipeline id -> stage id, overriding the label rule for that pipeline. */
    gateStages: z.record(z.string().min(1), z.string().min(1)),
    capacity: capacitySettings.nullable(),
  })
  .strict();
export type Settings = z.infer<typeof settingsBody>;

// ---- responses --------------------------------------------------------------------------------

export interface DealFacts {
  name: string | null;
  amount: number | null;
  stage: string | null;
  stageLabel: string | null;
  pipeline: string | null;
  pipelineLabel: string | null;
  commitment: boolean;
  commitmentSummary: string | null;
  effortWeeks: number | null;
  /** Where the facts came from: Dealgate's webhook-fed snapshot, or a HubSpot read just now. */
  source: 'snapshot' | 'hubspot';
  asOf: string;
}

export interface GateEvaluation {
  status: GateStatus;
  commitmentPresent: boolean;
  reviewRequired: boolean;
  /** Plain-language reason, e.g. "Commitment present and amount 80,000 is at or above the 50,000 threshold". */
  reason: string;
  threshold: number;
  amount: number | null;
  gateStage: { id: string; label: string } | null;
  /** The deal currently sits past the gate. */
  pastGate: boolean;
  /** The deal may move past the gate now. */
  mayAdvance: boolean;
}

export interface DecisionView {
  outcome: DecisionOutcome;
  note: string;
  extraWeeks: number | null;
  tradeoff: string | null;
  decidedBy: string;
  decidedAt: string;
  deprioritizedReviewId: number | null;
  /** The quarter whose capacity it consumes, e.g. "2026-Q4". */
  quarter: string | null;
}

export interface ReviewView {
  id: number;
  dealId: string;
  status: ReviewStatus;
  summary: string;
  effortWeeks: number;
  neededBy: string | null;
  requestedBy: string;
  requestedAt: string;
  dueAt: string;
  escalatedAt: string | null;
  decision: DecisionView | null;
  /** Approved and still bound to the deal's current commitment (summary and effort unchanged). */
  coversDeal: boolean;
  deprioritized: { at: string; forReviewId: number | null } | null;
}

export interface SlaClock {
  dueAt: string;
  slaHours: number;
  /** Negative when overdue. */
  remainingMs: number;
  overdue: boolean;
}

export interface CapacityCommitment {
  reviewId: number;
  dealId: string;
  summary: string;
  weeks: number;
  decidedAt: string;
}

export interface CapacityView {
  quarter: string;
  engineerWeeksPerQuarter: number;
  commitmentShare: number;
  allocationWeeks: number;
  usedWeeks: number;
  remainingWeeks: number;
  commitments: CapacityCommitment[];
}

export interface HistoryEntry {
  at: string;
  kind: 'transition' | 'violation';
  action: string;
  actor: string;
  fromStatus: string | null;
  toStatus: string | null;
  reason: string | null;
  reviewId: number | null;
  fromStage: string | null;
  toStage: string | null;
}

export interface CallerView {
  userId: string;
  roles: Role[];
}

export interface Permissions {
  canRequest: boolean;
  canWithdraw: boolean;
  canDecide: boolean;
  canEditSettings: boolean;
  /** Why an action is not available, keyed by action, for the card to explain. */
  denied: Partial<Record<'request' | 'withdraw' | 'decide', string>>;
}

/** GET /api/v1/deals/:dealId/gate */
export interface GateResponse {
  dealId: string;
  portalId: number;
  deal: DealFacts;
  gate: GateEvaluation;
  review: ReviewView | null;
  history: HistoryEntry[];
  sla: SlaClock | null;
  capacity: CapacityView | null;
  caller: CallerView;
  permissions: Permissions;
}

/** POST /deals/:dealId/reviews, POST /reviews/:id/decision, POST /reviews/:id/withdraw answer the updated gate. */
export type ReviewActionResponse = GateResponse;

export interface PipelineView {
  id: string;
  label: string;
  stages: { id: string; label: string; displayOrder: number; isClosed: boolean; isLost: boolean }[];
  /** The gate stage in force for this pipeline (explicit choice, else the label rule). */
  gateStageId: string | null;
}

/** GET and PUT /api/v1/settings */
export interface SettingsResponse {
  settings: Settings;
  pipelines: PipelineView[];
  updatedAt: string | null;
  updatedBy: string | null;
  /** The caller is an admin: GET is open to every user of the account, PUT to admins only. */
  canEdit: boolean;
}

export interface QueueItem {
  reviewId: number;
  dealId: string;
  dealName: string | null;
  amount: number | null;
  status: ReviewStatus;
  summary: string;
  effortWeeks: number;
  requestedBy: string;
  requestedAt: string;
  dueAt: string;
  remainingMs: number;
}

/** GET /api/v1/dashboard (admins and reviewers) */
export interface DashboardResponse {
  quarter: string;
  /** The reviews waiting for an answer, by due time (so overdue first, most overdue on top), then review id. */
  queue: QueueItem[];
  decisionsThisQuarter: Record<DecisionOutcome, number>;
  medianHoursToDecision: number | null;
  /** Share of decisions this quarter made before their due time; null when there were none. */
  slaCompliance: number | null;
  capacity: CapacityView | null;
  /** Moves past the gate without sign-off that Dealgate reverted this quarter, by who moved the deal (`unknown` when HubSpot did not say). */
  violationsByUser: { userId: string; count: number }[];
  /** Decisions this quarter, all outcomes (the denominator of slaCompliance). */
  decisionsTotal: number;
  /** Reviews of the queue whose due time has passed. */
  overdueCount: number;
  asOf: string;
}

export interface ApiErrorBody {
  error: { code: string; message: string; details?: { issues?: { path: string; message: string }[] } & Record<string, unknown> };
}
