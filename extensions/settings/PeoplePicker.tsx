import { useEffect, useState } from 'react';
import { Alert, MultiSelect, Select } from '@hubspot/ui-extensions';
import { personLabel, type Person } from '../contract/api';
import type { ServiceClient } from '../client/serviceClient';

/**
 * Choosing people from the account's HubSpot users instead of typing ids (issue 15). One picker
 * for every field that names people (reviewers, admins, the escalation reviewer, and the Triad
 * roles and delegates other parts of the settings add): the options are the account's users by
 * name (GET /api/v1/people); someone already chosen whom the list does not hold (a removed user)
 * stays chosen and reads as their id, so saving other fields does not drop them unseen.
 */

/** The account's users, loaded once per page; null while loading, or when the service did not answer (the pickers then show only who is chosen). */
export interface PeopleLoad {
  people: Person[] | null;
  error: string | null;
}

/** `enabled`: load only once the page itself has loaded (an account that never installed gets nothing either way). */
export function usePeople(client: Pick<ServiceClient, 'getPeople'>, enabled = true): PeopleLoad {
  const [load, setLoad] = useState<PeopleLoad>({ people: null, error: null });
  useEffect(() => {
    if (!enabled) return undefined;
    let current = true;
    void client.getPeople().then((result) => {
      if (!current) return;
      setLoad(result.ok ? { people: result.body.people, error: null } : { people: null, error: result.message });
    });
    return () => {
      current = false;
    };
  }, [client, enabled]);
  return load;
}

/** Says so when the account's users could not be read: the pickers offer only who is chosen now. */
export function PeopleLoadAlert({ load, testId }: { load: PeopleLoad; testId: string }) {
  if (load.error === null) return null;
  return (
    <Alert title="The account's users could not be loaded" variant="warning" testId={testId}>
      {`Only the people chosen already are listed (${load.error}). Reload the page to pick others.`}
    </Alert>
  );
}

/** The options: the account's users by name, then anyone chosen whom the list does not hold. */
export function pickerOptions(people: readonly Person[], chosen: readonly string[], named: readonly Person[] = []): { label: string; value: string }[] {
  const options = people.map((p) => ({ label: optionLabel(p), value: p.userId }));
  for (const id of chosen) {
    if (options.some((o) => o.value === id)) continue;
    const known = named.find((p) => p.userId === id);
    options.push({ label: `${known ? personLabel(known) : `user ${id}`} (not a user of this account)`, value: id });
  }
  return options;
}

function optionLabel(person: Person): string {
  const label = personLabel(person);
  return person.email && label !== person.email ? `${label} (${person.email})` : label;
}

export interface PeoplePickerProps {
  label: string;
  name: string;
  testId: string;
  /** The account's users (usePeople); null while they are not loaded. */
  people: readonly Person[] | null;
  /** The user ids chosen now. */
  chosen: readonly string[];
  /** People the settings response names (SettingsResponse.people), so chosen ids read as names even before the list loads. */
  named?: readonly Person[];
  /** Several people (reviewers, admins) or one (the escalation reviewer; "nobody" allowed). */
  multiple: boolean;
  onChange: (userIds: string[]) => void;
  readOnly?: boolean;
  error?: boolean;
  validationMessage?: string;
  description?: string;
}

export function PeoplePicker(props: PeoplePickerProps) {
  const options = pickerOptions(props.people ?? props.named?.filter((p) => props.chosen.includes(p.userId)) ?? [], props.chosen, props.named);
  const common = {
    label: props.label,
    name: props.name,
    testId: props.testId,
    readOnly: props.readOnly,
    error: props.error,
    validationMessage: props.validationMessage,
    description: props.description,
  };
  if (props.multiple) {
    return <MultiSelect {...common} options={options} value={[...props.chosen]} onChange={(values) => props.onChange(values.map(String))} />;
  }
  return (
    <Select
      {...common}
      options={[{ label: 'Nobody', value: '' }, ...options]}
      value={props.chosen[0] ?? ''}
      onChange={(value) => props.onChange(String(value) === '' ? [] : [String(value)])}
    />
  );
}
