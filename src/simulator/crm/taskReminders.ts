import { invalidPropertyValues } from '../hubspotErrors';

/**
 * `hs_task_reminders`: "The timestamp for when to send a reminder for the due date of the task.
 * You must use Unix timestamp in milliseconds." (https://developers.hubspot.com/docs/api/crm/tasks).
 * An ISO date or any other text is refused with a 400, as a bad value of a number property is
 * (the error code is unconfirmed); several reminders separated by semicolons are accepted, as
 * HubSpot's multi-value properties take them (unconfirmed for this one). Empty clears it.
 */
export function checkTaskReminders(values: Record<string, string>): void {
  const value = values.hs_task_reminders;
  if (value === undefined || value === '') return;
  const parts = value.split(';');
  if (parts.every((part) => /^\d{1,15}$/.test(part) && Number(part) > 0)) return;
  throw invalidPropertyValues([
    { isValid: false, message: `${value} is not a valid Unix timestamp in milliseconds`, error: 'INVALID_LONG', name: 'hs_task_reminders' },
  ]);
}
