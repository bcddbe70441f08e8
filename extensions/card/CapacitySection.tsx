import { Flex, ProgressBar, Text } from '@hubspot/ui-extensions';
import type { CapacityView } from '../contract/api';
import { formatWeeks } from './gateWording';
import { sharesLine } from './capacityWording';

/** The quarter's allocation for customer commitments: used and remaining, as a progress bar. */
export function CapacitySection({ capacity }: { capacity: CapacityView | null }) {
  if (!capacity) return null;
  const share = capacity.allocationWeeks > 0 ? capacity.usedWeeks / capacity.allocationWeeks : 1;
  const variant = share >= 1 ? 'danger' : share >= 0.8 ? 'warning' : 'success';
  // The service lists the largest few; the count covers all of them.
  const count = capacity.commitments.length + (capacity.moreCommitments ?? 0);
  return (
    <Flex direction="column" gap="xs">
      <ProgressBar
        testId="capacity-bar"
        title={`Engineering capacity for customer commitments, ${capacity.quarter}`}
        value={capacity.usedWeeks}
        maxValue={capacity.allocationWeeks}
        showPercentage
        variant={variant}
        valueDescription={`${formatWeeks(capacity.usedWeeks)} used of ${formatWeeks(capacity.allocationWeeks)}, ${formatWeeks(
          capacity.remainingWeeks,
        )} remaining`}
      />
      <Text variant="microcopy" testId="capacity-basis">
        {`${Math.round(capacity.commitmentShare * 100)}% of ${formatWeeks(capacity.engineerWeeksPerQuarter)} per quarter; ${count.toLocaleString('en-US')} approved ${
          count === 1 ? 'commitment' : 'commitments'
        } this quarter.`}
      </Text>
      <Text variant="microcopy" testId="capacity-shares">
        {`${sharesLine(capacity.shares)}.`}
      </Text>
    </Flex>
  );
}
