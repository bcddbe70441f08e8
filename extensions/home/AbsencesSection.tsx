import { Heading, Text } from '@hubspot/ui-extensions';
import type { AbsenceView } from '../contract/api';
import { formatWhen, userLabel } from '../card/gateWording';

/** Reviewers away now or soon and who covers for them (issue 15): one line each; nothing when nobody is. */
export function AbsencesSection({ absences, me }: { absences: readonly AbsenceView[] | undefined; me: string }) {
  if (!absences || absences.length === 0) return null;
  return (
    <>
      <Heading>Reviewers away</Heading>
      {absences.map((a) => (
        <Text key={a.id} variant="microcopy" testId={`absence-${a.id}`}>
          {`${userLabel(a.absent, me)}: ${a.current ? 'away' : `away from ${formatWhen(a.from)}`} until ${formatWhen(a.until)}; covered by ${userLabel(a.delegate, me)}.`}
        </Text>
      ))}
    </>
  );
}
