import { coversCommitment, isActiveReview, type Review } from './reviewLifecycle';
import type { GateStatus } from './vocabulary';
import { judgeTrigger, triggerModeOf, usesAmount, usesEffort, type ReviewTrigger, type TriggeredBy, type TriggerMode } from './reviewTrigger';
import { breakGlassHolds, type BreakGlassWindow } from './breakGlass';

/**
 * Whether a deal needs a technical review, where each pipeline's gate is, and whether the deal may
 * move past it. Pure: facts, settings and the latest review in, a verdict out.
 */

/** What the gate knows about a deal (from Dealgate's snapshot or a HubSpot read). */
export interface DealFacts {
  name: string | null;
  amount: number | null;
  stage: string | null;
  pipeline: string | null;
  commitment: boolean;
  commitmentSummary: string | null;
  effortWeeks: number | null;
  /**
   * HubSpot's conversion of the amount to the account's company currency
   * (`amount_in_home_currency`), when HubSpot set it: the threshold is in that currency.
   */
  amountInHomeCurrency?: number | null;
}

/** The amount compared with the threshold: in the account's home currency where HubSpot converted it. */
export function gateAmount(facts: Pick<DealFacts, 'amount' | 'amountInHomeCurrency'>): { amount: number | null; basis: 'home_currency' | 'amount' } {
  if (facts.amountInHomeCurrency !== undefined && facts.amountInHomeCurrency !== null) return { amount: facts.amountInHomeCurrency, basis: 'home_currency' };
  return { amount: facts.amount, basis: 'amount' };
}

export interface PipelineStage {
  id: string;
  label: string;
  displayOrder: number;
  isClosed: boolean;
  /** Closed with probability 0: losing a deal is never blocked. */
  isLost: boolean;
}

export interface Pipeline {
  id: string;
  label: string;
  displayOrder: number;
  stages: PipelineStage[];
}

export type AfterClose = 'revert' | 'flag';

export interface GateSettings extends ReviewTrigger {
  valueThreshold: number;
  gateStageLabel: string;
  /** pipeline id -> stage id, overriding the label rule. */
  gateStages: Record<string, string>;
  /** How far (a fraction) the amount may grow past the approved one before review is required again. Default 0.1. */
  amountTolerance?: number;
  /** What happens to a won deal without sign-off: moved back to the gate stage, or flagged where it is. Default revert. */
  afterClose?: AfterClose;
}

export const DEFAULT_AMOUNT_TOLERANCE = 0.1;

/** An approval: the reviewed commitment, and the amount (home currency) it was approved at. */
export interface Approval {
  status: Review['status'];
  summary: string;
  effortWeeks: number;
  /** null: the deal had no amount when approved (counted as 0). */
  approvedAmount: number | null;
}

export interface Requirement {
  commitmentPresent: boolean;
  reviewRequired: boolean;
  reason: string;
  /** Which measure made review required (amount, effort, or both); null when it is not required. */
  triggeredBy: TriggeredBy | null;
}

// One formatter for every verdict: toLocaleString builds a new one per call, which cost a fifth of
// enforcing a bulk move (the reason is written for every event judged).
const amountFormat = new Intl.NumberFormat('en-US', { maximumFractionDigits: 2 });
const formatAmount = (n: number): string => amountFormat.format(n);
const weeks = (n: number): string => `${formatAmount(n)} engineer-week${n === 1 ? '' : 's'}`;

type RequirementFacts = Pick<DealFacts, 'commitment' | 'amount' | 'amountInHomeCurrency'> & { effortWeeks?: number | null };

function amountWords(facts: RequirementFacts): string {
  const compared = gateAmount(facts);
  // HubSpot's home-currency amount is named only where it differs from the deal's own amount.
  const converted = compared.basis === 'home_currency' && facts.amount !== compared.amount;
  if (compared.amount === null) return 'no amount (counted as 0)';
  return converted
    ? `amount ${formatAmount(compared.amount)} in the account's currency (HubSpot's conversion of ${facts.amount === null ? 'no amount' : formatAmount(facts.amount)})`
    : `amount ${formatAmount(compared.amount)}`;
}

/** "amount 80,000 is at or above the 50,000 threshold", or the effort's equivalent. */
function measureWords(facts: RequirementFacts, trigger: ReviewTrigger, measure: 'amount' | 'effort', holds: boolean): string {
  const side = holds ? 'is at or above' : 'is below';
  if (measure === 'amount') return `${amountWords(facts)} ${side} the ${formatAmount(trigger.valueThreshold)} threshold`;
  const threshold = trigger.effortThreshold ?? 0;
  const effort = facts.effortWeeks ?? null;
  if (effort === null) return `no effort estimate (counted as meeting the ${weeks(threshold)} effort threshold)`;
  return `effort ${weeks(effort)} ${side} the ${weeks(threshold)} effort threshold`;
}

/**
 * Review is required when the deal carries a commitment and the account's trigger holds: the
 * amount at or above the threshold (no amount counts as 0), the effort at or above the effort
 * threshold, either, or both (reviewTrigger.ts). A number is an amount threshold alone.
 */
