import { z } from 'zod';
import { sharesOverWhole } from './capacityShares';

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

/**
 * Where a delivery stands: what engineering said yes to, owned and dated (issue 14). Also written
 * to the deal's `dealgate_delivery_status` property. `deprioritized` is set by the capacity ledger only.
 */
export const deliveryStatuses = ['planned', 'in_progress', 'at_risk', 'delivered', 'slipped', 'deprioritized'] as const;
export type DeliveryStatus = (typeof deliveryStatuses)[number];

export type Role = 'rep' | 'reviewer' | 'admin' | 'escalation_reviewer';

/**
 * What a review is about (issue 14): `pre_sales`, the deal's commitment that the gate holds it to;
 * `post_sales`, customization or implementation work asked for on a won deal. Both book the
 * customer share of capacity once approved; only pre-sales reviews speak for the gate.
 */
export const reviewKinds = ['pre_sales', 'post_sales'] as const;
export type ReviewKind = (typeof reviewKinds)[number];

/**
 * The Triad (issue 14; per account, off by default): the tech lead (can we build it, how long), the
 * product manager (should we build it), product marketing (can we sell it, for how much). Each
 * gives a view; the decision maker's role makes the call.
 */
export const triadRoles = ['tech_lead', 'product_manager', 'product_marketing'] as const;
export type TriadRole = (typeof triadRoles)[number];
/** The stances each role may take (the service checks a view's stance against the caller's role). */
export const triadStances = {
  tech_lead: ['yes', 'yes_but', 'no'],
  product_manager: ['fits', 'does_not_fit'],
  product_marketing: ['can_sell', 'cannot_sell'],
} as const satisfies Record<TriadRole, readonly string[]>;
export type TriadStance = (typeof triadStances)[TriadRole][number];
/** Each stance in words, for the card and the deal's note alike. */
export const triadStanceLabels: Record<TriadStance, string> = {
  yes: 'yes, we can build it',
  yes_but: 'yes, but it takes longer',
  no: 'no, we cannot build it',
  fits: 'it fits the roadmap',
  does_not_fit: 'it does not fit the roadmap',
  can_sell: 'we can sell it',
  cannot_sell: 'we cannot sell it',
};
export const triadRoleLabels: Record<TriadRole, string> = { tech_lead: 'tech lead', product_manager: 'product manager', product_marketing: 'product marketing' };
const allTriadStances = [...new Set(Object.values(triadStances).flat())] as [TriadStance, ...TriadStance[]];
/** What makes a commitment need review (issue 15): the amount, the engineering effort, either, or both. */
export const triggerModes = ['amount', 'effort', 'either', 'both'] as const;
export type TriggerMode = (typeof triggerModes)[number];

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
    /** `post_sales`: work on a won deal, booked against the customer share; the deal's commitment stays as it is. */
    kind: z.enum(reviewKinds).optional(),
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

/**
 * POST /reviews/:reviewId/delivery: the owner, a reviewer or an admin moves the delivery on. A later
 * `promisedDate` is a slip and needs a `reason` (the rep tells the customer); the service checks
 * that, the URL and the owner, and names the field at fault.
 */
export const deliveryUpdateBody = z
  .object({
    status: z.enum(deliveryStatuses),
    promisedDate: isoDate.optional(),
    reason: z.string().trim().max(4000).optional(),
    workItemUrl: z.string().trim().min(1).max(2000).optional(),
    ownerUserId: hubspotUserId.optional(),
  })
  .strict();
export type DeliveryUpdateBody = z.infer<typeof deliveryUpdateBody>;

/**
 * POST /reviews/:reviewId/perspective: a Triad member's view. The caller's role comes from the
 * settings, never from the body; the service checks the stance against it (`weeks` only with the
 * tech lead's yes_but, and then required; `value` only from product marketing).
 */
export const perspectiveBody = z
  .object({
    stance: z.enum(allTriadStances),
    note: z.string().trim().max(4000).default(''),
    weeks: z.number().positive({ message: 'must be more than 0 weeks' }).max(520).optional(),
    value: z.number().min(0, { message: 'must be 0 or more' }).max(1e12).optional(),
  })
  .strict();
export type PerspectiveBody = z.input<typeof perspectiveBody>;

const triadMemberList = z.array(hubspotUserId).max(100);

