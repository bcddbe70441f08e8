import { useState } from 'react';
import type { SettingsResponse } from '../contract/api';
import { errorProps } from '../client/fieldErrors';
import type { PeopleLoad } from './PeoplePicker';
import { draftOf, errorsByFormField, idList, settingsFromDraft, type SettingsDraft } from './settingsForm';

/** The draft's fields whose value is a `T`. */
type DraftKey<T> = { [K in keyof SettingsDraft]: SettingsDraft[K] extends T ? K : never }[keyof SettingsDraft];

/** The draft's fields that name people: the picker chooses their ids. */
export type PeopleKey = 'reviewers' | 'admins' | 'escalationReviewer' | 'breakGlassUsers';

export interface SaveFailure {
  message: string;
  fieldErrors: Record<string, string>;
}

export type SaveSettings = (settings: SettingsResponse['settings']) => Promise<SaveFailure | null>;

/** The settings form's state: the draft, its errors, the save; and each field's props from its draft key. */
export type SettingsDraftForm = ReturnType<typeof useSettingsDraft>;

/**
 * The draft of the settings page, validated with the API's schema before the save; the service's
 * field errors land on the fields they name. A field's name, value, change handler and error all
 * come from its draft key, so they cannot drift apart.
 */
export function useSettingsDraft(response: SettingsResponse, people: PeopleLoad, onSave: SaveSettings) {
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
  const textField = (name: DraftKey<string>) => ({ name, value: draft[name], onChange: (v: string) => set(name, v), ...field(name) });
  // A people field keeps its draft as the ids' text (settingsForm validates it as before); the picker chooses the ids.
  const peopleField = (name: PeopleKey) => ({
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
  return { response, people, draft, set, errors, failure, saving, readOnly, save, field, textField, peopleField, numberField };
}