export function reviewRequirement(facts: RequirementFacts, trigger: number | ReviewTrigger): Requirement {
  if (!facts.commitment) {
    return { commitmentPresent: false, reviewRequired: false, reason: 'No custom technical commitment on the deal', triggeredBy: null };
  }
  const rule: ReviewTrigger = typeof trigger === 'number' ? { valueThreshold: trigger } : trigger;
  const outcome = judgeTrigger(rule, gateAmount(facts).amount ?? 0, facts.effortWeeks ?? null);
  const looked: ('amount' | 'effort')[] = [...(usesAmount(outcome.mode) ? ['amount' as const] : []), ...(usesEffort(outcome.mode) ? ['effort' as const] : [])];
  const holds = (m: 'amount' | 'effort') => (m === 'amount' ? outcome.amountHolds : outcome.effortHolds);
  // Named first what decided it: the measures that held when required, those that did not when not.
  const deciding = looked.filter((m) => holds(m) === outcome.required);
  const other = looked.filter((m) => holds(m) !== outcome.required);
  const main = deciding.map((m) => measureWords(facts, rule, m, holds(m))).join(' and ');
  const aside = other.length === 0 ? '' : ` (${other.map((m) => measureWords(facts, rule, m, holds(m))).join(', ')})`;
  const rulePart = outcome.mode === 'either' ? '; either suffices' : outcome.mode === 'both' ? '; both must hold' : '';
  return {
    commitmentPresent: true,
    reviewRequired: outcome.required,
    reason: `Commitment ${outcome.required ? 'present and' : 'present but'} ${main}${aside}${rulePart}`,
    triggeredBy: outcome.triggeredBy,
  };
}

function byOrder(pipeline: Pipeline): PipelineStage[] {
  return [...pipeline.stages].sort((a, b) => a.displayOrder - b.displayOrder);
}

/** The explicit choice for the pipeline when it names one of its stages, else the first stage whose label contains the configured text. */
export function gateStageOf(pipeline: Pipeline, settings: Pick<GateSettings, 'gateStageLabel' | 'gateStages'>): PipelineStage | null {
  const stages = byOrder(pipeline);
  const explicit = settings.gateStages[pipeline.id];
  if (explicit !== undefined) {
    const chosen = stages.find((s) => s.id === explicit);
    if (chosen) return chosen;
  }
  const needle = settings.gateStageLabel.trim().toLowerCase();
  if (needle === '') return null;
  return stages.find((s) => s.label.toLowerCase().includes(needle)) ?? null;
}

/** Any stage ordered after the gate stage is past the gate, except lost stages. */
export function isPastGate(pipeline: Pipeline, gateStage: PipelineStage | null, stageId: string | null): boolean {
  if (gateStage === null || stageId === null) return false;
  const stage = pipeline.stages.find((s) => s.id === stageId);
  if (!stage || stage.isLost) return false;
  return stage.displayOrder > gateStage.displayOrder;
}

/**
 * The approved amount plus the tolerance covers the deal's amount (home currency). An approval of
 * a deal with no amount covers none above 0: the amount it was approved at counts as 0.
 */
export function amountWithinApproval(approvedAmount: number | null, facts: Pick<DealFacts, 'amount' | 'amountInHomeCurrency'>, tolerance: number): boolean {
  const current = gateAmount(facts).amount ?? 0;
  const approved = approvedAmount ?? 0;
  return current <= approved * (1 + tolerance) + 1e-9;
}

/** An approval that still covers the deal: same summary and effort, and the amount within the tolerance. */
export function approvalCovers(latest: Review | undefined, facts: DealFacts, tolerance: number = DEFAULT_AMOUNT_TOLERANCE): boolean {
  return (
    latest !== undefined &&
    (latest.status === 'approved' || latest.status === 'approved_with_conditions') &&
    coversCommitment(latest, facts) &&
    amountWithinApproval(latest.approvedAmount, facts, tolerance)
  );
}

/** The deal's gate status, as the card shows it and `dealgate_status` projects it. */
export function gateStatusOf(facts: DealFacts, requirement: Requirement, latest: Review | undefined, now: number, tolerance: number = DEFAULT_AMOUNT_TOLERANCE): GateStatus {
  if (!requirement.commitmentPresent) return 'not_required';
  if (latest) {
    if (latest.status === 'pending' || latest.status === 'overdue') {
      return latest.status === 'pending' && now > latest.dueAt ? 'overdue' : latest.status;
    }
    if (latest.status === 'rejected' && isActiveReview(latest) && coversCommitment(latest, facts)) return 'rejected';
    // An approval that the amount outgrew no longer covers a deal that needs review.
    if (isActiveReview(latest) && coversCommitment(latest, facts) && (!requirement.reviewRequired || approvalCovers(latest, facts, tolerance))) {
      return latest.status as GateStatus;
    }
  }
  return requirement.reviewRequired ? 'required' : 'not_required';
}

