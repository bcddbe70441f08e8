import { useState } from 'react';
import { Alert, DateInput, Flex, Heading, Input, Link, LoadingButton, Select, StatusTag, TableCell, TableRow, Text, TextArea } from '@hubspot/ui-extensions';
import { deliveryUpdateBody, type DeliveryStatus, type DeliveryUpdateBody, type DeliveryView, type Person } from '../contract/api';
import { errorProps, validateWith } from '../client/fieldErrors';
import { fromIsoDate, toIsoDate, type CalendarDate } from './dateValue';
import { choosableDeliveryStatuses, deliveryPromiseLine, deliveryStatusTag } from './deliveryWording';
import { formatWhen, userLabel } from './gateWording';
import { HeadedTable } from './HeadedTable';

export interface DeliverySectionProps {
  reviewId: number;
  delivery: DeliveryView | null;
  me: string;
  busy: boolean;
  submitting: boolean;
  serverErrors: Record<string, string>;
  onUpdate: (reviewId: number, body: DeliveryUpdateBody) => void;
}

/**
 * What engineering's yes became (issue 14): its owner, promised date, status, work item and
 * history, for the rep and the reviewer alike; the owner, reviewers and admins update it here.
 */
export function DeliverySection({ reviewId, delivery, me, busy, submitting, serverErrors, onUpdate }: DeliverySectionProps) {
  if (!delivery) return null;
  const tag = deliveryStatusTag[delivery.status];
  const lastReason = [...delivery.history].reverse().find((c) => c.reason !== null && c.status === 'slipped')?.reason ?? null;
  return (
    <Flex direction="column" gap="xs" testId="delivery">
      <Heading>Delivery</Heading>
      <Flex direction="row" gap="xs">
        <StatusTag variant={tag.variant} testId="delivery-status">{tag.label}</StatusTag>
        {delivery.overdue && <StatusTag variant="danger" testId="delivery-overdue">{`Overdue: promised for ${delivery.promisedDate}`}</StatusTag>}
      </Flex>
      <Text testId="delivery-promise">{deliveryPromiseLine(delivery, userLabel(delivery.owner, me))}</Text>
      {ownerGone(delivery) && (
        <Alert title="This commitment has no owner who can deliver it" variant="warning" testId="delivery-owner-deactivated">
          {`${userLabel(delivery.owner, me)} has been deactivated in HubSpot: ${ownerGoneAdvice(delivery)}.`}
        </Alert>
      )}
      {delivery.deliveredAt && <Text testId="delivery-delivered">{`Delivered on ${formatWhen(delivery.deliveredAt)}.`}</Text>}
      {delivery.status === 'slipped' && lastReason && <Text testId="delivery-slip-reason">{`Why it slipped: ${lastReason}`}</Text>}
      {delivery.workItemUrl && (
        <Link href={{ url: delivery.workItemUrl, external: true }} testId="delivery-work-item">
          Engineering work item
        </Link>
      )}
      <DeliveryHistory delivery={delivery} me={me} />
      {delivery.canUpdate ? (
        <DeliveryForm key={`delivery-${reviewId}-${delivery.history.length}`} reviewId={reviewId} delivery={delivery} me={me} busy={busy} submitting={submitting} serverErrors={serverErrors} onUpdate={onUpdate} />
      ) : (
        <Text variant="microcopy" testId="delivery-update-denied">
          {delivery.status === 'delivered' || delivery.status === 'deprioritized'
            ? `This commitment is ${tag.label.toLowerCase()}; nothing more is expected of it.`
            : 'Its owner, the reviewers and the admins update the delivery; a later date comes with a task for the deal owner to tell the customer.'}
        </Text>
      )}
    </Flex>
  );
}

function DeliveryHistory({ delivery, me }: { delivery: DeliveryView; me: string }) {
  return (
    <HeadedTable testId="delivery-history" headers={['When', 'Who', 'Status', 'Owner', 'Promised for', 'Why']}>
      {[...delivery.history].reverse().map((change, i) => (
        <TableRow key={`${change.at}-${i}`} testId={`delivery-history-${i}`}>
          <TableCell>{formatWhen(change.at)}</TableCell>
          <TableCell>{userLabel(change.byPerson, me)}</TableCell>
          <TableCell>{deliveryStatusTag[change.status].label}</TableCell>
          <TableCell>{userLabel(change.owner, me)}</TableCell>
          <TableCell>{change.promisedDate}</TableCell>
          <TableCell>{change.reason ?? ''}</TableCell>
        </TableRow>
      ))}
    </HeadedTable>
  );
}

const statusOptions = choosableDeliveryStatuses.map((value) => ({ value, label: deliveryStatusTag[value].label }));

