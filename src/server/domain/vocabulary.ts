/**
 * The words the domain's rules are written in. The card API's contract (extensions/contract/api.ts)
 * spells the same words for the UI; application/wire.ts checks at compile time that the two stay
 * the same, so the domain never imports the wire types.
 */

/** A deal's gate status (the application projects it onto the deal's `dealgate_status`). */
export type GateStatus = 'not_required' | 'required' | 'pending' | 'overdue' | 'approved' | 'approved_with_conditions' | 'rejected';

/** A review's own status: `withdrawn` and `superseded` (commitment changed) end it without a decision. */
export type ReviewStatus = 'pending' | 'overdue' | 'approved' | 'approved_with_conditions' | 'rejected' | 'withdrawn' | 'superseded';

export type DecisionOutcome = 'yes' | 'yes_but' | 'no';

export type Role = 'rep' | 'reviewer' | 'admin' | 'escalation_reviewer';

/**
 * What a review is about: `pre_sales`, the deal's commitment the gate holds it to; `post_sales`,
 * customization or implementation work asked for on a won deal (booked against the same customer share).
 */
export type ReviewKind = 'pre_sales' | 'post_sales';
