import { useState } from 'react';
import { Alert, Flex, LoadingButton, NumberInput, Select, Text, TextArea } from '@hubspot/ui-extensions';
import { decisionBody, decisionOutcomes, type CapacityCommitment, type DecisionBody, type DecisionOutcome, type GateResponse } from '../contract/api';
import { errorProps, validateWith } from '../client/fieldErrors';
import { formatWeeks, outcomeLabel } from './gateWording';

/** What the service said when an approval did not fit the quarter (409, `details` of the conflict). */
export interface CapacityConflict {
  message: string;
  quarter: string | null;
  allocationWeeks: number | null;
  usedWeeks: number | null;
  remainingWeeks: number | null;
  requestedWeeks: number | null;
  /** The largest commitments of the quarter (the service lists at most 10). */
  candidates: CapacityCommitment[];
  /** How many of the quarter's commitments the list leaves out. */
  moreCommitments: number;
}

export interface DecisionFormProps {
  gate: GateResponse;
  busy: boolean;
  submitting: boolean;
  serverErrors: Record<string, string>;
  capacityConflict: CapacityConflict | null;
  onSubmit: (reviewId: number, body: DecisionBody) => void;
}

const outcomeOptions = decisionOutcomes.map((value) => ({ value, label: outcomeLabel[value] }));

/**
 * A designated reviewer answers yes, yes-but (extra weeks and/or a tradeoff) or no (with the
 * reason). When the approval would not fit the quarter's allocation, the form shows the allocation
 * and asks which approved commitment to deprioritize.
 */
export function DecisionForm({ gate, busy, submitting, serverErrors, capacityConflict, onSubmit }: DecisionFormProps) {
  const review = gate.review;
  const [outcome, setOutcome] = useState<DecisionOutcome | undefined>(undefined);
  const [note, setNote] = useState('');
  const [extraWeeks, setExtraWeeks] = useState<number | undefined>(undefined);
  const [tradeoff, setTradeoff] = useState('');
  const [deprioritize, setDeprioritize] = useState<number | undefined>(undefined);
  const [errors, setErrors] = useState<Record<string, string>>({});
  if (!review) return null;
  const shown = { ...serverErrors, ...errors };

  const requested = review.effortWeeks + (outcome === 'yes_but' ? (extraWeeks ?? 0) : 0);
  const capacity = gate.capacity;
  const wouldExceed = outcome !== 'no' && capacity !== null && requested > capacity.remainingWeeks + 1e-9;
  const candidates = (capacityConflict?.candidates ?? capacity?.commitments ?? []).filter((c) => c.reviewId !== review.id);
  // The service lists the quarter's largest commitments (those that can make room) and counts the rest.
  const moreCandidates = capacityConflict ? capacityConflict.moreCommitments : (capacity?.moreCommitments ?? 0);
  const askDeprioritize = outcome !== undefined && outcome !== 'no' && (wouldExceed || capacityConflict !== null);

  const submit = () => {
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

  return (
    <Flex direction="column" gap="sm" testId="decision-form">
      <Text format={{ fontWeight: 'demibold' }}>{`Your answer to review #${review.id}`}</Text>
      <Select
        label="Answer"
        name="outcome"
        testId="decision-outcome"
        required
        value={outcome}
        options={outcomeOptions}
        {...errorProps(shown, 'outcome')}
        onChange={(value) => setOutcome(decisionOutcomes.find((o) => o === value))}
      />
      {outcome === 'yes_but' && (
        <NumberInput
          label="Extra weeks engineering needs"
          name="extraWeeks"
          testId="decision-extra-weeks"
          value={extraWeeks}
          min={0}
          precision={1}
          {...errorProps(shown, 'extraWeeks')}
          onChange={(value) => setExtraWeeks(Number.isFinite(value) ? value : undefined)}
        />
      )}
      {outcome === 'yes_but' && (
        <TextArea
          label="Tradeoff the deal must accept"
          name="tradeoff"
          testId="decision-tradeoff"
          value={tradeoff}
          {...errorProps(shown, 'tradeoff')}
          onChange={(value) => setTradeoff(value)}
        />
      )}
      <TextArea
        label={outcome === 'no' ? 'Reason (required for a no)' : 'Note'}
        name="note"
        testId="decision-note"
        value={note}
        required={outcome === 'no'}
        {...errorProps(shown, 'note')}
        onChange={(value) => setNote(value)}
      />
      {askDeprioritize && capacity && (
        <Alert title={`This would exceed the ${capacity.quarter} allocation`} variant="warning" testId="capacity-warning">
          {capacityConflict
            ? capacityConflict.message
            : `Approving ${formatWeeks(requested)} needs more than the ${formatWeeks(capacity.remainingWeeks)} left of ${formatWeeks(
                capacity.allocationWeeks,
              )} (${formatWeeks(capacity.usedWeeks)} already committed). Choose an approved commitment to deprioritize, or answer no.`}
        </Alert>
      )}
      {askDeprioritize && (
        <Select
          label="Which approved commitment should make room?"
          name="deprioritizeReviewId"
          testId="decision-deprioritize"
          value={deprioritize}
          options={candidates.map((c) => ({ value: c.reviewId, label: `#${c.reviewId} ${c.dealName ?? `deal ${c.dealId}`}: ${c.summary} (${formatWeeks(c.weeks)})` }))}
          {...errorProps(shown, 'deprioritizeReviewId')}
          onChange={(value) => setDeprioritize(typeof value === 'number' ? value : Number(value))}
        />
      )}
      {askDeprioritize && moreCandidates > 0 && (
        <Text variant="microcopy" testId="decision-deprioritize-more">
          {`The ${candidates.length} largest approved ${candidates.length === 1 ? 'commitment' : 'commitments'} of ${
            capacityConflict?.quarter ?? capacity?.quarter ?? 'the quarter'
          }, and ${moreCandidates.toLocaleString('en-US')} more, none larger.`}
        </Text>
      )}
      <LoadingButton variant="primary" testId="decide" loading={submitting} disabled={busy} onClick={submit}>
        Send answer
      </LoadingButton>
    </Flex>
  );
}
