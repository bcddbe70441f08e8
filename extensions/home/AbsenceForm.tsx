import { useEffect, useState } from 'react';
import { Alert, DateInput, Flex, LoadingButton, Select, Text } from '@hubspot/ui-extensions';
import { absenceBody, personLabel, type AbsencesResponse } from '../contract/api';
import type { ServiceClient } from '../client/serviceClient';
import { errorProps, validateWith } from '../client/fieldErrors';
import { toIsoDate, type CalendarDate } from '../card/dateValue';
import { PeoplePicker } from '../settings/PeoplePicker';

export type AbsenceClient = Pick<ServiceClient, 'getAbsences' | 'createAbsence' | 'endAbsence'>;

/** Who may be away and who may cover (GET /api/v1/absences); null while loading. */
export function useAbsenceChoices(client: AbsenceClient | undefined): AbsencesResponse | null {
  const [choices, setChoices] = useState<AbsencesResponse | null>(null);
  useEffect(() => {
    if (!client) return undefined;
    let current = true;
    void client.getAbsences().then((result) => {
      if (current && result.ok) setChoices(result.body);
    });
    return () => {
      current = false;
    };
  }, [client]);
  return choices;
}

const dateOf = (value: { year: number; month: number; date: number } | null | undefined): CalendarDate | undefined =>
  value ? { year: value.year, month: value.month, date: value.date } : undefined;

/**
 * Recording an absence (issue 15): a reviewer records their own, an admin one for any reviewer;
 * from and until are dates (midnight UTC, until excluded), the delegate one of the account's
 * reviewers chosen by name. Checked with the API's own schema; the service's refusals show on
 * their fields (or above the button when they concern no field).
 */
export function AbsenceForm({ client, me, choices, onRecorded }: { client: AbsenceClient; me: string; choices: AbsencesResponse; onRecorded: () => void }) {
  const meReviews = choices.reviewers.some((p) => p.userId === me);
  const [absent, setAbsent] = useState(meReviews ? me : '');
  const [from, setFrom] = useState<CalendarDate | undefined>(undefined);
  const [until, setUntil] = useState<CalendarDate | undefined>(undefined);
  const [delegate, setDelegate] = useState<string[]>([]);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [submitting, setSubmitting] = useState(false);
  if (!meReviews && !choices.callerIsAdmin) return null;

  const submit = async () => {
    const input = {
      ...(absent !== '' && absent !== me ? { userId: absent } : {}),
      ...(delegate[0] === undefined ? {} : { delegateUserId: delegate[0] }),
      ...(from ? { from: toIsoDate(from) } : {}),
      ...(until ? { until: toIsoDate(until) } : {}),
    };
    const checked = validateWith(absenceBody, input);
    if (!checked.ok) return setErrors(checked.errors);
    setSubmitting(true);
    const result = await client.createAbsence(checked.value);
    setSubmitting(false);
    if (!result.ok) return setErrors(Object.keys(result.fieldErrors).length > 0 ? result.fieldErrors : { _form: result.message });
    setErrors({});
    onRecorded();
  };
  const others = choices.reviewers.filter((p) => p.userId !== absent);
  return (
    <Flex direction="column" gap="sm" testId="absence-form">
      <Text format={{ fontWeight: 'demibold' }}>{choices.callerIsAdmin ? 'Record an absence' : 'Record your absence'}</Text>
      <Text variant="microcopy">While the reviewer is away, their review requests and reminders go to the delegate, who may decide them.</Text>
      {choices.callerIsAdmin && (
        <Select
          label="Who is away"
          name="userId"
          testId="absence-form-user"
          required
          value={absent}
          options={choices.reviewers.map((p) => ({ label: p.userId === me ? `You (${personLabel(p)})` : personLabel(p), value: p.userId }))}
          {...errorProps(errors, 'userId')}
          onChange={(value) => setAbsent(String(value))}
        />
      )}
      <DateInput label="Away from" name="from" testId="absence-form-from" format="YYYY-MM-DD" value={from} required {...errorProps(errors, 'from')} onChange={(v) => setFrom(dateOf(v))} />
      <DateInput label="Back on (not away that day)" name="until" testId="absence-form-until" format="YYYY-MM-DD" value={until} required {...errorProps(errors, 'until')} onChange={(v) => setUntil(dateOf(v))} />
      <PeoplePicker label="Covered by" name="delegateUserId" testId="absence-form-delegate" people={others} chosen={delegate} multiple={false} onChange={setDelegate} {...errorProps(errors, 'delegateUserId')} />
      {errors._form !== undefined && (
        <Alert title="The absence was not recorded" variant="danger" testId="absence-form-error">
          {errors._form}
        </Alert>
      )}
      <LoadingButton testId="absence-form-submit" loading={submitting} disabled={submitting} onClick={() => void submit()}>
        Record the absence
      </LoadingButton>
    </Flex>
  );
}