/** The Triad's settings. On, the decision maker's role must name someone, and nobody holds two roles. */
export const triadSettings = z
  .object({
    enabled: z.boolean(),
    members: z.object({ tech_lead: triadMemberList, product_manager: triadMemberList, product_marketing: triadMemberList }).strict(),
    decisionMaker: z.enum(triadRoles).default('product_manager'),
  })
  .strict()
  .superRefine((triad, ctx) => {
    if (triad.enabled && triad.members[triad.decisionMaker].length === 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['members', triad.decisionMaker],
        message: `the Triad is on and the ${triadRoleLabels[triad.decisionMaker]} makes the call: name at least one (or turn the Triad off)`,
      });
    }
    const seen = new Map<string, TriadRole>();
    for (const role of triadRoles) {
      for (const userId of triad.members[role]) {
        const other = seen.get(userId);
        if (other !== undefined && other !== role) {
          ctx.addIssue({ code: 'custom', path: ['members', role], message: `user ${userId} is already named as ${triadRoleLabels[other]}: one Triad role per person` });
        }
        seen.set(userId, role);
      }
    }
  })
  // One person named twice for a role is one member.
  .transform((triad) => ({
    ...triad,
    members: { tech_lead: [...new Set(triad.members.tech_lead)], product_manager: [...new Set(triad.members.product_manager)], product_marketing: [...new Set(triad.members.product_marketing)] },
  }));
export type TriadSettingsValue = z.infer<typeof triadSettings>;

/**
 * POST /deals/:dealId/break-glass (issue 15): an admin, or someone the settings name for it, lets the
 * deal past the gate without review, saying why, for a time box (default 72 hours, at most 7 days)
 * to get the review done.
 */
export const breakGlassBody = z
  .object({
    reason: z.string().trim().min(1, { message: 'is required: say why this deal may pass the gate without review' }).max(2000),
    hours: z
      .number()
      .int({ message: 'must be whole hours' })
      .min(1, { message: 'must be at least 1 hour' })
      .max(168, { message: 'must be at most 168 hours (7 days)' })
      .default(72),
  })
  .strict();
export type BreakGlassBody = z.input<typeof breakGlassBody>;

export const capacitySettings = z
  .object({
    engineerWeeksPerQuarter: z.number().positive({ message: 'must be more than 0 engineer-weeks' }).max(100000),
    commitmentShare: z.number().gt(0, { message: 'must be more than 0' }).max(1, { message: 'must be at most 1 (100%)' }),
    /**
     * Kept for maintenance and technical debt whatever sales promises. Absent (settings saved before
     * it existed): 20%, or what the customer share leaves (defaultMaintenanceShare); the service
     * fills it in when it reads the settings.
     */
    maintenanceShare: z.number().min(0, { message: 'must be 0 or more' }).max(1, { message: 'must be at most 1 (100%)' }).optional(),
  })
  .strict()
  .superRefine((c, ctx) => {
    const message = sharesOverWhole(c.commitmentShare, c.maintenanceShare);
    if (message === null) return;
    for (const path of ['commitmentShare', 'maintenanceShare']) ctx.addIssue({ code: 'custom', path: [path], message });
  });

/**
 * When Dealgate reminds the reviewers of a waiting review, besides HubSpot's own reminder on their
 * task (issue 15): at shares of the SLA elapsed (0.5: half of it) and at hours before the due time.
 * Each point once per review. Absent from a settings document: DEFAULT_REMINDERS.
 */
export const reminderSettings = z
  .object({
    atSlaShares: z.array(z.number().gt(0, { message: 'must be more than 0% of the SLA' }).lt(1, { message: 'must be less than 100% of the SLA (a share of 1: then the review is due)' })).max(5),
    hoursBeforeDue: z.array(z.number().positive({ message: 'must be more than 0 hours' }).max(336, { message: 'must be at most 336 hours (the longest SLA)' })).max(5),
  })
  .strict();
