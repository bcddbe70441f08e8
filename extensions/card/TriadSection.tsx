import { useState } from 'react';
import { Alert, Flex, Heading, LoadingButton, NumberInput, Select, TableCell, TableRow, Text, TextArea } from '@hubspot/ui-extensions';
import { perspectiveBody, triadRoleLabels, triadStanceLabels, triadStances, type PerspectiveBody, type PerspectiveView, type TriadRole, type TriadStance, type TriadView } from '../contract/api';
import { errorProps, validateWith } from '../client/fieldErrors';
import { formatWhen, userLabel } from './gateWording';
import { HeadedTable } from './HeadedTable';

export interface TriadSectionProps {
  reviewId: number;
  triad: TriadView | null;
  me: string;
  busy: boolean;
  submitting: boolean;
  serverErrors: Record<string, string>;
  onGiveView: (reviewId: number, body: PerspectiveBody) => void;
}

/** A view in words: "no, we cannot build it", "yes, but it takes longer (3 weeks)", "we can sell it (at 90000)". */
export function viewWords(view: Pick<PerspectiveView, 'stance' | 'weeks' | 'value'>): string {
  return `${triadStanceLabels[view.stance]}${view.weeks === null ? '' : ` (${view.weeks} weeks)`}${view.value === null ? '' : ` (at ${view.value})`}`;
}

const whoList = (people: readonly { role: TriadRole; userId: string }[], me: string) => people.map((p) => `${userLabel(p.userId, me)} (${triadRoleLabels[p.role]})`).join(', ');

/**
 * The Triad on the deal (issue 14): every view heard so far, who has not weighed in, the caller's
 * own view if they hold a role, and after the call the dissent it overruled (disagree and commit).
 */
export function TriadSection({ reviewId, triad, me, busy, submitting, serverErrors, onGiveView }: TriadSectionProps) {
  if (!triad) return null;
  const maker = triadRoleLabels[triad.decisionMaker];
  return (
    <Flex direction="column" gap="xs" testId="triad">
      <Heading>Triad</Heading>
      <Text variant="microcopy" testId="triad-maker">{`Every view is heard; the ${maker} makes the call, and everyone executes it.`}</Text>
      {triad.views.length === 0 ? (
        <Text testId="triad-no-views">No view given yet.</Text>
      ) : (
        <HeadedTable testId="triad-views" headers={['Who', 'Role', 'View', 'Why', 'When']}>
          {triad.views.map((view, i) => (
            <TableRow key={`${view.userId}-${view.role}`} testId={`triad-view-${i}`}>
              <TableCell>{userLabel(view.userId, me)}</TableCell>
              <TableCell>{triadRoleLabels[view.role]}</TableCell>
              <TableCell>{viewWords(view)}</TableCell>
              <TableCell>{view.note}</TableCell>
              <TableCell>{formatWhen(view.at)}</TableCell>
            </TableRow>
          ))}
        </HeadedTable>
      )}
      {triad.notWeighedIn.length > 0 && (
        <Text testId="triad-not-weighed-in">{`${triad.call ? 'Had not weighed in when the call was made' : 'Not weighed in yet'}: ${whoList(triad.notWeighedIn, me)}.`}</Text>
      )}
      {triad.call && (
        <Alert title={triad.call.disagreeAndCommit ? 'Disagree and commit' : 'The call'} variant={triad.call.disagreeAndCommit ? 'warning' : 'info'} testId="triad-call">
          {triad.call.disagreeAndCommit
            ? `${userLabel(triad.call.decidedBy, me)} made the call against ${triad.call.dissent.map((v) => `${userLabel(v.userId, me)} (${triadRoleLabels[v.role]}: ${viewWords(v)}${v.note ? `: ${v.note}` : ''})`).join('; ')}. Everyone executes it.`
            : `${userLabel(triad.call.decidedBy, me)} made the call; every view given agreed with it.`}
        </Alert>
      )}
      {triad.canGiveView && triad.callerRole ? (
        <ViewForm key={`triad-${reviewId}-${triad.history.length}`} reviewId={reviewId} role={triad.callerRole} busy={busy} submitting={submitting} serverErrors={serverErrors} onGiveView={onGiveView} />
      ) : (
        triad.callerRole && triad.giveViewDenied && <Text variant="microcopy" testId="triad-view-denied">{`You cannot give a view now: ${triad.giveViewDenied}.`}</Text>
      )}
    </Flex>
  );
}

function ViewForm({ reviewId, role, busy, submitting, serverErrors, onGiveView }: Omit<TriadSectionProps, 'triad' | 'me'> & { role: TriadRole }) {
  const stances: readonly TriadStance[] = triadStances[role];
  const [stance, setStance] = useState<TriadStance | undefined>(undefined);
  const [note, setNote] = useState('');
  const [weeks, setWeeks] = useState<number | undefined>(undefined);
  const [value, setValue] = useState<number | undefined>(undefined);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const shown = { ...serverErrors, ...errors };

  const submit = () => {
    const input: Record<string, unknown> = { stance, note };
    if (stance === 'yes_but' && weeks !== undefined) input.weeks = weeks;
    if (role === 'product_marketing' && value !== undefined) input.value = value;
    const result = validateWith(perspectiveBody, input);
    if (!result.ok) {
      setErrors(result.errors);
      return;
    }
    setErrors({});
    onGiveView(reviewId, result.value);
  };

  return (
    <Flex direction="column" gap="sm" testId="triad-form">
      <Text format={{ fontWeight: 'demibold' }}>{`Your view, as ${triadRoleLabels[role]}`}</Text>
      <Select
        label="Your view"
        name="stance"
        testId="triad-form-stance"
        required
        value={stance}
        options={stances.map((s) => ({ value: s, label: triadStanceLabels[s] }))}
        {...errorProps(shown, 'stance')}
        onChange={(v) => setStance(stances.find((s) => s === v))}
      />
      {stance === 'yes_but' && (
        <NumberInput label="How many weeks it takes" name="weeks" testId="triad-form-weeks" min={0} value={weeks} {...errorProps(shown, 'weeks')} onChange={(v) => setWeeks(Number.isFinite(v) ? v : undefined)} />
      )}
      {role === 'product_marketing' && (
        <NumberInput label="The value you can sell it at (optional)" name="value" testId="triad-form-value" min={0} value={value} {...errorProps(shown, 'value')} onChange={(v) => setValue(Number.isFinite(v) ? v : undefined)} />
      )}
      <TextArea label="Why (required for a view against it)" name="note" testId="triad-form-note" value={note} {...errorProps(shown, 'note')} onChange={(v) => setNote(v)} />
      <LoadingButton variant="primary" testId="triad-form-send" loading={submitting} disabled={busy} onClick={submit}>
        Give your view
      </LoadingButton>
    </Flex>
  );
}
