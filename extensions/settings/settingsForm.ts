import { settingsBody, type CapacitySharesView, type Settings, type TriggerMode, DEFAULT_REMINDERS, type ReminderSettings } from '../contract/api';
import { defaultMaintenanceShare, sharesOverWhole } from '../contract/capacityShares';
import { validateWith } from '../client/fieldErrors';
import { triadCandidateOf, triadDraftOf, triadFormFieldOf, type TriadDraft } from './triadForm';

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
  /** Percent kept for maintenance and technical debt, 0-100. */
  maintenanceSharePercent: number | undefined;
  /** Percent the amount may grow past the approved one before review is required again. */
  amountTolerancePercent: number | undefined;
  afterClose: 'revert' | 'flag';
  /** Engineering's revenue goal per quarter; undefined: no goal. */
  revenueGoal: number | undefined;
  /** The Triad and disagree-and-commit (off unless an admin turns it on). */
  triad: TriadDraft;
  /** Issue 15: engineer-weeks at or above which a commitment needs review (undefined: none). */
  effortThreshold: number | undefined;
  triggerMode: TriggerMode;
  /** Who may break the glass besides the admins (user ids, comma-separated). */
  breakGlassUsers: string;
  /** Reminders (issue 15): percents of the SLA elapsed, and hours before the due time, comma-separated. */
  reminderSharesPercent: string;
  reminderHoursBeforeDue: string;
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
    maintenanceSharePercent: toPercent(settings.capacity ? settings.capacity.maintenanceShare ?? defaultMaintenanceShare(settings.capacity.commitmentShare) : defaultMaintenanceShare(0)),
    amountTolerancePercent: Math.round(settings.amountTolerance * 10000) / 100,
    afterClose: settings.afterClose,
    revenueGoal: settings.revenueGoal ?? undefined,
    triad: triadDraftOf(settings.triad),
    effortThreshold: settings.effortThreshold ?? undefined,
    triggerMode: settings.triggerMode ?? 'amount',
    breakGlassUsers: (settings.breakGlassUsers ?? []).join(', '),
    ...reminderDraftOf(settings.reminders ?? DEFAULT_REMINDERS),
  };
}

function toPercent(share: number): number {
  return Math.round(share * 10000) / 100;
}

/**
 * The quarter's three shares as the draft has them (percent and engineer-weeks), for the page to
 * show while the admin types; `over`: why the customer and maintenance shares do not fit.
 */
export function draftShares(draft: SettingsDraft): { shares: CapacitySharesView | null; over: string | null } {
  const weeks = draft.engineerWeeksPerQuarter;
  const customer = draft.commitmentSharePercent;
  const maintenance = draft.maintenanceSharePercent;
  if (!draft.capacityEnabled || customer === undefined || maintenance === undefined) return { shares: null, over: null };
  const over = sharesOverWhole(customer / 100, maintenance / 100);
  if (over !== null || weeks === undefined) return { shares: null, over };
  const part = (percent: number) => ({ share: percent / 100, weeks: Math.round(weeks * percent) / 100 });
  return { shares: { customer: part(customer), maintenance: part(maintenance), product: part(Math.max(0, Math.round((100 - customer - maintenance) * 100) / 100)) }, over: null };
}

function reminderDraftOf(reminders: ReminderSettings): Pick<SettingsDraft, 'reminderSharesPercent' | 'reminderHoursBeforeDue'> {
  return {
    reminderSharesPercent: reminders.atSlaShares.map((share) => String(Math.round(share * 10000) / 100)).join(', '),
    reminderHoursBeforeDue: reminders.hoursBeforeDue.map(String).join(', '),
  };
}

/** "50, 75" -> [50, 75]; an entry that is no number stays NaN, which the schema refuses for its field. */
function numberList(text: string): number[] {
  return idList(text).map(Number);
}

/** The ids of a list field's text (comma, space or semicolon separated). */
export function idList(text: string): string[] {
  return text
    .split(/[\s,;]+/)
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/** An entry of a list the form shows as one text field: "reviewers.2" -> list "reviewers", index 2. */
const listEntry = /^(reviewers|admins|breakGlassUsers)\.(\d+)$/;

/** The fields the form shows; an issue deeper in a list ("reviewers.2") belongs to the list's field. */
export function formFieldOf(path: string): string {
  const entry = listEntry.exec(path);
  if (entry?.[1] !== undefined) return entry[1];
  if (path.startsWith('gateStages.')) return 'gateStages';
  if (path === 'capacity.commitmentShare') return 'commitmentSharePercent';
  if (path === 'capacity.maintenanceShare') return 'maintenanceSharePercent';
  if (path === 'capacity.engineerWeeksPerQuarter') return 'engineerWeeksPerQuarter';
  if (path === 'amountTolerance') return 'amountTolerancePercent';
  if (path.startsWith('triad.')) return triadFormFieldOf(path);
  if (path.startsWith('reminders.atSlaShares')) return 'reminderSharesPercent';
  if (path.startsWith('reminders.hoursBeforeDue')) return 'reminderHoursBeforeDue';
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
          maintenanceShare: draft.maintenanceSharePercent === undefined ? undefined : draft.maintenanceSharePercent / 100,
        }
      : null,
    amountTolerance: draft.amountTolerancePercent === undefined ? undefined : draft.amountTolerancePercent / 100,
    afterClose: draft.afterClose,
    // No goal is left out (the saved document replaces the last one, so that clears it too).
    ...(draft.revenueGoal === undefined ? {} : { revenueGoal: draft.revenueGoal }),
    triad: triadCandidateOf(draft.triad, idList),
    // Issue 15's fields are left out at their defaults (a PUT replaces the whole document, and an
    // absent field is the default): what the page saves is what an older page saved.
    ...(draft.effortThreshold === undefined ? {} : { effortThreshold: draft.effortThreshold }),
    ...(draft.triggerMode === 'amount' ? {} : { triggerMode: draft.triggerMode }),
    ...(idList(draft.breakGlassUsers).length === 0 ? {} : { breakGlassUsers: idList(draft.breakGlassUsers) }),
    reminders: {
      atSlaShares: numberList(draft.reminderSharesPercent).map((percent) => percent / 100),
      hoursBeforeDue: numberList(draft.reminderHoursBeforeDue),
    },
  };
  const result = validateWith(settingsBody, candidate);
  if (!result.ok) return { ok: false, errors: errorsByFormField(result.errors, candidate) };
  return { ok: true, settings: result.value };
}