export type ReminderSettings = z.infer<typeof reminderSettings>;
export const DEFAULT_REMINDERS: ReminderSettings = { atSlaShares: [0.5], hoursBeforeDue: [2] };

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
    /**
     * How much (a fraction: 0.1 is 10%) a deal's amount may grow past the amount it was approved at
     * before review is required again.
     */
    amountTolerance: z.number().min(0, { message: 'must be 0 or more' }).max(10, { message: 'must be at most 10 (1000%)' }).default(0.1),
    /** A won deal without sign-off: moved back to the gate stage (`revert`), or left won and flagged (`flag`). */
    afterClose: z.enum(['revert', 'flag']).default('revert'),
    /**
     * Engineering's revenue goal per quarter, in the account's currency: the amount of deals won in
     * the quarter whose commitments engineering approved that the team celebrates. null or absent:
     * no goal (progress is not measured against one).
     */
    revenueGoal: z.number().positive({ message: 'must be more than 0 (clear it for no goal)' }).max(1e15, { message: 'must be at most 1e15' }).nullable().optional(),
    /** The Triad and disagree-and-commit; absent means off (one designated reviewer decides). */
    triad: triadSettings.optional(),
    /** Engineer-weeks at or above which a commitment needs review (issue 15); absent or null: none. */
    effortThreshold: z.number().positive({ message: 'must be more than 0 engineer-weeks' }).max(520).nullable().optional(),
    /** Which measures make review required: the amount (absent: today's rule), the effort, either, or both. */
    triggerMode: z.enum(triggerModes).optional(),
    /** Users besides the admins who may break the glass for a deal (let it pass without review, time-boxed). */
    breakGlassUsers: z.array(hubspotUserId).max(100).optional(),
    /** Reminders before the SLA runs out (issue 15); absent: DEFAULT_REMINDERS. */
    reminders: reminderSettings.optional(),
  })
  .strict();
export type Settings = z.infer<typeof settingsBody>;
export type SettingsInput = z.input<typeof settingsBody>;

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
  /** The amount compared with the threshold (see amountBasis). */
  amount: number | null;
  /** `home_currency`: HubSpot's amount_in_home_currency (the account's currency); `amount`: the deal's amount as entered. */
  amountBasis: 'home_currency' | 'amount';
  /** An approval covers the approved amount plus this fraction. */
  amountTolerance: number;
  gateStage: { id: string; label: string } | null;
  /** The deal's pipeline has no gate stage: Dealgate does not gate it (the settings page warns). */
  ungated: boolean;
  /** The deal currently sits past the gate. */
  pastGate: boolean;
  /** The deal may move past the gate now. */
  mayAdvance: boolean;
  /** What Dealgate does with a won deal without sign-off under the account's settings. */
  afterClose: 'revert' | 'flag';
  /** The deal sits in a won stage (closed, not lost). */
  inWonStage: boolean;
  /** What makes review required on this account: the amount, the effort, either, or both (issue 15). */
  triggerMode: TriggerMode;
  /** Engineer-weeks at or above which a commitment needs review; null when the account sets none. */
  effortThreshold: number | null;
  /** Which measure made review required (the card's "why"); null when review is not required. */
  triggeredBy: 'amount' | 'effort' | 'both' | null;
  /** An open break-glass lets the deal past the gate now (it is why mayAdvance is true without a decision). */
  breakGlassHolds: boolean;
}

export interface DecisionView {
  outcome: DecisionOutcome;
  note: string;
  extraWeeks: number | null;
  tradeoff: string | null;
  decidedBy: string;
  /** Who decided, by name (issue 15). */
  decider: Person;
  decidedAt: string;
  deprioritizedReviewId: number | null;
  /** The quarter whose capacity it consumes, e.g. "2026-Q4". */
  quarter: string | null;
}

export interface ReviewView {
  id: number;
  dealId: string;
  /** pre_sales: the deal's commitment (the gate's); post_sales: work on the won deal. */
  kind: ReviewKind;
  status: ReviewStatus;
  summary: string;
  effortWeeks: number;
  neededBy: string | null;
  requestedBy: string;
  /** Who requested it, by name (issue 15). */
  requester: Person;
  /** Who the review waits for while it is open: the designated reviewers who may answer (not the requester), and the escalation reviewer once escalated; empty once it is closed. */
  waitingOn: Person[];
  requestedAt: string;
  dueAt: string;
  escalatedAt: string | null;
  decision: DecisionView | null;
  /** Approved and still bound to the deal's current commitment (summary and effort unchanged, amount within the tolerance). */
  coversDeal: boolean;
  /** The amount (home currency) the approval was given at; null before a decision or when the deal had none. */
  approvedAmount: number | null;
  deprioritized: { at: string; forReviewId: number | null } | null;
  /** What the approval became: an owned, dated commitment (null before a yes or yes-but). */
  delivery: DeliveryView | null;
}

