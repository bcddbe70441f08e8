import { useState } from 'react';
import { Alert, Flex, LoadingButton, NumberInput, Text, TextArea } from '@hubspot/ui-extensions';
import { breakGlassBody, type BreakGlassBody, type BreakGlassCard } from '../contract/api';
import { errorProps, validateWith } from '../client/fieldErrors';
import { formatWhen, userLabel } from './gateWording';

export interface BreakGlassSectionProps {
  breakGlass: BreakGlassCard;
  me: string;
  busy: boolean;
  submitting: boolean;
  serverErrors: Record<string, string>;
  onOpen: (body: BreakGlassBody) => void;
}

/**
 * Break-glass (issue 15): the open one, who let the deal pass without review, why and until when;
 * how the last one ended; and for admins and the people the settings name for it, the form that
 * opens one (validated with the API's own schema).
 */
export function BreakGlassSection({ breakGlass, me, busy, submitting, serverErrors, onOpen }: BreakGlassSectionProps) {
  const latest = breakGlass.latest;
  return (
    <Flex direction="column" gap="xs" testId="break-glass">
      {latest?.open && (
        <Alert title="Break-glass: this deal may pass the gate without review" variant="warning" testId="break-glass-open">
          {`${userLabel(latest.openedBy, me)} let it through until ${formatWhen(latest.until)}. Why: ${latest.reason}. ` +
            'Get the review decided by then: otherwise Dealgate moves the deal back like any other past the gate without sign-off.'}
        </Alert>
      )}
      {latest && !latest.open && (
        <Text variant="microcopy" testId="break-glass-ended">
          {`A break-glass by ${userLabel(latest.openedBy, me)} ${latest.closedAs === 'decided' ? 'ended with a decision' : `ended at ${formatWhen(latest.until)} with no decision`}.`}
        </Text>
      )}
      {breakGlass.canOpen && <BreakGlassForm busy={busy} submitting={submitting} serverErrors={serverErrors} onOpen={onOpen} />}
    </Flex>
  );
}

function BreakGlassForm({ busy, submitting, serverErrors, onOpen }: Omit<BreakGlassSectionProps, 'breakGlass' | 'me'>) {
  const [reason, setReason] = useState('');
  const [hours, setHours] = useState<number | undefined>(72);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const shown = { ...serverErrors, ...errors };
  const submit = () => {
    const result = validateWith(breakGlassBody, { reason, ...(hours === undefined ? {} : { hours }) });
    if (!result.ok) {
      setErrors(result.errors);
      return;
    }
    setErrors({});
    onOpen(result.value);
  };
  return (
    <Flex direction="column" gap="sm" testId="break-glass-form">
      <Text format={{ fontWeight: 'demibold' }}>Break the glass</Text>
      <Text variant="microcopy">Lets this one deal pass the gate without review for a time box (at most 7 days). It is recorded, noted on the deal and counted on the home page.</Text>
      <TextArea label="Why may it pass without review?" name="reason" testId="break-glass-reason" value={reason} required {...errorProps(shown, 'reason')} onChange={(value) => setReason(value)} />
      <NumberInput
        label="Time box (hours)"
        name="hours"
        testId="break-glass-hours"
        value={hours}
        min={1}
        max={168}
        {...errorProps(shown, 'hours')}
        onChange={(value) => setHours(Number.isFinite(value) ? value : undefined)}
      />
      <LoadingButton variant="destructive" testId="break-glass-submit" loading={submitting} disabled={busy} onClick={submit}>
        Let it pass without review
      </LoadingButton>
    </Flex>
  );
}