/** A deal may pass when review is not required, or the latest review is an approval that still covers it. */
export function mayAdvance(facts: DealFacts, requirement: Requirement, latest: Review | undefined, tolerance: number = DEFAULT_AMOUNT_TOLERANCE): boolean {
  if (!requirement.reviewRequired) return true;
  return approvalCovers(latest, facts, tolerance);
}

/** A won stage: closed, and not lost. */
export function isWonStage(pipeline: Pipeline | undefined, stageId: string | null): boolean {
  const stage = pipeline?.stages.find((s) => s.id === stageId);
  return stage !== undefined && stage.isClosed && !stage.isLost;
}

export interface GateInput {
  facts: DealFacts;
  /** The deal's pipeline, when known. */
  pipeline: Pipeline | undefined;
  settings: GateSettings;
  /** The deal's most recent review, if any. */
  latest: Review | undefined;
  now: number;
  /** The deal's open break-glass, if any (breakGlass.ts): while it holds, the deal may advance. */
  breakGlass?: BreakGlassWindow | undefined;
}

/** The deal may move past the gate: on its own (no review needed, an approval covers it), or while a break-glass holds. */
function mayAdvanceNow(input: GateInput, requirement: Requirement, tolerance: number): boolean {
  return mayAdvance(input.facts, requirement, input.latest, tolerance) || breakGlassHolds(input.breakGlass, input.latest, input.now);
}

/** The gate's verdict on a deal where it sits. */
export interface GateEvaluation {
  status: GateStatus;
  commitmentPresent: boolean;
  reviewRequired: boolean;
  /** In words, e.g. "Commitment present and amount 80,000 is at or above the 50,000 threshold". */
  reason: string;
  threshold: number;
  /** The amount compared with the threshold (see amountBasis). */
  amount: number | null;
  /** `home_currency`: HubSpot's amount_in_home_currency; `amount`: the deal's amount as entered. */
  amountBasis: 'home_currency' | 'amount';
  /** An approval covers the approved amount plus this fraction. */
  amountTolerance: number;
  gateStage: { id: string; label: string } | null;
  /** The deal's pipeline has no gate stage: it is not gated. */
  ungated: boolean;
  /** The deal sits past the gate. */
  pastGate: boolean;
  /** The deal may move past the gate now. */
  mayAdvance: boolean;
  afterClose: AfterClose;
  /** The deal sits in a won stage (closed, not lost). */
  inWonStage: boolean;
  /** What makes review required on this account (issue 15): the amount, the effort, either, or both. */
  triggerMode: TriggerMode;
  /** The effort threshold in engineer-weeks, when the account set one. */
  effortThreshold: number | null;
  /** Which measure made review required here; null when review is not required. */
  triggeredBy: 'amount' | 'effort' | 'both' | null;
  /** An open break-glass lets the deal past the gate without sign-off. */
  breakGlassHolds: boolean;
}

export function evaluateGate(input: GateInput): GateEvaluation {
  const { facts, pipeline, settings, latest, now } = input;
  const requirement = reviewRequirement(facts, settings);
  const gateStage = pipeline ? gateStageOf(pipeline, settings) : null;
  const tolerance = settings.amountTolerance ?? DEFAULT_AMOUNT_TOLERANCE;
  const compared = gateAmount(facts);
  const pastGate = pipeline ? isPastGate(pipeline, gateStage, facts.stage) : false;
  return {
    status: gateStatusOf(facts, requirement, latest, now, tolerance),
    commitmentPresent: requirement.commitmentPresent,
    reviewRequired: requirement.reviewRequired,
    reason: requirement.reason,
    threshold: settings.valueThreshold,
    amount: compared.amount,
    amountBasis: compared.basis,
    amountTolerance: tolerance,
    gateStage: gateStage ? { id: gateStage.id, label: gateStage.label } : null,
    ungated: pipeline !== undefined && gateStage === null,
    pastGate,
    mayAdvance: mayAdvanceNow(input, requirement, tolerance),
    afterClose: settings.afterClose ?? 'revert',
    inWonStage: isWonStage(pipeline, facts.stage),
    triggerMode: triggerModeOf(settings),
    effortThreshold: settings.effortThreshold ?? null,
    triggeredBy: requirement.triggeredBy,
    breakGlassHolds: breakGlassHolds(input.breakGlass, latest, now),
  };
}

/**
 * Whether moving the deal into `toStage` is allowed: a move that lands past the gate needs the
 * gate to let the deal advance; any other move (back, within the gate, to a lost stage) is free.
 */
export function isStageMoveAllowed(input: GateInput, toStage: string): boolean {
  const { pipeline, settings, facts } = input;
  if (!pipeline) return true;
  if (!isPastGate(pipeline, gateStageOf(pipeline, settings), toStage)) return true;
  return mayAdvanceNow(input, reviewRequirement(facts, settings), settings.amountTolerance ?? DEFAULT_AMOUNT_TOLERANCE);
}