export interface DeliveryChangeView {
  at: string;
  /** A HubSpot user id, or `system` (the capacity ledger). */
  by: string;
  /** Who made the change, by name (`system` reads as itself). */
  byPerson: Person;
  status: DeliveryStatus;
  promisedDate: string;
  ownerUserId: string;
  owner: Person;
  workItemUrl: string | null;
  reason: string | null;
}

export interface DeliveryView {
  ownerUserId: string;
  /** The delivery's owner, by name (issue 15). */
  owner: Person;
  /** The owner has been deactivated in HubSpot (left the account): nobody owns it until someone hands it to an engineer. */
  ownerDeactivated: boolean;
  status: DeliveryStatus;
  /** YYYY-MM-DD */
  promisedDate: string;
  /** The date first promised: on time means delivered by it, whatever slips came after. */
  firstPromisedDate: string;
  workItemUrl: string | null;
  deliveredAt: string | null;
  /** The promised date has passed and it is neither delivered nor deprioritized. */
  overdue: boolean;
  /** Oldest first; the first entry is the promise made with the decision. */
  history: DeliveryChangeView[];
  /** The caller may update it (its owner, a reviewer, an admin) and it is not settled yet. */
  canUpdate: boolean;
  /** Why not, when canUpdate is false. */
  updateDenied: string | null;
  /**
   * Whom the caller may hand it to (the card's owner picker), by name: the account's engineers who
   * are users now, the current owner first. Empty when canUpdate is false.
   */
  ownerChoices: Person[];
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
  /** The deal's name as Dealgate last saw it (null when unknown). */
  dealName: string | null;
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
  /**
   * The quarter's largest commitments by weeks (the ones deprioritizing can make room with), at
   * most 10, listed oldest first; every commitment when the quarter holds no more than that.
   * The totals above always count all of them.
   */
  commitments: CapacityCommitment[];
  /** How many of the quarter's commitments `commitments` leaves out (0 when it lists them all). */
  moreCommitments: number;
  /** The quarter in three: customer commitments (the allocation above), maintenance and technical debt, product work (the rest). */
  shares: CapacitySharesView;
}

export interface ShareWeeksView {
  /** A fraction of the quarter: 0.2 is 20%. */
  share: number;
  weeks: number;
}

export interface CapacitySharesView {
  customer: ShareWeeksView;
  maintenance: ShareWeeksView;
  product: ShareWeeksView;
}

/**
 * What the deal's commitment (its effort) would leave of the quarter's customer share if it were
 * approved, shown to the rep before requesting. Negative `remainingAfterWeeks`: over by that many
 * weeks (the reviewer would have to deprioritize a commitment, or answer yes-but or no).
 * `requestedWeeks` 0: the deal names no effort yet (the card previews what the rep types).
 */
export interface CapacityPreview {
  quarter: string;
  customerWeeks: number;
  usedWeeks: number;
  remainingWeeks: number;
  requestedWeeks: number;
  remainingAfterWeeks: number;
  fits: boolean;
}

/** A post-sales review of a won deal, with what the caller may do about it. */
export interface PostSalesReviewView {
  review: ReviewView;
  canDecide: boolean;
  canWithdraw: boolean;
  /** Why the caller may not decide it (null when they may). */
  decideDenied: string | null;
}

/** Post-sales work on the deal: its reviews (oldest first) and whether the caller may ask for one. */
export interface PostSalesView {
  canRequest: boolean;
  /** Why not (e.g. the deal is not won), null when the caller may request. */
  requestDenied: string | null;
  reviews: PostSalesReviewView[];
}

export interface HistoryEntry {
  at: string;
  kind: 'transition' | 'violation';
  action: string;
  actor: string;
  /** The actor by name; an actor that is not a user (`system`, `hubspot`, `unknown`) has none. */
  actorPerson: Person;
  fromStatus: string | null;
  toStatus: string | null;
  reason: string | null;
  reviewId: number | null;
  fromStage: string | null;
  toStage: string | null;
  /** The stages' labels as the account's pipelines name them (null when unknown): what people read. */
  fromStageLabel: string | null;
  toStageLabel: string | null;
}

