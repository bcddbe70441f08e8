import type { DecisionOutcome, DealFlagKind, GateEvaluation, GateResponse, GateStatus, HistoryEntry, PipelineView, ReviewStatus, SettingsChangeView, Person } from '../contract/api';
import { triadSettingsWords } from './triadWording';
import { personLabel } from '../contract/api';

/** The words the card (and the demo's text rendering) uses for what the API returns. */

export type TagVariant = 'danger' | 'warning' | 'info' | 'success' | 'default';

export const gateStatusTag: Record<GateStatus, { label: string; variant: TagVariant }> = {
  not_required: { label: 'No review needed', variant: 'default' },
  required: { label: 'Review required', variant: 'warning' },
  pending: { label: 'Waiting for engineering', variant: 'info' },
  overdue: { label: 'Review overdue', variant: 'danger' },
  approved: { label: 'Approved', variant: 'success' },
  approved_with_conditions: { label: 'Approved with conditions', variant: 'success' },
  rejected: { label: 'Rejected', variant: 'danger' },
};

export const reviewStatusLabel: Record<ReviewStatus, string> = {
  pending: 'waiting for an answer',
  overdue: 'overdue',
  approved: 'approved',
  approved_with_conditions: 'approved with conditions',
  rejected: 'rejected',
  withdrawn: 'withdrawn',
  superseded: 'superseded by a changed commitment',
};

export const outcomeLabel: Record<DecisionOutcome, string> = {
  yes: 'Yes',
  yes_but: 'Yes, but',
  no: 'No',
};

const actionLabels: Record<string, string> = {
  review_requested: 'Review requested',
  review_decided: 'Answered',
  review_withdrawn: 'Request withdrawn',
  review_superseded: 'Superseded by a changed commitment',
  review_overdue: 'SLA missed',
  review_escalated: 'Escalated',
  commitment_deprioritized: 'Commitment deprioritized',
  gate_status_changed: 'Gate status changed',
  stage_move_reverted: 'Stage move reverted',
  gate_skip_reverted: 'Moved past the gate without sign-off',
  delivery_opened: 'Delivery promised',
  delivery_updated: 'Delivery updated',
  delivery_slipped: 'Delivery slipped',
  delivery_delivered: 'Delivered',
  delivery_overdue: 'Delivery overdue',
  triad_view_given: 'Triad view given',
  triad_call: 'Triad call made',
  triad_disagree_and_commit: 'Disagree and commit',
  break_glass_opened: 'Break-glass: let past the gate without review',
  break_glass_expired: 'Break-glass ended with no decision',
  break_glass_decided: 'Break-glass ended by the decision',
};

