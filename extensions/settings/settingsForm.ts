import { settingsBody, type Settings } from '../contract/api';
import { validateWith } from '../client/fieldErrors';

/**
 * The settings form as people type it (user ids as comma-separated text, the share in percent,
 * capacity on or off) and its translation to the API's `Settings`, validated with the API's schema.
 */
export interface SettingsDraft {
  valueThreshold: number | undefined;
  slaHours: number | undefined;
  reviewers: string;
  admins: string;
  escalationReviewer: string;
  gateStageLabel: string;
  /** pipeline id -> stage id; '' means "use the label rule". */
  gateStages: Record<string, string>;
  capacityEnabled: boolean;
  engineerWeeksPerQuarter: number | undefined;
  /** Percent, 0-100. */
  commitmentSharePercent: number | undefined;
  /** Percent the amount may grow past the approved one before review is required again. */
  amountTolerancePercent: number | undefined;
  afterClose: 'revert' | 'flag';
}

export function draftOf(settings: Settings): SettingsDraft {
  return {
    valueThreshold: settings.valueThreshold,
    slaHours: settings.slaHours,
    reviewers: settings.reviewers.join(', '),
    admins: settings.admins.join(', '),
    escalationReviewer: settings.escalationReviewer ?? '',
    gateStageLabel: settings.gateStageLabel,
    gateStages: { ...settings.gateStages },
    capacityEnabled: settings.capacity !== null,
    engineerWeeksPerQuarter: settings.capacity?.engineerWeeksPerQuarter,
    commitmentSharePercent: settings.capacity ? Math.round(settings.capacity.commitmentShare * 10000) / 100 : undefined,
    amountTolerancePercent: Math.round(settings.amountTolerance * 10000) / 100,
    afterClose: settings.afterClose,
  };
}

/** The ids of a list field's text (comma, space or semicolon separated). */
export function idList(text: string): string[] {
  return text
    .split(/[\s,;]+/)
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/** An entry of a list the form shows as one text field: "reviewers.2" -> list "reviewers", index 2. */
const listEntry = /^(reviewers|admins)\.(\d+)$/;

/** The fields the form shows; an issue deeper in a list ("reviewers.2") belongs to the list's field. */
export function formFieldOf(path: string): string {
  const entry = listEntry.exec(path);
  if (entry?.[1] !== undefined) return entry[1];
  if (path.startsWith('gateStages.')) return 'gateStages';
  if (path === 'capacity.commitmentShare') return 'commitmentSharePercent';
  if (path === 'capacity.engineerWeeksPerQuarter') return 'engineerWeeksPerQuarter';
  if (path === 'amountTolerance') return 'amountTolerancePercent';
  return path;
}

/** Field errors keyed by form field, naming the bad entry of a list ("bob: must be a HubSpot user id ..."). */
export function errorsByFormField(errors: Record<string, string>, candidate: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [path, message] of Object.entries(errors)) {
    const field = formFieldOf(path);
    const listItem = listEntry.exec(path);
    let text = message;
    if (listItem) {
      const list = candidate[listItem[1] ?? ''];
      const entry = Array.isArray(list) ? list[Number(listItem[2])] : undefined;
      if (typeof entry === 'string') text = `"${entry}" ${message}`;
    }
    out[field] ??= text;
  }
  return out;
}

export function settingsFromDraft(draft: SettingsDraft): { ok: true; settings: Settings } | { ok: false; errors: Record<string, string> } {
  const gateStages: Record<string, string> = {};
  for (const [pipeline, stage] of Object.entries(draft.gateStages)) if (stage !== '') gateStages[pipeline] = stage;
  const candidate: Record<string, unknown> = {
    valueThreshold: draft.valueThreshold,
    slaHours: draft.slaHours,
    reviewers: idList(draft.reviewers),
    admins: idList(draft.admins),
    escalationReviewer: draft.escalationReviewer.trim() === '' ? null : draft.escalationReviewer.trim(),
    gateStageLabel: draft.gateStageLabel,
    gateStages,
    capacity: draft.capacityEnabled
      ? {
          engineerWeeksPerQuarter: draft.engineerWeeksPerQuarter,
          commitmentShare: draft.commitmentSharePercent === undefined ? undefined : draft.commitmentSharePercent / 100,
        }
      : null,
    amountTolerance: draft.amountTolerancePercent === undefined ? undefined : draft.amountTolerancePercent / 100,
    afterClose: draft.afterClose,
  };
  const result = validateWith(settingsBody, candidate);
  if (!result.ok) return { ok: false, errors: errorsByFormField(result.errors, candidate) };
  return { ok: true, settings: result.value };
}
