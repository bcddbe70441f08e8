import { Text } from '@hubspot/ui-extensions';
import type { CoveringView } from '../contract/api';
import { formatWhen, userLabel } from './gateWording';

/** Who covers for the waiting review's absent reviewers (issue 15): one line each. */
export function CoveringSection({ covering, me }: { covering: readonly CoveringView[] | undefined; me: string }) {
  if (!covering || covering.length === 0) return null;
  return (
    <>
      {covering.map((c) => (
        <Text key={c.absentUserId} variant="microcopy" testId={`covering-${c.absentUserId}`}>
          {`${userLabel(c.absent, me)} is away until ${formatWhen(c.until)}; covering and deciding: ${userLabel(c.delegate, me)}.`}
        </Text>
      ))}
    </>
  );
}
