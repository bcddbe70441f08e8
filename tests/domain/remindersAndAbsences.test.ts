import * as domainReminders from '../../src/server/domain/reminderPoints';
import * as contractDefaults from '../../extensions/contract/api';
import { absencesAt, coveredBy, coverOf, routeToCover, type Absence } from '../../src/server/domain/absence';
import { pointsDue, reminderPoints, taskReminderAt, timeLeftText } from '../../src/server/domain/reminderPoints';
import { HOUR_MS } from '../../src/server/domain/sla';

/** Issue 15's rules, pure: when reminders fall due, and who covers for an absent reviewer. */
const T = Date.UTC(2026, 10, 2, 9, 0, 0);
const review = { requestedAt: T, dueAt: T + 48 * HOUR_MS };

describe('reminder points', () => {
  it('defaults to half the SLA elapsed and 2 hours before the due time, earliest first', () => {
    expect(reminderPoints(review, { atSlaShares: [0.5], hoursBeforeDue: [2] })).toEqual([
      { key: 'share:0.5', at: T + 24 * HOUR_MS },
      { key: 'before:2h', at: T + 46 * HOUR_MS },
    ]);
    expect(taskReminderAt(review, { atSlaShares: [0.5], hoursBeforeDue: [2] })).toBe(T + 24 * HOUR_MS);
  });

  it('leaves out points at or before the request (2 hours before a 1-hour SLA) and repeats', () => {
    const short = { requestedAt: T, dueAt: T + HOUR_MS };
    expect(reminderPoints(short, { atSlaShares: [0.5, 0.5], hoursBeforeDue: [2, 1] })).toEqual([{ key: 'share:0.5', at: T + HOUR_MS / 2 }]);
    expect(taskReminderAt(short, { atSlaShares: [], hoursBeforeDue: [2] })).toBeNull();
  });

  it('is due once reached and until recorded as sent', () => {
    const points = reminderPoints(review, { atSlaShares: [0.25, 0.5], hoursBeforeDue: [2] });
    expect(pointsDue(points, new Set(), T + 24 * HOUR_MS - 1).map((p) => p.key)).toEqual(['share:0.25']);
    expect(pointsDue(points, new Set(['share:0.25']), T + 47 * HOUR_MS).map((p) => p.key)).toEqual(['share:0.5', 'before:2h']);
    expect(pointsDue(points, new Set(['share:0.25', 'share:0.5', 'before:2h']), T + 47 * HOUR_MS)).toEqual([]);
  });

  it('says how long is left in words', () => {
    expect([timeLeftText(2 * HOUR_MS), timeLeftText(HOUR_MS), timeLeftText(30 * 60_000), timeLeftText(1)]).toEqual(['2 hours', '1 hour', '30 minutes', '1 minute']);
  });
});

function absence(userId: string, delegateUserId: string, startsAt = T, endsAt = T + 24 * HOUR_MS, cancelledAt: number | null = null): Absence {
  return { id: Number(userId), userId, delegateUserId, startsAt, endsAt, createdBy: userId, createdAt: T, cancelledAt, cancelledBy: null };
}

describe('who covers for an absent reviewer', () => {
  it('is the delegate only from the start until (excluded) the end, and not once ended early', () => {
    const list = [absence('200', '201'), absence('300', '201', T, T + HOUR_MS, T)];
    expect(coverOf('200', absencesAt(list, T - 1))).toBe('200');
    expect(coverOf('200', absencesAt(list, T))).toBe('201');
    expect(coverOf('200', absencesAt(list, T + 24 * HOUR_MS))).toBe('200');
    expect(coverOf('300', absencesAt(list, T))).toBe('300');
  });

  it('follows a delegate who is away too, and keeps the reviewer when the chain comes back round', () => {
    const chain = absencesAt([absence('200', '201'), absence('201', '202')], T);
    expect(coverOf('200', chain)).toBe('202');
    expect(coveredBy('202', chain)).toEqual(['200', '201']);
    const loop = absencesAt([absence('200', '201'), absence('201', '200')], T);
    expect(coverOf('200', loop)).toBe('200');
    expect(coveredBy('200', loop)).toEqual([]);
  });

  it('routes assignees to their covers without repeats and without the requester', () => {
    const inForce = absencesAt([absence('200', '201'), absence('202', '100')], T);
    expect(routeToCover(['200', '201', '202'], inForce, ['100'])).toEqual(['201']);
  });
});

describe('the default reminders, in the domain and in the settings contract', () => {
  it('are the same points (half the SLA, 2 hours before due)', () => {
    // The domain owns its default; the contract keeps its own for the settings schema and page.
    expect(domainReminders.DEFAULT_REMINDERS).toEqual(contractDefaults.DEFAULT_REMINDERS);
    expect(domainReminders.DEFAULT_REMINDERS).toEqual({ atSlaShares: [0.5], hoursBeforeDue: [2] });
  });
});