export interface CallerView {
  userId: string;
  /** The caller by name (issue 15). */
  person: Person;
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
  /** What the deal's effort would leave of the customer share; null when capacity is off, there is no effort, or an approval already books it. */
  capacityPreview: CapacityPreview | null;
  /** Post-sales work on the deal (requested on a won deal); `review` above stays the pre-sales one. */
  postSales: PostSalesView;
  caller: CallerView;
  permissions: Permissions;
  /**
   * The open flag that has Dealgate leave the deal where it is although it sits past the gate
   * without sign-off: its passage was legal (before Dealgate was installed, or before the rules
   * tightened). null when there is none.
   */
  standingFlag: { kind: 'backfill' | 'rules_tightened'; reason: string; since: string } | null;
  /** The Triad's views and call on the latest review (null when the Triad is off and it has none). */
  triad: TriadView | null;
  /** The deal's break-glass (issue 15): the open one or the latest, and whether the caller may open one. */
  breakGlass: BreakGlassCard;
  /** Who covers for the waiting review's absent reviewers (issue 15); absent or empty: nobody is away. */
  covering?: CoveringView[];
}

/** A Triad member's view of a review. */
export interface PerspectiveView {
  userId: string;
  role: TriadRole;
  stance: TriadStance;
  note: string;
  /** The tech lead's yes-but: how many weeks it takes. */
  weeks: number | null;
  /** Product marketing: the value they can sell it at. */
  value: number | null;
  at: string;
}

/** The call the decision maker made, against the views heard by then. */
export interface TriadCallView {
  decidedBy: string;
  decidedAt: string;
  /** The call went against at least one view: everyone executes it anyway. */
  disagreeAndCommit: boolean;
  /** Each dissenter's latest view, kept as it was when the call was made. */
  dissent: PerspectiveView[];
  /** Who had not weighed in when the call was made. */
  notWeighedIn: { role: TriadRole; userId: string }[];
}

/** The Triad on the card: null when the account reviews with one designated reviewer and this review has no Triad record. */
export interface TriadView {
  enabled: boolean;
  decisionMaker: TriadRole;
  members: Record<TriadRole, string[]>;
  /** The latest view of each person, oldest first. */
  views: PerspectiveView[];
  /** Every view given, oldest first (a changed view stays in the history). */
  history: PerspectiveView[];
  /** Named members (of the roles other than the decision maker's) who have given no view yet. */
  notWeighedIn: { role: TriadRole; userId: string }[];
  /** The caller's Triad role, if they hold one. */
  callerRole: TriadRole | null;
  /** The caller may give (or change) their view now. */
  canGiveView: boolean;
  /** Why not, when canGiveView is false. */
  giveViewDenied: string | null;
  /** null until the call is made. */
  call: TriadCallView | null;
}

/** One deal let past the gate without review: who, why, until when, and how it ended. */
export interface BreakGlassView {
  id: number;
  dealId: string;
  dealName: string | null;
  openedBy: string;
  reason: string;
  openedAt: string;
  until: string;
  /** Still open: the deal may pass the gate until `until` or a decision. */
  open: boolean;
  closedAt: string | null;
  /** `expired`: the box closed with no decision (the deal is judged like any other); `decided`: a reviewer answered in it. */
  closedAs: 'expired' | 'decided' | null;
}

export interface BreakGlassCard {
  /** The open break-glass, else the latest one (closed), else null. */
  latest: BreakGlassView | null;
  /** The caller may open one now (allowed, and the deal needs a review nobody answered). */
  canOpen: boolean;
  /** Why not, when canOpen is false. */
  denied: string | null;
}

/** POST /deals/:dealId/reviews, POST /reviews/:id/decision, POST /reviews/:id/withdraw answer the updated gate. */
export type ReviewActionResponse = GateResponse;

export interface PipelineView {
  id: string;
  label: string;
  stages: { id: string; label: string; displayOrder: number; isClosed: boolean; isLost: boolean }[];
  /** The gate stage in force for this pipeline (explicit choice, else the label rule). */
  gateStageId: string | null;
  /** No gate stage: deals of this pipeline are not gated (a warning says so). */
  ungated: boolean;
}

