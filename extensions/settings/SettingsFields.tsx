import { Input, NumberInput, Select, Toggle } from '@hubspot/ui-extensions';
import type { TriggerMode } from '../contract/api';
import { CapacitySharesFields } from './CapacitySharesFields';
import { PeopleLoadAlert, PeoplePicker } from './PeoplePicker';
import type { SettingsDraftForm } from './useSettingsDraft';

/** The settings page's groups of fields, in the order the page shows them; each reads and sets the one draft. */
type GroupProps = { form: SettingsDraftForm };

const triggerModeOptions: { value: TriggerMode; label: string }[] = [
  { value: 'amount', label: 'The amount (at or above the threshold)' },
  { value: 'effort', label: 'The engineering effort (at or above the effort threshold)' },
  { value: 'either', label: 'Either the amount or the effort' },
  { value: 'both', label: 'Both the amount and the effort' },
];

/** What makes review required: the amount, the effort, or both. */
export function TriggerFields({ form: { draft, set, field, numberField } }: GroupProps) {
  return (
    <>
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
    </>
  );
}

/** Which stage is the gate (by name, or chosen per pipeline), how far an approval stretches, and what a won deal without one gets. */
export function GateRuleFields({ form: { response, draft, set, field, textField, numberField } }: GroupProps) {
  return (
    <>
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
    </>
  );
}

/** Who reviews, who is escalated to, who administers, and who else may break the glass: chosen from the account's users. */
export function PeopleFields({ form: { people, peopleField } }: GroupProps) {
  return (
    <>
      <PeopleLoadAlert load={people} testId="settings-people-error" />
      <PeoplePicker label="Reviewers (the account's users who answer reviews)" testId="settings-reviewers" multiple {...peopleField('reviewers')} />
      <PeoplePicker label="Escalation reviewer (optional)" testId="settings-escalation" multiple={false} {...peopleField('escalationReviewer')} />
      <PeoplePicker label="Admins (who change these settings)" testId="settings-admins" multiple {...peopleField('admins')} />
      <PeoplePicker
        label="May break the glass besides the admins"
        testId="settings-break-glass-users"
        description="They, and the admins, may let one deal pass the gate without review for at most 7 days, with a reason."
        multiple
        {...peopleField('breakGlassUsers')}
      />
    </>
  );
}

/** The review's SLA and when the reviewers are reminded of it. */
export function ReminderFields({ form: { textField, numberField } }: GroupProps) {
  return (
    <>
      <NumberInput label="Review SLA (hours)" testId="settings-sla-hours" min={1} max={336} {...numberField('slaHours')} />
      <Input
        label="Remind reviewers at (% of the SLA elapsed, comma-separated)"
        testId="settings-reminder-shares"
        description="Besides HubSpot's reminder on their task, Dealgate reminds the reviewers (or who covers for them) once at each point."
        {...textField('reminderSharesPercent')}
      />
      <Input label="Remind reviewers (hours before the due time, comma-separated)" testId="settings-reminder-hours" {...textField('reminderHoursBeforeDue')} />
    </>
  );
}

/** Engineering's capacity per quarter and its shares, when the account tracks it. */
export function CapacityFields({ form: { draft, set, readOnly, numberField } }: GroupProps) {
  return (
    <>
      <Toggle
        label="Track engineering capacity for customer commitments"
        name="capacityEnabled"
        testId="settings-capacity-enabled"
        checked={draft.capacityEnabled}
        readonly={readOnly}
        onChange={(checked) => set('capacityEnabled', checked)}
      />
      {draft.capacityEnabled && (
        <NumberInput label="Engineering capacity (engineer-weeks per quarter)" testId="settings-capacity-weeks" min={0} {...numberField('engineerWeeksPerQuarter')} />
      )}
      {draft.capacityEnabled && (
        <NumberInput label="Share for customer commitments (%)" testId="settings-capacity-share" min={0} max={100} {...numberField('commitmentSharePercent')} />
      )}
      {draft.capacityEnabled && <CapacitySharesFields draft={draft} maintenanceField={numberField('maintenanceSharePercent')} />}
    </>
  );
}

/** Engineering's revenue goal per quarter (optional). */
export function RevenueGoalField({ form: { numberField } }: GroupProps) {
  return (
    <NumberInput
      label="Engineering's revenue goal per quarter (optional)"
      testId="settings-revenue-goal"
      description="In the account's currency: deals won in the quarter whose commitments engineering approved count toward it. Empty for no goal."
      min={0}
      {...numberField('revenueGoal')}
    />
  );
}
