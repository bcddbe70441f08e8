import { Flex, LoadingButton, NumberInput, Select, Text, TextArea } from '@hubspot/ui-extensions';
import { decisionOutcomes, type CapacityCommitment, type DecisionBody, type GateResponse } from '../contract/api';
import { errorProps } from '../client/fieldErrors';
import { DeprioritizeFields } from './DeprioritizeFields';
import { outcomeLabel } from './gateWording';
import { useDecisionDraft } from './useDecisionDraft';

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
  const draft = useDecisionDraft(gate, serverErrors, capacityConflict, onSubmit);
  const { outcome, setOutcome, note, setNote, extraWeeks, setExtraWeeks, tradeoff, setTradeoff, shown } = draft;
  const review = gate.review;
  if (!review) return null;

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
      <DeprioritizeFields draft={draft} />
      <LoadingButton variant="primary" testId="decide" loading={submitting} disabled={busy} onClick={draft.submit}>
        Send answer
      </LoadingButton>
    </Flex>
  );
}