function DeliveryForm({ reviewId, delivery, me, busy, submitting, serverErrors, onUpdate }: Omit<DeliverySectionProps, 'delivery'> & { delivery: DeliveryView }) {
  const [status, setStatus] = useState<DeliveryStatus>(delivery.status);
  const [owner, setOwner] = useState(delivery.ownerUserId);
  const [promisedDate, setPromisedDate] = useState<CalendarDate | undefined>(fromIsoDate(delivery.promisedDate));
  const [reason, setReason] = useState('');
  const [workItemUrl, setWorkItemUrl] = useState(delivery.workItemUrl ?? '');
  const [errors, setErrors] = useState<Record<string, string>>({});
  const shown = { ...serverErrors, ...errors };

  const submit = () => {
    const input: Record<string, unknown> = { status };
    const date = promisedDate ? toIsoDate(promisedDate) : undefined;
    if (date !== undefined && date !== delivery.promisedDate) input.promisedDate = date;
    if (reason.trim() !== '') input.reason = reason;
    if (workItemUrl.trim() !== '' && workItemUrl.trim() !== delivery.workItemUrl) input.workItemUrl = workItemUrl.trim();
    if (owner !== delivery.ownerUserId) input.ownerUserId = owner;
    const result = validateWith(deliveryUpdateBody, input);
    if (!result.ok) {
      setErrors(result.errors);
      return;
    }
    setErrors({});
    onUpdate(reviewId, result.value);
  };

  return (
    <Flex direction="column" gap="sm" testId="delivery-form">
      <Text format={{ fontWeight: 'demibold' }}>Update the delivery</Text>
      <Select
        label="Status"
        name="deliveryStatus"
        testId="delivery-form-status"
        required
        value={status}
        options={statusOptions}
        {...errorProps(shown, 'status')}
        onChange={(value) => setStatus(choosableDeliveryStatuses.find((s) => s === value) ?? status)}
      />
      <OwnerPicker choices={delivery.ownerChoices} owner={owner} gone={ownerGone(delivery) ? delivery.ownerUserId : null} me={me} errors={shown} onChange={setOwner} />
      <DateInput
        label="Promised for"
        name="promisedDate"
        testId="delivery-form-date"
        format="YYYY-MM-DD"
        value={promisedDate}
        {...errorProps(shown, 'promisedDate')}
        onChange={(value) => setPromisedDate(value ? { year: value.year, month: value.month, date: value.date } : undefined)}
      />
      <TextArea
        label="Why (required when the date moves later: the rep tells the customer)"
        name="reason"
        testId="delivery-form-reason"
        value={reason}
        {...errorProps(shown, 'reason')}
        onChange={(value) => setReason(value)}
      />
      <Input
        label="Engineering work item (link)"
        name="workItemUrl"
        testId="delivery-form-link"
        value={workItemUrl}
        {...errorProps(shown, 'workItemUrl')}
        onChange={(value) => setWorkItemUrl(value)}
      />
      <LoadingButton variant="primary" testId="delivery-form-send" loading={submitting} disabled={busy} onClick={submit}>
        Save the delivery
      </LoadingButton>
    </Flex>
  );
}

/** An open delivery whose owner has left the account (deactivated in HubSpot): nobody owns it until it is handed over. */
function ownerGone(delivery: DeliveryView): boolean {
  return delivery.ownerDeactivated && delivery.status !== 'delivered' && delivery.status !== 'deprioritized';
}

/** What to do about an owner who has left, for the caller: the picker when it offers someone, else the settings. */
function ownerGoneAdvice(delivery: DeliveryView): string {
  if (!delivery.canUpdate) return 'it needs a new owner';
  if (delivery.ownerChoices.length > 1) return 'hand this delivery to an engineer below';
  return 'no other engineer of the account is a user now; an admin adds one to the reviewers in the settings, then it can be handed over here';
}

/**
 * Whom the delivery goes to: the engineers the service offers, by name (nothing to pick when it
 * offers only its owner). `gone`: the current owner, when deactivated in HubSpot (marked so).
 */
function OwnerPicker(props: { choices: Person[]; owner: string; gone: string | null; me: string; errors: Record<string, string>; onChange: (userId: string) => void }) {
  const { choices, owner, gone, me, errors, onChange } = props;
  if (choices.length <= 1) return null;
  return (
    <Select
      label="Owner"
      name="deliveryOwner"
      testId="delivery-form-owner"
      required
      value={owner}
      options={choices.map((person) => ({ value: person.userId, label: person.userId === gone ? `${userLabel(person, me)} (deactivated in HubSpot)` : userLabel(person, me) }))}
      {...errorProps(errors, 'ownerUserId')}
      onChange={(value) => onChange(choices.find((person) => person.userId === value)?.userId ?? owner)}
    />
  );
}
