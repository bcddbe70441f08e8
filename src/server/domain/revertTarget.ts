/**
 * Where a deal that sits past the gate without sign-off is moved back to. Pure: the deal's stage
 * history in, the stages to try in order out; the caller keeps the first that is not past the gate
 * (judged by the gate's rules for that stage's pipeline), else the gate stage.
 */

/** One entry of a deal's stage history, newest first (HubSpot's `propertiesWithHistory`). */
export interface StageHistoryEntry {
  value: string;
}

export interface RevertInput {
  /** The deal's stage history, newest first. */
  history: readonly StageHistoryEntry[];
  /** The stage the deal is in now. */
  currentStage: string;
  /** The entry of the move being undone (-1 when none is known: only older entries are read). */
  moveIndex: number;
  /** True when the deal was moved just now; false when it was found past the gate (install, sweep, a fact that changed). */
  isMove: boolean;
  /** True when the deal sits in a won stage. */
  inWonStage: boolean;
}

/**
 * The stages a deal goes back to, best first: the stages it sat in before the move, newest first,
 * other than the one it is in. A won deal that was found there (not moved there just now) goes to
 * the gate stage only, since what it sat in before it was won says nothing of the missing review.
 */
export function revertCandidates(input: RevertInput): string[] {
  if (!input.isMove && input.inWonStage) return [];
  const out: string[] = [];
  for (const entry of input.history.slice(Math.max(input.moveIndex, 0) + 1)) {
    if (entry.value !== input.currentStage && !out.includes(entry.value)) out.push(entry.value);
  }
  return out;
}
