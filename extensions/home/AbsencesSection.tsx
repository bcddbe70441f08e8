import { useState } from 'react';
import { Alert, Button, Flex, Heading, Text } from '@hubspot/ui-extensions';
import type { AbsenceView } from '../contract/api';
import { formatWhen, userLabel } from '../card/gateWording';
import { AbsenceForm, useAbsenceChoices, type AbsenceClient } from './AbsenceForm';

export interface AbsencesSectionProps {
  absences: readonly AbsenceView[] | undefined;
  me: string;
  /** With a client, reviewers record their absence here (admins anyone's) and end one from the list. */
  client?: AbsenceClient;
  /** After a change: the page reads the absences again. */
  onChanged?: () => void;
}

/**
 * Reviewers away now or soon and who covers for them (issue 15): one line each, named; with a
 * client, the form that records one and an "End now" button for whoever may end it (the absent
 * reviewer, who recorded it, an admin).
 */
export function AbsencesSection({ absences, me, client, onChanged = () => undefined }: AbsencesSectionProps) {
  const choices = useAbsenceChoices(client);
  const [endError, setEndError] = useState<string | null>(null);
  const list = absences ?? [];
  if (list.length === 0 && !(client && choices)) return null;
  const mayEnd = (a: AbsenceView) => a.userId === me || a.createdBy === me || choices?.callerIsAdmin === true;
  const end = async (absenceId: number) => {
    if (!client) return;
    const result = await client.endAbsence(absenceId);
    setEndError(result.ok ? null : result.message);
    if (result.ok) onChanged();
  };
  return (
    <Flex direction="column" gap="xs">
      <Heading>Reviewers away</Heading>
      {list.length === 0 && <Text testId="absences-none">Nobody is away now or soon.</Text>}
      {list.map((a) => (
        <Flex key={a.id} direction="row" gap="sm" align="center">
          <Text variant="microcopy" testId={`absence-${a.id}`}>
            {`${userLabel(a.absent, me)}: ${a.current ? 'away' : `away from ${formatWhen(a.from)}`} until ${formatWhen(a.until)}; covered by ${userLabel(a.delegate, me)}.`}
          </Text>
          {client && choices && mayEnd(a) && (
            <Button size="xs" testId={`absence-end-${a.id}`} onClick={() => void end(a.id)}>
              End now
            </Button>
          )}
        </Flex>
      ))}
      {endError !== null && (
        <Alert title="The absence was not ended" variant="danger" testId="absence-end-error">
          {endError}
        </Alert>
      )}
      {client && choices && <AbsenceForm client={client} me={me} choices={choices} onRecorded={onChanged} />}
    </Flex>
  );
}