/** One field an admin changed, before and after (JSON values). */
export interface SettingsFieldChange {
  field: string;
  before: unknown;
  after: unknown;
}

/** A saved settings change: who, when, each field before and after, and whether it relaxed or tightened the gate. */
export interface SettingsChangeView {
  id: number;
  changedBy: string;
  changedByPerson: Person;
  changedAt: string;
  fields: SettingsFieldChange[];
  /** The gate's rule got looser (threshold up, tolerance up, gate stage later, ...), tighter, both, or neither. */
  effect: 'relaxed' | 'tightened' | 'mixed' | 'neutral';
}

export type DealFlagKind = 'after_close' | 'backfill' | 'rules_tightened' | 'relaxed_passage';

/** A deal past the gate that Dealgate flagged instead of moving, or noted as passed under a relaxed rule. */
export interface DealFlagView {
  id: number;
  dealId: string;
  dealName: string | null;
  kind: DealFlagKind;
  reason: string;
  /** The settings change behind it (rules_tightened, relaxed_passage), with its author. */
  settingsChangeId: number | null;
  settingsChangedBy: string | null;
  settingsChangedByPerson: Person | null;
  createdAt: string;
}

/** Where the install sweep of the account's existing deals stands (deals past the gate with a commitment). */
export interface BackfillProgress {
  /** `pending`: not started yet; `running`: `checked` of about `total` so far; `finished`. */
  status: 'pending' | 'running' | 'finished';
  checked: number;
  /** HubSpot's count of the deals to check; null before the first page. */
  total: number | null;
  startedAt: string | null;
  finishedAt: string | null;
  /** Why it is waiting (HubSpot refused or did not answer); it goes on by itself. */
  lastError: string | null;
}

/** GET and PUT /api/v1/settings */
export interface SettingsResponse {
  settings: Settings;
  pipelines: PipelineView[];
  updatedAt: string | null;
  updatedBy: string | null;
  updatedByPerson: Person | null;
  /** Everyone the settings name (reviewers, admins, escalation reviewer), by name: what the pickers show as chosen. */
  people: Person[];
  /** The caller is an admin: GET is open to every user of the account, PUT to admins only. */
  canEdit: boolean;
  /** What an admin should know, e.g. a pipeline with no gate stage. */
  warnings: string[];
  /** The latest settings changes, newest first. */
  changes: SettingsChangeView[];
  /** The install sweep of existing deals; null until the account is enrolled. */
  backfill: BackfillProgress | null;
}

export interface QueueItem {
  reviewId: number;
  dealId: string;
  kind: ReviewKind;
  dealName: string | null;
  amount: number | null;
  status: ReviewStatus;
  summary: string;
  effortWeeks: number;
  requestedBy: string;
  requester: Person;
  requestedAt: string;
  dueAt: string;
  remainingMs: number;
}

/** An open commitment on the home page. */
export interface OpenDeliveryItem {
  reviewId: number;
  dealId: string;
  dealName: string | null;
  ownerUserId: string;
  owner: Person;
  /** The owner has been deactivated in HubSpot: the commitment needs a new owner. */
  ownerDeactivated: boolean;
  status: DeliveryStatus;
  promisedDate: string;
  workItemUrl: string | null;
  overdue: boolean;
}

/** On-time delivery in a quarter of the date first promised. */
export interface OnTimeQuarter {
  quarter: string;
  /** Delivered on or before the date first promised. */
  onTime: number;
  late: number;
  /** Not delivered, promised date passed. */
  overdue: number;
  /** onTime over (onTime + late + overdue); null when there is nothing to count. */
  rate: number | null;
}

export interface DeliveriesSummary {
  /** Open commitments by promised date (so the overdue ones first), at most 100. */
  open: OpenDeliveryItem[];
  /** All open ones and the overdue among them (the list may be cut; these are the full counts). */
  openCount: number;
  overdueCount: number;
  /** The last eight quarters and any later one with a promise, oldest first. */
  onTime: OnTimeQuarter[];
}

