import { useCallback, useMemo, useState } from 'react';
import { Alert, Flex, Heading, Input, LoadingButton, NumberInput, Select, Text, Toggle } from '@hubspot/ui-extensions';
import type { ExtensionPointApi } from '@hubspot/ui-extensions';
import type { TriggerMode } from '../contract/api';
import { personLabel, type SettingsResponse } from '../contract/api';
import { createServiceClient, DEFAULT_SERVICE_URL, type ServiceFetcher } from '../client/serviceClient';
import { NotLoaded, useServiceLoad } from '../client/useServiceLoad';
import { errorProps } from '../client/fieldErrors';
import { formatWhen, settingsChangeLine } from '../card/gateWording';
import { draftOf, errorsByFormField, settingsFromDraft, type SettingsDraft, idList } from './settingsForm';
import { CapacitySharesFields } from './CapacitySharesFields';
import { PeopleLoadAlert, PeoplePicker, usePeople, type PeopleLoad } from './PeoplePicker';
import { backfillLine } from './backfillWording';
import { TriadSettingsSection } from './TriadSettingsSection';

type SettingsApi = ExtensionPointApi<'settings'>;

export interface SettingsPageProps {
  actions: Pick<SettingsApi['actions'], 'addAlert'>;
  fetcher: ServiceFetcher;
  baseUrl?: string;
}

const triggerModeOptions: { value: TriggerMode; label: string }[] = [
  { value: 'amount', label: 'The amount (at or above the threshold)' },
  { value: 'effort', label: 'The engineering effort (at or above the effort threshold)' },
  { value: 'either', label: 'Either the amount or the effort' },
  { value: 'both', label: 'Both the amount and the effort' },
];

/** Dealgate's settings for the account: admins change them, everyone else reads them. */
export function SettingsPage({ actions, fetcher, baseUrl = DEFAULT_SERVICE_URL }: SettingsPageProps) {
  const client = useMemo(() => createServiceClient(fetcher, baseUrl), [fetcher, baseUrl]);
  const read = useCallback(() => client.getSettings(), [client]);
  const { state, load, begin } = useServiceLoad(read);
  const people = usePeople(client, state.kind === 'loaded');

  if (state.kind !== 'loaded') {
    return (
      <NotLoaded
        state={state}
        retry={load}
        testIdPrefix="settings"
        loadingLabel="Loading Dealgate's settings"
        // GET /settings is open to everyone in an installed account: a 403 means the account never installed Dealgate.
        forbiddenTitle="Dealgate is not available in this HubSpot account"
        errorTitle="Dealgate could not load its settings"
      />
    );
  }
  return (
    <SettingsForm
      key={state.body.updatedAt ?? 'defaults'}
      response={state.body}
      people={people}
      onSave={async (settings) => {
        const land = begin();
        const result = await client.putSettings(settings);
        if (result.ok) {
          land(result.body);
          actions.addAlert({ type: 'success', message: 'Settings saved: they apply to every deal from now on.' });
          return null;
        }
        return { message: result.message, fieldErrors: result.fieldErrors };
      }}
    />
  );
}

/** The draft's fields whose value is a `T`. */
type DraftKey<T> = { [K in keyof SettingsDraft]: SettingsDraft[K] extends T ? K : never }[keyof SettingsDraft];

interface SaveFailure {
  message: string;
  fieldErrors: Record<string, string>;
}

