/** When Dealgate reminds a reviewer: shares of the SLA elapsed, and hours before the due time. */
export interface ReminderSettings {
  atSlaShares: number[];
  hoursBeforeDue: number[];
}

/** Half the SLA elapsed, and 2 hours before due (issue 15). */
export const DEFAULT_REMINDERS: ReminderSettings = { atSlaShares: [0.5], hoursBeforeDue: [2] };
import { HOUR_MS } from './sla';

/**
 * When the reviewers of a waiting review are reminded (issue 15), from the admin's reminder
 * settings: at shares of the SLA elapsed and at hours before the due time. Pure.
 */
export interface ReminderPoint {
  /** Stable for the review whatever else changes: what "once" is counted by (`share:0.5`, `before:2h`). */
  key: string;
  at: number;
}

/** The escalation reviewer has this long (the escalation task's due time) before the admins are told. */
export const ESCALATION_ANSWER_MS = 24 * HOUR_MS;

export function remindersOf(settings: { reminders?: ReminderSettings | undefined }): ReminderSettings {
  return settings.reminders ?? DEFAULT_REMINDERS;
}

/**
 * The review's reminder points, earliest first: each strictly between the request and the due
 * time (2 hours before the due time of a 1-hour SLA falls before the request: no such point).
 */
export function reminderPoints(review: { requestedAt: number; dueAt: number }, reminders: ReminderSettings): ReminderPoint[] {
  const span = review.dueAt - review.requestedAt;
  const points = [
    ...reminders.atSlaShares.map((share) => ({ key: `share:${share}`, at: review.requestedAt + Math.round(share * span) })),
    ...reminders.hoursBeforeDue.map((hours) => ({ key: `before:${hours}h`, at: review.dueAt - Math.round(hours * HOUR_MS) })),
  ];
  const seen = new Set<string>();
  return points
    .filter((p) => p.at > review.requestedAt && p.at < review.dueAt && !seen.has(p.key) && seen.add(p.key))
    .sort((a, b) => a.at - b.at || a.key.localeCompare(b.key));
}

/** Points reached at `now` and not sent yet. */
export function pointsDue(points: readonly ReminderPoint[], sent: ReadonlySet<string>, now: number): ReminderPoint[] {
  return points.filter((p) => p.at <= now && !sent.has(p.key));
}

/** HubSpot's own reminder on a reviewer's task (`hs_task_reminders`): the first point, null when there is none. */
export function taskReminderAt(review: { requestedAt: number; dueAt: number }, reminders: ReminderSettings): number | null {
  return reminderPoints(review, reminders)[0]?.at ?? null;
}

/** "12 hours", "1 hour", "30 minutes": what a reminder says is left. */
export function timeLeftText(ms: number): string {
  if (ms < HOUR_MS) {
    const minutes = Math.max(1, Math.round(ms / 60_000));
    return `${minutes} minute${minutes === 1 ? '' : 's'}`;
  }
  const hours = Math.round(ms / HOUR_MS);
  return `${hours} hour${hours === 1 ? '' : 's'}`;
}