/** GET /api/v1/dashboard (admins and reviewers) */
export interface DashboardResponse {
  quarter: string;
  /** Reviewers away now or soon, and who covers (issue 15); absent from older answers. */
  absences?: AbsenceView[];
  /** The reviews waiting for an answer, by due time (so overdue first, most overdue on top), then review id. */
  queue: QueueItem[];
  decisionsThisQuarter: Record<DecisionOutcome, number>;
  medianHoursToDecision: number | null;
  /**
   * Answered within SLA: decisions this quarter made by their due time, divided by
   * `decisionsTotal + overdueCount` (the decisions this quarter, plus the reviews waiting now past
   * their due time, each already a miss). Decisions made late are misses. null when both are 0.
   */
  slaCompliance: number | null;
  capacity: CapacityView | null;
  /** Moves past the gate without sign-off that Dealgate reverted this quarter, by who moved the deal (`unknown` when HubSpot did not say). */
  violationsByUser: { userId: string; count: number; person: Person }[];
  /** Decisions this quarter, all outcomes (with overdueCount, the denominator of slaCompliance). */
  decisionsTotal: number;
  /** Reviews waiting for an answer past their due time (all of them, also beyond the queue's first 200). */
  overdueCount: number;
  /** Open flags, newest first: won without sign-off, found by the install sweep, caught by tightened rules, passed under a relaxed rule. */
  flags: DealFlagView[];
  /** Open flags by kind (the list may be cut; these are the full counts). */
  flagCounts: Record<DealFlagKind, number>;
  /** Pipelines with no gate stage (not gated). */
  ungatedPipelines: { id: string; label: string }[];
  /** The latest settings changes, newest first. */
  settingsChanges: SettingsChangeView[];
  /** The caller is an admin: POST /flags/backfill/enforce is theirs (a reviewer is refused). */
  canEnforceBackfill: boolean;
  /** What engineering said yes to: open commitments and on-time delivery per quarter. */
  deliveries: DeliveriesSummary;
  /** Both sides' shared figures: the revenue goal, sales' side, and the series the home page charts. */
  sharedMetrics: SharedMetrics;
  /** Deals let past the gate without review (issue 15): the open ones, soonest to end first, and how many each person opened this quarter. */
  breakGlasses: { open: BreakGlassView[]; byPerson: { userId: string; count: number }[] };
  asOf: string;
}

// ---- shared metrics (issue 14) -----------------------------------------------------------------

/** Engineering's revenue goal this quarter. Amounts are in the account's currency. */
export interface RevenueGoalView {
  quarter: string;
  /** The setting; null without a goal. */
  goal: number | null;
  /** The account's currency code when Dealgate knows it; null: amounts shown without one. */
  currency: string | null;
  /** Deals won this quarter whose commitment engineering approved (an approval covered the deal when it was won). */
  approvedAmount: number;
  /** Of those, the deals whose approved commitment is delivered. */
  deliveredAmount: number;
  /** approvedAmount over goal (may pass 1); null without a goal. */
  progress: number | null;
  /** The deal whose win took the approved amount to the goal, once it has. */
  reachedBy: { dealId: string; dealName: string | null; at: string } | null;
}

/** A deal owner, by HubSpot owner id; `name` when Dealgate knows it. */
export interface RepRef {
  ownerId: string;
  name?: string;
}

export interface SalesSide {
  /** Approved weeks booked this quarter over the customer share's weeks; null without capacity settings. */
  customerCapacityPromised: { promisedWeeks: number; customerWeeks: number; share: number | null } | null;
  /** Moves past the gate without sign-off this quarter by the deal's owner (`rep` null: the deal has no owner Dealgate knows). */
  violationsByRep: { rep: RepRef | null; count: number }[];
}

/** Points the home page charts draw (each series an array of plain points, oldest first). */
export interface DashboardSeries {
  /** Decisions per week of the quarter by outcome; `week` is the week's first day (YYYY-MM-DD, weeks counted from the quarter's start). Every week up to now, every outcome. */
  decisionsPerWeek: { week: string; outcome: DecisionOutcome; count: number }[];
  /** Median hours from request to decision per week, only the weeks with decisions. */
  medianHoursPerWeek: { week: string; medianHours: number }[];
  /** Engineer-weeks per share of the quarter: `allocated` for all three, `promised` for customer work (the only one Dealgate books). Empty without capacity settings. */
  capacityByShare: { share: 'customer' | 'maintenance' | 'product'; measure: 'allocated' | 'promised'; weeks: number }[];
  /** On-time delivery rate in percent per quarter of the date first promised, the quarters with something to count. */
  onTimePerQuarter: { quarter: string; onTimePercent: number }[];
  /** Won, approved amount (and delivered amount) added up week by week through the quarter, and the goal as a flat line when set. */
  revenueAgainstGoal: { week: string; series: 'approved' | 'delivered' | 'goal'; amount: number }[];
}