function SettingsForm({ response, people, onSave }: { response: SettingsResponse; people: PeopleLoad; onSave: (s: SettingsResponse['settings']) => Promise<SaveFailure | null> }) {
  const [draft, setDraft] = useState<SettingsDraft>(() => draftOf(response.settings));
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [failure, setFailure] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);
  const readOnly = !response.canEdit;
  const set = <K extends keyof SettingsDraft>(key: K, value: SettingsDraft[K]) => setDraft((d) => ({ ...d, [key]: value }));

  const save = () => {
    if (saving) return;
    const result = settingsFromDraft(draft);
    if (!result.ok) {
      setErrors(result.errors);
      setFailure(null);
      return;
    }
    setErrors({});
    setFailure(null);
    setSaving(true);
    void onSave(result.settings).then((failed) => {
      setSaving(false);
      if (failed) {
        setFailure(failed.message);
        setErrors(errorsByFormField(failed.fieldErrors, {}));
      }
    });
  };
  const field = (name: string) => ({ ...errorProps(errors, name), readOnly });
  // A field's name, value, change handler and error all come from its draft key, so they cannot drift apart.
  const textField = (name: DraftKey<string>) => ({ name, value: draft[name], onChange: (v: string) => set(name, v), ...field(name) });
  // A people field keeps its draft as the ids' text (settingsForm validates it as before); the picker chooses the ids.
  const peopleField = (name: 'reviewers' | 'admins' | 'escalationReviewer') => ({
    name,
    people: people.people,
    named: response.people,
    chosen: idList(draft[name]),
    onChange: (ids: string[]) => set(name, ids.join(', ')),
    ...field(name),
  });
  const numberField = (name: DraftKey<number | undefined>) => ({
    name,
    value: draft[name],
    onChange: (v: number) => set(name, Number.isFinite(v) ? v : undefined),
    ...field(name),
  });

  return (
    <Flex direction="column" gap="md" testId="settings-form">
      <Heading>Dealgate settings</Heading>
      <Text variant="microcopy" testId="settings-updated">
        {response.updatedAt
          ? `Last saved ${formatWhen(response.updatedAt)} by ${response.updatedByPerson ? personLabel(response.updatedByPerson) : response.updatedBy === null ? 'unknown' : `user ${response.updatedBy}`}.`
          : "Not saved yet: these are the service's defaults."}
      </Text>
      {response.backfill && (
        <Text variant="microcopy" testId="settings-backfill">
          {backfillLine(response.backfill)}
        </Text>
      )}
      {response.warnings.map((warning, i) => (
        <Alert key={warning} title="Not gated" variant="warning" testId={`settings-warning-${i}`}>
          {warning}
        </Alert>
      ))}
      {readOnly && (
        <Alert title="Read only" variant="info" testId="settings-read-only">
          Only Dealgate admins change these settings.
        </Alert>
      )}
      {failure && (
        <Alert title="Settings not saved" variant="error" testId="settings-save-error">
          {failure}
        </Alert>
      )}
      <NumberInput
        label="Deal amount threshold"
        testId="settings-threshold"
        description="Deals with a feature commitment at or above this amount need engineering's sign-off."
        min={0}
        {...numberField('valueThreshold')}
      />
      <Select
        label="What makes review required"
        name="triggerMode"
        testId="settings-trigger-mode"
        value={draft.triggerMode}
        options={triggerModeOptions}
        onChange={(v) => set('triggerMode', triggerModeOptions.find((o) => o.value === v)?.value ?? 'amount')}
        {...field('triggerMode')}
      />
      <NumberInput
        label="Effort threshold (engineer-weeks)"
        testId="settings-effort-threshold"
        description="Commitments estimated at or above this effort need review when the rule above looks at the effort. A commitment with no estimate counts as meeting it."
        min={0}
        {...numberField('effortThreshold')}
      />
      <Input
        label="Gate stage name"
        testId="settings-gate-stage-label"
        description="In pipelines without an explicit choice below, the stage with this name is the gate."
        {...textField('gateStageLabel')}
      />
      {response.pipelines.map((pipeline) => (
        <Select
          key={pipeline.id}
          label={`Gate stage in "${pipeline.label}"`}
          name={`gateStages.${pipeline.id}`}
          testId={`settings-gate-stage-${pipeline.id}`}
          value={draft.gateStages[pipeline.id] ?? ''}
          options={[
            { value: '', label: 'By stage name (above)' },
            // The gate is an open stage deals pass through: the service refuses a closed one.
            ...pipeline.stages
              .filter((s) => !s.isClosed)
              .sort((a, b) => a.displayOrder - b.displayOrder)
              .map((s) => ({ value: s.id, label: s.label })),
          ]}
          onChange={(v) => set('gateStages', { ...draft.gateStages, [pipeline.id]: String(v) })}
          {...field('gateStages')}
        />
      ))}
      <NumberInput
        label="Amount tolerance of an approval (%)"
        testId="settings-amount-tolerance"
        description="An approval covers the amount it was given at plus this much; above it, review is required again."
        min={0}
        {...numberField('amountTolerancePercent')}
      />
      <Select
        label="A won deal without sign-off"
        name="afterClose"
        testId="settings-after-close"
        value={draft.afterClose}
        options={[
          { value: 'revert', label: 'Move it back to the gate stage (note and violation)' },
          { value: 'flag', label: 'Leave it won and flag it (violation, tasks for its owner and the escalation reviewer)' },
        ]}
        onChange={(v) => set('afterClose', v === 'flag' ? 'flag' : 'revert')}
        {...field('afterClose')}
      />
      <PeopleLoadAlert load={people} testId="settings-people-error" />
      <PeoplePicker label="Reviewers (the account's users who answer reviews)" testId="settings-reviewers" multiple {...peopleField('reviewers')} />
      <PeoplePicker label="Escalation reviewer (optional)" testId="settings-escalation" multiple={false} {...peopleField('escalationReviewer')} />
      <PeoplePicker label="Admins (who change these settings)" testId="settings-admins" multiple {...peopleField('admins')} />
      <Input
        label="May break the glass besides the admins (HubSpot user ids, comma-separated)"
        testId="settings-break-glass-users"
        description="They, and the admins, may let one deal pass the gate without review for at most 7 days, with a reason."
        {...textField('breakGlassUsers')}
      />
      <NumberInput
        label="Review SLA (hours)"
        testId="settings-sla-hours"
        min={1}
        max={336}
        {...numberField('slaHours')}
      />
      <Input
        label="Remind reviewers at (% of the SLA elapsed, comma-separated)"
        testId="settings-reminder-shares"
        description="Besides HubSpot's reminder on their task, Dealgate reminds the reviewers (or who covers for them) once at each point."
        {...textField('reminderSharesPercent')}
      />
      <Input
        label="Remind reviewers (hours before the due time, comma-separated)"
        testId="settings-reminder-hours"
        {...textField('reminderHoursBeforeDue')}
      />
      <Toggle
        label="Track engineering capacity for customer commitments"
        name="capacityEnabled"
        testId="settings-capacity-enabled"
        checked={draft.capacityEnabled}
        readonly={readOnly}
        onChange={(checked) => set('capacityEnabled', checked)}
      />
      {draft.capacityEnabled && (
        <NumberInput
          label="Engineering capacity (engineer-weeks per quarter)"
          testId="settings-capacity-weeks"
          min={0}
          {...numberField('engineerWeeksPerQuarter')}
        />
      )}
      {draft.capacityEnabled && (
        <NumberInput
          label="Share for customer commitments (%)"
          testId="settings-capacity-share"
          min={0}
          max={100}
          {...numberField('commitmentSharePercent')}
        />
      )}
      {draft.capacityEnabled && <CapacitySharesFields draft={draft} maintenanceField={numberField('maintenanceSharePercent')} />}
      <NumberInput
        label="Engineering's revenue goal per quarter (optional)"
        testId="settings-revenue-goal"
        description="In the account's currency: deals won in the quarter whose commitments engineering approved count toward it. Empty for no goal."
        min={0}
        {...numberField('revenueGoal')}
      />
      <TriadSettingsSection draft={draft.triad} errors={errors} readOnly={readOnly} onChange={(triad) => set('triad', triad)} />
      {!readOnly && (
        <LoadingButton variant="primary" testId="settings-save" loading={saving} disabled={saving} onClick={save}>
          Save settings
        </LoadingButton>
      )}
      {response.changes.length > 0 && <Heading>Recent changes</Heading>}
      {response.changes.map((change) => (
        <Text key={change.id} variant="microcopy" testId={`settings-change-${change.id}`}>
          {settingsChangeLine(change, response.pipelines)}
        </Text>
      ))}
    </Flex>
  );
}
