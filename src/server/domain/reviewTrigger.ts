/**
 * What makes a deal with a commitment need a technical review: its amount, its engineering effort,
 * either of them or both (issue 15, "the trigger the practice asks for": "anything that would take
 * more than two weeks of engineering"). Pure: the account's trigger and the deal's numbers in, which
 * of them held out. The gate policy (gatePolicy.ts, reviewRequirement) builds its verdict and its
 * words from this, so the card and enforcement read one rule.
 */


/** What makes a commitment need review: the amount, the engineering effort, either, or both. */
export type TriggerMode = 'amount' | 'effort' | 'either' | 'both';

/** The account's trigger, as the settings hold it; absent fields mean today's rule (amount only). */
export interface ReviewTrigger {
  valueThreshold: number;
  /** Engineer-weeks at or above which a commitment needs review; null: no effort threshold. */
  effortThreshold?: number | null;
  triggerMode?: TriggerMode;
}

export const DEFAULT_TRIGGER_MODE: TriggerMode = 'amount';

/** Which of the two measures held, as the card's "why" names it. */
export type TriggeredBy = 'amount' | 'effort' | 'both';

export interface TriggerOutcome {
  mode: TriggerMode;
  /** The amount is at or above the threshold (no amount counts as 0). */
  amountHolds: boolean;
  /** The effort is at or above the effort threshold; a commitment with no estimate counts as meeting it. */
  effortHolds: boolean;
  required: boolean;
  /** The measures that held and count under the mode; null when review is not required. */
  triggeredBy: TriggeredBy | null;
}

export function triggerModeOf(trigger: ReviewTrigger): TriggerMode {
  return trigger.triggerMode ?? DEFAULT_TRIGGER_MODE;
}

/** The mode looks at the effort (so it needs an effort threshold). */
export function usesEffort(mode: TriggerMode): boolean {
  return mode !== 'amount';
}

/** The mode looks at the amount. */
export function usesAmount(mode: TriggerMode): boolean {
  return mode !== 'effort';
}

/**
 * A commitment nobody has sized yet (no effort estimate) counts as meeting the effort threshold:
 * the review is where it gets sized, and leaving the estimate blank must not be a way around it.
 */
export function effortMeets(effortWeeks: number | null, effortThreshold: number | null | undefined): boolean {
  if (effortThreshold === null || effortThreshold === undefined) return false;
  return effortWeeks === null || effortWeeks >= effortThreshold;
}

export function judgeTrigger(trigger: ReviewTrigger, amount: number, effortWeeks: number | null): TriggerOutcome {
  const mode = triggerModeOf(trigger);
  const amountHolds = amount >= trigger.valueThreshold;
  const effortHolds = effortMeets(effortWeeks, trigger.effortThreshold);
  const required =
    mode === 'amount' ? amountHolds : mode === 'effort' ? effortHolds : mode === 'either' ? amountHolds || effortHolds : amountHolds && effortHolds;
  const counted = { amount: usesAmount(mode) && amountHolds, effort: usesEffort(mode) && effortHolds };
  const triggeredBy: TriggeredBy | null = !required ? null : counted.amount && counted.effort ? 'both' : counted.effort ? 'effort' : 'amount';
  return { mode, amountHolds, effortHolds, required, triggeredBy };
}

/** The settings field at fault when the mode needs a threshold the settings lack, with why; null when the trigger is whole. */
export function triggerSettingsIssue(trigger: ReviewTrigger): { path: string; message: string } | null {
  const mode = triggerModeOf(trigger);
  if (usesEffort(mode) && (trigger.effortThreshold === null || trigger.effortThreshold === undefined)) {
    return { path: 'effortThreshold', message: `is required when triggerMode is "${mode}": set the engineer-weeks at or above which a commitment needs review` };
  }
  return null;
}

/**
 * How many deals each mode asks to review, relative to the others: `both` asks the fewest, `either`
 * the most; `amount` and `effort` are not comparable (each asks for some the other does not).
 */
const MODE_REACH: Record<TriggerMode, number> = { both: 0, amount: 1, effort: 1, either: 2 };

/**
 * Whether a change of the trigger lets more deals through without review (relaxed), fewer
 * (tightened), or both in different places, as settingsService.gateEffect classifies a change.
 */
export function triggerChangeEffect(before: ReviewTrigger, after: ReviewTrigger): { relaxed: boolean; tightened: boolean } {
  const was = triggerModeOf(before);
  const is = triggerModeOf(after);
  let relaxed = false;
  let tightened = false;
  if (was !== is) {
    if (MODE_REACH[is] === MODE_REACH[was]) {
      relaxed = true;
      tightened = true;
    } else if (MODE_REACH[is] < MODE_REACH[was]) relaxed = true;
    else tightened = true;
  }
  // The effort threshold matters only while the mode (before or after) looks at the effort.
  if (usesEffort(was) || usesEffort(is)) {
    const a = before.effortThreshold ?? null;
    const b = after.effortThreshold ?? null;
    if (a !== null && b !== null && b > a) relaxed = true;
    if (a !== null && b !== null && b < a) tightened = true;
  }
  return { relaxed, tightened };
}
