import { Alert, NumberInput, Text } from '@hubspot/ui-extensions';
import { sharesLine } from '../card/capacityWording';
import { draftShares, type SettingsDraft } from './settingsForm';

/** The page's number field props for one draft key (SettingsPage's numberField). */
type NumberFieldProps = Omit<React.ComponentProps<typeof NumberInput>, 'label'>;

/**
 * The quarter in three (issue 14): the maintenance and technical debt share beside the customer
 * share, and the split as it stands while the admin types (percent and engineer-weeks). Shares
 * that add up to more than the whole quarter are said here before the save, and refused by it.
 */
export function CapacitySharesFields({ draft, maintenanceField }: { draft: SettingsDraft; maintenanceField: NumberFieldProps }) {
  const { shares, over } = draftShares(draft);
  return (
    <>
      <NumberInput
        label="Share for maintenance and technical debt (%)"
        testId="settings-capacity-maintenance"
        description="Kept whatever sales promises; product work gets the rest."
        min={0}
        max={100}
        {...maintenanceField}
      />
      {shares && (
        <Text variant="microcopy" testId="settings-capacity-split">
          {`Each quarter: ${sharesLine(shares)}.`}
        </Text>
      )}
      {over && (
        <Alert title="The shares do not fit in one quarter" variant="error" testId="settings-capacity-over">
          {`${over.charAt(0).toUpperCase()}${over.slice(1)}.`}
        </Alert>
      )}
    </>
  );
}