export interface SharedMetrics {
  revenue: RevenueGoalView;
  sales: SalesSide;
  series: DashboardSeries;
}

/** POST /api/v1/flags/backfill/enforce (admins): the deals found at install, queued for enforcement. */
export interface EnforceBackfillResponse {
  /** Open backfill flags found. */
  flagged: number;
  /** Queued now (a flag already queued is not queued twice). */
  queued: number;
  /** What happens to the won ones. */
  afterClose: 'revert' | 'flag';
}

export interface ApiErrorBody {
  error: { code: string; message: string; details?: { issues?: { path: string; message: string }[] } & Record<string, unknown> };
}

// ---- absences and delegation (issue 15) ------------------------------------------------------

/** A date (YYYY-MM-DD, meaning midnight UTC) or an ISO 8601 date-time with Z or an offset. */
const absenceTime = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2}))?$/, {
    message: 'must be a date (YYYY-MM-DD, from midnight UTC) or an ISO 8601 date-time with Z or an offset',
  })
  .refine((v) => !Number.isNaN(Date.parse(`${v.slice(0, 10)}T00:00:00Z`)) && new Date(`${v.slice(0, 10)}T00:00:00Z`).toISOString().startsWith(v.slice(0, 10)), {
    message: 'is not a real date',
  });

/**
 * POST /api/v1/absences: `userId` is away from `from` until `until` (end excluded); `delegateUserId`
 * covers. `userId` defaults to the caller; only an admin records someone else's.
 */
export const absenceBody = z
  .object({
    userId: hubspotUserId.optional(),
    delegateUserId: hubspotUserId,
    from: absenceTime,
    until: absenceTime,
  })
  .strict();
export type AbsenceBody = z.infer<typeof absenceBody>;

export interface AbsenceView {
  id: number;
  userId: string;
  /** Who is away, by name (issue 15). */
  absent: Person;
  delegateUserId: string;
  /** Who covers, by name. */
  delegate: Person;
  from: string;
  until: string;
  /** In force now (from has passed, until has not). */
  current: boolean;
  createdBy: string;
  createdByPerson: Person;
  createdAt: string;
}

/** GET /api/v1/absences: the account's current and upcoming absences, soonest first. */
export interface AbsencesResponse {
  absences: AbsenceView[];
  /** The account's reviewers (and escalation reviewer), by name: who may be away and who may cover (the home page's form). */
  reviewers: Person[];
  /** The caller is an admin, so may record and end any reviewer's absence. */
  callerIsAdmin: boolean;
  asOf: string;
}

/** On the card, for a waiting review: an assigned reviewer who is away, and who covers until when. */
export interface CoveringView {
  absentUserId: string;
  absent: Person;
  delegateUserId: string;
  delegate: Person;
  until: string;
}

// ---- people (issue 15: names, not ids) ------------------------------------------------------

/**
 * One of the account's people as HubSpot knows them (its owners list): the HubSpot user id, and
 * the name and email HubSpot holds for them. `name` and `email` are null when HubSpot knows none
 * (a user id that is not one of the account's owners, e.g. a removed user).
 */
export interface Person {
  userId: string;
  name: string | null;
  email: string | null;
}

/**
 * What a person reads for someone: the name, else the email, else `user <id>` (only when HubSpot
 * knows neither). Actors that are not users (`system`, `hubspot`) read as what they are.
 */
export function personLabel(person: Person): string {
  if (person.name) return person.name;
  if (person.email) return person.email;
  return /^\d+$/.test(person.userId) ? `user ${person.userId}` : person.userId === 'hubspot' ? 'an automation or integration' : person.userId;
}

/** GET /api/v1/people: the account's users for the settings pickers, by name. */
export interface PeopleResponse {
  people: Person[];
  /** When Dealgate last read them from HubSpot (null: never, HubSpot did not answer). */
  refreshedAt: string | null;
}
