import { Alert, Select, Text } from '@hubspot/ui-extensions';
import { errorProps } from '../client/fieldErrors';
import { formatWeeks } from './gateWording';
import type { DecisionDraft } from './useDecisionDraft';

/**
 * When the approval would not fit the quarter's allocation: the allocation as it stands (or the
 * service's conflict), and which approved commitment should make room.
 */
export function DeprioritizeFields({ draft }: { draft: DecisionDraft }) {
  const { askDeprioritize, capacity, capacityConflict, requested, candidates, moreCandidates, deprioritize, setDeprioritize, shown } = draft;
  if (!askDeprioritize) return null;
  return (
    <>
      {capacity && (
        <Alert title={`This would exceed the ${capacity.quarter} allocation`} variant="warning" testId="capacity-warning">
          {capacityConflict
            ? capacityConflict.message
            : `Approving ${formatWeeks(requested)} needs more than the ${formatWeeks(capacity.remainingWeeks)} left of ${formatWeeks(
                capacity.allocationWeeks,
              )} (${formatWeeks(capacity.usedWeeks)} already committed). Choose an approved commitment to deprioritize, or answer no.`}
        </Alert>
      )}
      <Select
        label="Which approved commitment should make room?"
        name="deprioritizeReviewId"
        testId="decision-deprioritize"
        value={deprioritize}
        options={candidates.map((c) => ({ value: c.reviewId, label: `#${c.reviewId} ${c.dealName ?? `deal ${c.dealId}`}: ${c.summary} (${formatWeeks(c.weeks)})` }))}
        {...errorProps(shown, 'deprioritizeReviewId')}
        onChange={(value) => setDeprioritize(typeof value === 'number' ? value : Number(value))}
      />
      {moreCandidates > 0 && (
        <Text variant="microcopy" testId="decision-deprioritize-more">
          {`The ${candidates.length} largest approved ${candidates.length === 1 ? 'commitment' : 'commitments'} of ${
            capacityConflict?.quarter ?? capacity?.quarter ?? 'the quarter'
          }, and ${moreCandidates.toLocaleString('en-US')} more, none larger.`}
        </Text>
      )}
    </>
  );
}
