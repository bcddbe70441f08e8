import type { GateEvaluation } from '../contract/api';

/** Which measure made review required, for the card's "why" (issue 15: amount, effort, or both). */
export function triggerLine(gate: Pick<GateEvaluation, 'triggeredBy' | 'triggerMode'>): string | null {
  if (gate.triggeredBy === null || gate.triggerMode === 'amount') return null;
  const which = gate.triggeredBy === 'both' ? 'both the amount and the engineering effort' : gate.triggeredBy === 'effort' ? 'the engineering effort' : 'the amount';
  const rule = { effort: 'the effort alone counts', either: 'either measure suffices', both: 'both must hold' }[gate.triggerMode];
  return `Review is required by ${which} (${rule} on this account).`;
}
