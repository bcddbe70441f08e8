import { Flex, Heading, Input, Select, Text, Toggle } from '@hubspot/ui-extensions';
import { triadRoleLabels, triadRoles, type Person, type TriadRole } from '../contract/api';
import { errorProps } from '../client/fieldErrors';
import { PeoplePicker } from './PeoplePicker';
import type { TriadDraft } from './triadForm';

export interface TriadSettingsSectionProps {
  draft: TriadDraft;
  errors: Record<string, string>;
  readOnly: boolean;
  onChange: (draft: TriadDraft) => void;
  /**
   * The account's users (usePeople; null while loading): given, each role is chosen by name with a
   * PeoplePicker (issue 15); not given (a page that does not pass them yet), the roles are typed ids.
   */
  people?: readonly Person[] | null;
  /** People the settings response names, so chosen ids read as names before the list loads. */
  named?: readonly Person[];
}

const idsOf = (text: string) => [...new Set(text.split(',').map((id) => id.trim()).filter((id) => id !== ''))];
const roleTitle = (role: TriadRole) => `${triadRoleLabels[role].charAt(0).toUpperCase()}${triadRoleLabels[role].slice(1)}`;

const roleOptions = triadRoles.map((role) => ({ value: role, label: triadRoleLabels[role] }));

/**
 * The Triad on the settings page (issue 14): off, one designated reviewer decides, as before; on,
 * the named tech lead, product manager and product marketing give their views and the chosen role
 * makes the call (the service refuses an enabled Triad whose decision maker names nobody).
 */
export function TriadSettingsSection({ draft, errors, readOnly, onChange, people, named }: TriadSettingsSectionProps) {
  const setMembers = (role: TriadRole, text: string) => onChange({ ...draft, members: { ...draft.members, [role]: text } });
  return (
    <Flex direction="column" gap="sm" testId="settings-triad">
      <Heading>Triad (disagree and commit)</Heading>
      <Text variant="microcopy">
        Off: one designated reviewer decides. On: the tech lead, the product manager and product marketing each give their view on the card, and the
        decision maker makes the call, before every view is in if need be; a call against a view is noted as disagree-and-commit.
      </Text>
      <Toggle label="Review as a Triad" name="triad.enabled" testId="settings-triad-enabled" checked={draft.enabled} readonly={readOnly} onChange={(checked) => onChange({ ...draft, enabled: checked })} />
      {triadRoles.map((role) =>
        people !== undefined ? (
          <PeoplePicker
            key={role}
            label={roleTitle(role)}
            name={`triad.members.${role}`}
            testId={`settings-triad-${role}`}
            people={people}
            named={named}
            chosen={idsOf(draft.members[role])}
            multiple
            readOnly={readOnly}
            {...errorProps(errors, `triad.members.${role}`)}
            onChange={(ids) => setMembers(role, ids.join(', '))}
          />
        ) : (
          <Input
            key={role}
            label={`${roleTitle(role)} (HubSpot user ids, comma-separated)`}
            name={`triad.members.${role}`}
            testId={`settings-triad-${role}`}
            value={draft.members[role]}
            readOnly={readOnly}
            {...errorProps(errors, `triad.members.${role}`)}
            onChange={(text) => setMembers(role, text)}
          />
        ),
      )}
      <Select
        label="Who makes the call"
        name="triad.decisionMaker"
        testId="settings-triad-decision-maker"
        value={draft.decisionMaker}
        options={roleOptions}
        readOnly={readOnly}
        {...errorProps(errors, 'triad.decisionMaker')}
        onChange={(value) => onChange({ ...draft, decisionMaker: triadRoles.find((r) => r === value) ?? draft.decisionMaker })}
      />
    </Flex>
  );
}
