import { useCallback, useMemo } from 'react';
import { Flex, Heading, LoadingButton } from '@hubspot/ui-extensions';
import type { ExtensionPointApi } from '@hubspot/ui-extensions';
import type { SettingsResponse } from '../contract/api';
import { createServiceClient, DEFAULT_SERVICE_URL, type ServiceFetcher } from '../client/serviceClient';
import { NotLoaded, useServiceLoad } from '../client/useServiceLoad';
import { usePeople, type PeopleLoad } from './PeoplePicker';
import { TriadSettingsSection } from './TriadSettingsSection';
import { CapacityFields, GateRuleFields, PeopleFields, ReminderFields, RevenueGoalField, TriggerFields } from './SettingsFields';
import { SettingsChanges, SettingsNotices } from './SettingsNotices';
import { useSettingsDraft, type SaveSettings } from './useSettingsDraft';

type SettingsApi = ExtensionPointApi<'settings'>;

export interface SettingsPageProps {
  actions: Pick<SettingsApi['actions'], 'addAlert'>;
  fetcher: ServiceFetcher;
  baseUrl?: string;
}

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

/** The form: notices, the groups of fields (SettingsFields.tsx), the Triad, the save and the recent changes. */
function SettingsForm({ response, people, onSave }: { response: SettingsResponse; people: PeopleLoad; onSave: SaveSettings }) {
  const form = useSettingsDraft(response, people, onSave);
  const { draft, set, errors, saving, readOnly, save } = form;
  return (
    <Flex direction="column" gap="md" testId="settings-form">
      <Heading>Dealgate settings</Heading>
      <SettingsNotices response={response} readOnly={readOnly} failure={form.failure} />
      <TriggerFields form={form} />
      <GateRuleFields form={form} />
      <PeopleFields form={form} />
      <ReminderFields form={form} />
      <CapacityFields form={form} />
      <RevenueGoalField form={form} />
      <TriadSettingsSection draft={draft.triad} errors={errors} readOnly={readOnly} onChange={(triad) => set('triad', triad)} people={people.people} named={response.people} />
      {!readOnly && (
        <LoadingButton variant="primary" testId="settings-save" loading={saving} disabled={saving} onClick={save}>
          Save settings
        </LoadingButton>
      )}
      <SettingsChanges response={response} />
    </Flex>
  );
}
