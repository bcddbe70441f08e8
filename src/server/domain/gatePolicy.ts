import type { GateEvaluation, GateStatus } from '../../../extensions/contract/api';
import { coversCommitment, isActiveReview, type Review } from './reviewLifecycle';

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

export interface GateSettings {
  valueThreshold: number;
  gateStageLabel: string;
  /** pipeline id -> stage id, overriding the label rule. */
  gateStages: Record<string, string>;
}

export interface Requirement {
  commitmentPresent: boolean;
  reviewRequired: boolean;
  reason: string;
}

const formatAmount = (n: number): string => n.toLocaleString('en-US', { maximumFractionDigits: 2 });

/** Review is required when the deal carries a commitment and its amount is at or above the threshold (no amount counts as 0). */
export function reviewRequirement(facts: Pick<DealFacts, 'commitment' | 'amount'>, threshold: number): Requirement {
  if (!facts.commitment) {
    return { commitmentPresent: false, reviewRequired: false, reason: 'No custom technical commitment on the deal' };
  }
  const amount = facts.amount ?? 0;
  const amountText = facts.amount === null ? 'no amount (counted as 0)' : `amount ${formatAmount(amount)}`;
  if (amount >= threshold) {
    return {
      commitmentPresent: true,
      reviewRequired: true,
      reason: `Commitment present and ${amountText} is at or above the ${formatAmount(threshold)} threshold`,
    };
  }
  return {
    commitmentPresent: true,
    reviewRequired: false,
    reason: `Commitment present but ${amountText} is below the ${formatAmount(threshold)} threshold`,
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

/** The deal's gate status, as the card shows it and `dealgate_status` projects it. */
export function gateStatusOf(facts: DealFacts, requirement: Requirement, latest: Review | undefined, now: number): GateStatus {
  if (!requirement.commitmentPresent) return 'not_required';
  if (latest) {
    if (latest.status === 'pending' || latest.status === 'overdue') {
      return latest.status === 'pending' && now > latest.dueAt ? 'overdue' : latest.status;
    }
    if (isActiveReview(latest) && coversCommitment(latest, facts)) return latest.status as GateStatus;
  }
  return requirement.reviewRequired ? 'required' : 'not_required';
}

/** A deal may pass when review is not required, or the latest review is an approval that still covers it. */
export function mayAdvance(facts: DealFacts, requirement: Requirement, latest: Review | undefined): boolean {
  if (!requirement.reviewRequired) return true;
  return latest !== undefined && (latest.status === 'approved' || latest.status === 'approved_with_conditions') && coversCommitment(latest, facts);
}

export interface GateInput {
  facts: DealFacts;
  /** The deal's pipeline, when known. */
  pipeline: Pipeline | undefined;
  settings: GateSettings;
  /** The deal's most recent review, if any. */
  latest: Review | undefined;
  now: number;
}

export function evaluateGate(input: GateInput): GateEvaluation {
  const { facts, pipeline, settings, latest, now } = input;
  const requirement = reviewRequirement(facts, settings.valueThreshold);
  const gateStage = pipeline ? gateStageOf(pipeline, settings) : null;
  return {
    status: gateStatusOf(facts, requirement, latest, now),
    commitmentPresent: requirement.commitmentPresent,
    reviewRequired: requirement.reviewRequired,
    reason: requirement.reason,
    threshold: settings.valueThreshold,
    amount: facts.amount,
    gateStage: gateStage ? { id: gateStage.id, label: gateStage.label } : null,
    pastGate: pipeline ? isPastGate(pipeline, gateStage, facts.stage) : false,
    mayAdvance: mayAdvance(facts, requirement, latest),
  };
}

/**
 * Whether moving the deal into `toStage` is allowed: a move that lands past the gate needs the
 * gate to let the deal advance; any other move (back, within the gate, to a lost stage) is free.
 */
export function isStageMoveAllowed(input: GateInput, toStage: string): boolean {
  const { pipeline, settings, facts, latest } = input;
  if (!pipeline) return true;
  if (!isPastGate(pipeline, gateStageOf(pipeline, settings), toStage)) return true;
  return mayAdvance(facts, reviewRequirement(facts, settings.valueThreshold), latest);
}
