import { Alert, Heading, Text } from '@hubspot/ui-extensions';
import { personLabel, type SettingsResponse } from '../contract/api';
import { formatWhen, settingsChangeLine } from '../card/gateWording';
import { backfillLine } from './backfillWording';

/** Above the fields: when and by whom the settings were saved, the backfill, warnings, read only, a failed save. */
export function SettingsNotices({ response, readOnly, failure }: { response: SettingsResponse; readOnly: boolean; failure: string | null }) {
  return (
    <>
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
    </>
  );
}

/** Below the save: the settings' recent changes. */
export function SettingsChanges({ response }: { response: SettingsResponse }) {
  return (
    <>
      {response.changes.length > 0 && <Heading>Recent changes</Heading>}
      {response.changes.map((change) => (
        <Text key={change.id} variant="microcopy" testId={`settings-change-${change.id}`}>
          {settingsChangeLine(change, response.pipelines)}
        </Text>
      ))}
    </>
  );
}
