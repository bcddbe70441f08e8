import { useState } from 'react';
import { decisionBody, type DecisionBody, type DecisionOutcome, type GateResponse } from '../contract/api';
import { validateWith } from '../client/fieldErrors';
import type { CapacityConflict } from './DecisionForm';

/** The reviewer's answer as they type it, what it would take of the quarter, and its submit. */
export type DecisionDraft = ReturnType<typeof useDecisionDraft>;

/**
 * The decision form's state: the answer, the note, yes-but's extra weeks and tradeoff, and the
 * commitment to deprioritize, asked for only when the approval would not fit the quarter's
 * allocation (or the service said it did not). The answer is validated with the API's schema
 * before it is sent; the service's field errors show until the reviewer's own replace them.
 */
export function useDecisionDraft(gate: GateResponse, serverErrors: Record<string, string>, capacityConflict: CapacityConflict | null, onSubmit: (reviewId: number, body: DecisionBody) => void) {
  const review = gate.review;
  const [outcome, setOutcome] = useState<DecisionOutcome | undefined>(undefined);
  const [note, setNote] = useState('');
  const [extraWeeks, setExtraWeeks] = useState<number | undefined>(undefined);
  const [tradeoff, setTradeoff] = useState('');
  const [deprioritize, setDeprioritize] = useState<number | undefined>(undefined);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const shown = { ...serverErrors, ...errors };

  const requested = (review?.effortWeeks ?? 0) + (outcome === 'yes_but' ? (extraWeeks ?? 0) : 0);
  const capacity = gate.capacity;
  const wouldExceed = outcome !== 'no' && capacity !== null && requested > capacity.remainingWeeks + 1e-9;
  const candidates = (capacityConflict?.candidates ?? capacity?.commitments ?? []).filter((c) => c.reviewId !== review?.id);
  // The service lists the quarter's largest commitments (those that can make room) and counts the rest.
  const moreCandidates = capacityConflict ? capacityConflict.moreCommitments : (capacity?.moreCommitments ?? 0);
  const askDeprioritize = outcome !== undefined && outcome !== 'no' && (wouldExceed || capacityConflict !== null);

  const submit = () => {
    if (!review) return;
    const input: Record<string, unknown> = { outcome, note };
    if (outcome === 'yes_but') {
      if (extraWeeks !== undefined) input.extraWeeks = extraWeeks;
      if (tradeoff.trim() !== '') input.tradeoff = tradeoff;
    }
    if (askDeprioritize && deprioritize !== undefined) input.deprioritizeReviewId = deprioritize;
    const result = validateWith(decisionBody, input);
    if (!result.ok) {
      setErrors(result.errors);
      return;
    }
    setErrors({});
    onSubmit(review.id, result.value);
  };
  return {
    ...{ outcome, setOutcome, note, setNote, extraWeeks, setExtraWeeks, tradeoff, setTradeoff, deprioritize, setDeprioritize },
    ...{ shown, requested, capacity, capacityConflict, candidates, moreCandidates, askDeprioritize, submit },
  };
}
