/**
 * Engineering's revenue goal per quarter (issue 14, shared metrics): the amount of deals won in the
 * quarter whose commitments engineering approved, and of those whose commitments it delivered,
 * against a goal the account sets ("if the feature drives $1M in ARR, the team celebrates"). The
 * deal that takes the approved amount to the goal is the moment: the home page says so and the deal
 * gets a note.
 */
export interface WonCommitmentDeal {
  dealId: string;
  dealName: string | null;
  amount: number;
  wonAt: number;
  /** Every commitment of the deal approved (yes or yes-but). */
  approved: boolean;
  /** Every approved commitment of the deal delivered. */
  delivered: boolean;
}

export interface RevenueProgress {
  quarter: string;
  goal: number | null;
  approvedAmount: number;
  deliveredAmount: number;
  /** approvedAmount over goal, null without a goal; may pass 1. */
  progress: number | null;
  /** The deal whose win took the approved amount to the goal (the earliest such win), when reached. */
  reachedBy: { dealId: string; dealName: string | null; wonAt: number } | null;
}

/** Progress of one quarter from its won deals (any order). */
export function revenueProgress(quarter: string, goal: number | null, deals: readonly WonCommitmentDeal[]): RevenueProgress {
  const approved = deals.filter((d) => d.approved).sort((a, b) => a.wonAt - b.wonAt || a.dealId.localeCompare(b.dealId));
  let running = 0;
  let reachedBy: RevenueProgress['reachedBy'] = null;
  for (const deal of approved) {
    running += deal.amount;
    if (reachedBy === null && goal !== null && goal > 0 && running >= goal) reachedBy = { dealId: deal.dealId, dealName: deal.dealName, wonAt: deal.wonAt };
  }
  const deliveredAmount = approved.filter((d) => d.delivered).reduce((sum, d) => sum + d.amount, 0);
  return { quarter, goal, approvedAmount: running, deliveredAmount, progress: goal !== null && goal > 0 ? running / goal : null, reachedBy };
}

/**
 * Whether winning `deal` is the moment the goal is reached: the approved amount before it was short
 * of the goal and with it is not. Decided once, when the win is recorded.
 */
export function crossesGoal(goal: number | null, approvedBefore: number, deal: Pick<WonCommitmentDeal, 'amount' | 'approved'>): boolean {
  return goal !== null && goal > 0 && deal.approved && approvedBefore < goal && approvedBefore + deal.amount >= goal;
}