/** "review_requested" -> "Review requested"; unknown actions are spelled out rather than hidden. */
export function actionLabel(action: string): string {
  const known = actionLabels[action];
  if (known) return known;
  const words = action.replace(/_/g, ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** A gate or review status in words ("not_required" -> "no review needed"); unknown ones spelled out. */
const statusWords: Record<string, string> = {
  not_required: 'no review needed',
  required: 'review required',
  pending: 'waiting for an answer',
  overdue: 'overdue',
  approved: 'approved',
  approved_with_conditions: 'approved with conditions',
  rejected: 'rejected',
  withdrawn: 'withdrawn',
  superseded: 'superseded',
};

export function statusWord(status: string | null): string {
  if (status === null) return 'none';
  return statusWords[status] ?? status.replace(/_/g, ' ');
}

export function historyDetail(entry: HistoryEntry): string {
  const parts: string[] = [];
  if (entry.kind === 'violation' && (entry.fromStage || entry.toStage)) {
    parts.push(`${entry.fromStageLabel ?? entry.fromStage ?? '?'} -> ${entry.toStageLabel ?? entry.toStage ?? '?'}`);
  }
  if (entry.fromStatus !== entry.toStatus) parts.push(`${statusWord(entry.fromStatus)} -> ${statusWord(entry.toStatus)}`);
  if (entry.reason) parts.push(entry.reason);
  return parts.join('; ');
}

/** Newest first; entries at the same instant keep the service's order reversed (later written first). */
export function newestFirst(history: readonly HistoryEntry[]): HistoryEntry[] {
  return history
    .map((entry, index) => ({ entry, index, at: Date.parse(entry.at) }))
    .sort((a, b) => b.at - a.at || b.index - a.index)
    .map(({ entry }) => entry);
}

/** "2 d 3 h", "5 h 10 min", "12 min", "less than a minute". */
export function formatDuration(ms: number): string {
  const minutes = Math.floor(Math.abs(ms) / 60_000);
  if (minutes < 1) return 'less than a minute';
  const days = Math.floor(minutes / (24 * 60));
  const hours = Math.floor((minutes % (24 * 60)) / 60);
  const mins = minutes % 60;
  if (days > 0) return hours > 0 ? `${days} d ${hours} h` : `${days} d`;
  if (hours > 0) return mins > 0 ? `${hours} h ${mins} min` : `${hours} h`;
  return `${mins} min`;
}

export function slaText(sla: { remainingMs: number; overdue: boolean }): string {
  return sla.overdue || sla.remainingMs < 0 ? `Overdue by ${formatDuration(sla.remainingMs)}` : `Due in ${formatDuration(sla.remainingMs)}`;
}

export function formatAmount(amount: number | null): string {
  if (amount === null) return 'no amount';
  return amount.toLocaleString('en-US', { maximumFractionDigits: 2 });
}

export function formatWeeks(weeks: number): string {
  const n = Math.round(weeks * 100) / 100;
  return `${n} ${n === 1 ? 'week' : 'weeks'}`;
}

/** "2026-11-23 14:05 UTC": one unambiguous form, whatever the viewer's locale. */
export function formatWhen(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/**
 * Someone as the card reads them: by name (issue 15), else email, else `user <id>` (HubSpot knows
 * no name for them); the caller is "you (<name>)"; Dealgate's own actions read as Dealgate. A bare
 * id (an older answer without the person) reads as `user <id>`.
 */
export function userLabel(who: Person | string, me: string): string {
  const person: Person = typeof who === 'string' ? { userId: who, name: null, email: null } : who;
  if (person.userId === 'system') return 'Dealgate';
  const label = personLabel(person);
  return person.userId === me ? `you (${label})` : label;
}

/**
 * What Dealgate will do with the deal under the account's settings, never more: an ungated
 * pipeline says so, a won deal under afterClose=flag is flagged (it stays won), anything else past
 * the gate without sign-off is moved back.
 */
export function gateOutlook(
  gate: GateEvaluation,
  standingFlag: GateResponse['standingFlag'] = null,
): { key: 'ungated' | 'past_gate' | 'blocked' | 'free'; text: string } {
  const stage = gate.gateStage?.label ?? 'the gate stage';
  if (gate.ungated) {
    return { key: 'ungated', text: 'This pipeline has no gate stage, so Dealgate does not gate its deals; an admin can choose one in the settings.' };
  }
  if (gate.pastGate && !gate.mayAdvance && standingFlag) {
    // Its passage was legal when it happened: Dealgate flagged it and leaves it where it is.
    return standingFlag.kind === 'backfill'
      ? {
          key: 'past_gate',
          text: `This deal was already past ${stage} without sign-off when Dealgate was installed: it is flagged for the deal desk and stays where it is unless an admin enforces the deals found at install. Request a review.`,
        }
      : {
          key: 'past_gate',
          text: `This deal passed ${stage} before the rules tightened and has no sign-off: it is flagged for the deal desk and stays where it is. Request a review.`,
        };
  }
  if (gate.pastGate && !gate.mayAdvance) {
    return gate.inWonStage && gate.afterClose === 'flag'
      ? { key: 'past_gate', text: 'This won deal has no sign-off: Dealgate flags it for the deal desk and it stays won. Request a review.' }
      : { key: 'past_gate', text: `This deal sits past the gate without sign-off; Dealgate moves it back to ${stage}.` };
  }
  if (!gate.mayAdvance) {
    const won = gate.afterClose === 'flag' ? ' (a won deal is flagged instead)' : '';
    return { key: 'blocked', text: `Moving it past ${stage} needs a yes first: Dealgate moves it back otherwise${won}.` };
  }
  // Only a break-glass lets a deal that needs review past without a decision: said so, with its condition.
  if (gate.breakGlassHolds) return { key: 'free', text: `A break-glass lets it move past ${stage} until its time box ends; without a decision by then it is moved back.` };
  return { key: 'free', text: gate.reviewRequired ? `A decision covers it: it may move past ${stage}.` : `No review is needed: it may move past ${stage}.` };
}

const effectWords: Record<SettingsChangeView['effect'], string> = {
  relaxed: 'relaxed the gate',
  tightened: 'tightened the gate',
  mixed: 'relaxed and tightened the gate',
  neutral: 'left the gate as it was',
};

/** The settings fields as the settings page names them. */
const settingsFieldLabels: Record<string, string> = {
  valueThreshold: 'threshold',
  slaHours: 'SLA',
  reviewers: 'reviewers',
  admins: 'admins',
  escalationReviewer: 'escalation reviewer',
  gateStageLabel: 'gate stage name',
  gateStages: 'gate stages',
  capacity: 'capacity',
  amountTolerance: 'amount tolerance',
  afterClose: 'a won deal without sign-off',
  triad: 'Triad',
  effortThreshold: 'effort threshold',
  triggerMode: 'what makes review required',
  breakGlassUsers: 'may break the glass',
  reminders: 'reminders',
};

const percent = (fraction: number) => `${Math.round(fraction * 10000) / 100}%`;

/** "at 50% of the SLA, 2 h before due" (issue 15's reminder points). */
function remindersValue(value: { atSlaShares?: unknown; hoursBeforeDue?: unknown }): string {
  const numbers = (list: unknown) => (Array.isArray(list) ? list.filter((n): n is number => typeof n === 'number') : []);
  const points = [...numbers(value.atSlaShares).map((share) => `at ${percent(share)} of the SLA`), ...numbers(value.hoursBeforeDue).map((hours) => `${hours} h before due`)];
  return points.length === 0 ? 'none' : points.join(', ');
}

/** A settings value in words: amounts, hours, percentages, user lists, stage labels where the pipelines are known. */
function settingsValue(field: string, value: unknown, pipelines: readonly PipelineView[]): string {
  if (value === null || value === undefined) return field === 'capacity' || field === 'triad' ? 'off' : 'none';
  if (field === 'triad') return triadSettingsWords(value);
  if (field === 'valueThreshold' && typeof value === 'number') return formatAmount(value);
  if (field === 'slaHours' && typeof value === 'number') return `${value} h`;
  if (field === 'effortThreshold' && typeof value === 'number') return formatWeeks(value);
  if (field === 'amountTolerance' && typeof value === 'number') return percent(value);
  if (field === 'afterClose') return value === 'flag' ? 'flagged, stays won' : 'moved back';
  if (Array.isArray(value)) return value.length === 0 ? 'none' : value.map(String).join(', ');
  if (field === 'reminders' && typeof value === 'object') return remindersValue(value as { atSlaShares?: unknown; hoursBeforeDue?: unknown });
  if (field === 'capacity' && typeof value === 'object') {
    const c = value as { engineerWeeksPerQuarter?: unknown; commitmentShare?: unknown; maintenanceShare?: unknown };
    if (typeof c.engineerWeeksPerQuarter === 'number' && typeof c.commitmentShare === 'number') {
      const maintenance = typeof c.maintenanceShare === 'number' ? `, ${percent(c.maintenanceShare)} maintenance` : '';
      return `${percent(c.commitmentShare)} of ${formatWeeks(c.engineerWeeksPerQuarter)} a quarter${maintenance}`;
    }
  }
  if (field === 'gateStages' && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 0) return 'by stage name';
    return entries
      .map(([pipelineId, stageId]) => {
        const pipeline = pipelines.find((p) => p.id === pipelineId);
        const stage = pipeline?.stages.find((st) => st.id === stageId);
        return `${pipeline?.label ?? pipelineId}: ${stage?.label ?? String(stageId)}`;
      })
      .join(', ');
  }
  return typeof value === 'string' ? `"${value}"` : JSON.stringify(value);
}

/**
 * "#4 2026-11-23 14:05 UTC, user 900 (relaxed the gate): threshold 50,000 -> 1,000,000": the fields
 * as the settings page names them, the values in words (stage labels when `pipelines` are known).
 */
export function settingsChangeLine(change: SettingsChangeView, pipelines: readonly PipelineView[] = []): string {
  const fields = change.fields
    .map((f) => `${settingsFieldLabels[f.field] ?? f.field} ${settingsValue(f.field, f.before, pipelines)} -> ${settingsValue(f.field, f.after, pipelines)}`)
    .join('; ');
  return `#${change.id} ${formatWhen(change.changedAt)}, ${personLabel(change.changedByPerson)} (${effectWords[change.effect]}): ${fields}`;
}

export const flagKindLabel: Record<DealFlagKind, string> = {
  after_close: 'Won without sign-off',
  backfill: 'Found at install',
  rules_tightened: 'Needs review since the rules tightened',
  relaxed_passage: 'Passed under a relaxed rule',
};
