import fc from 'fast-check';
import { dueAt, isPastDue, slaClock } from '../../src/server/domain/sla';
import { review, T0, HOUR } from './fixtures';

describe('SLA', () => {
  it('is due the SLA hours after the request', () => {
    expect(dueAt(T0, 48)).toBe(T0 + 48 * HOUR);
    expect(dueAt(T0, 24)).toBe(Date.UTC(2026, 10, 3, 9, 0, 0));
  });

  it('is past due strictly after the due time, and only while waiting', () => {
    const r = review({ dueAt: T0 + HOUR });
    expect(isPastDue(r, T0 + HOUR)).toBe(false);
    expect(isPastDue(r, T0 + HOUR + 1)).toBe(true);
    expect(isPastDue({ ...r, status: 'overdue' }, T0 + 2 * HOUR)).toBe(true);
    expect(isPastDue({ ...r, status: 'approved' }, T0 + 2 * HOUR)).toBe(false);
  });

  it('shows the clock: due time, the hours in force at the request, time remaining (negative when overdue)', () => {
    const r = review({ requestedAt: T0, dueAt: T0 + 24 * HOUR });
    expect(slaClock(r, T0 + 20 * HOUR)).toEqual({ dueAt: '2026-11-03T09:00:00.000Z', slaHours: 24, remainingMs: 4 * HOUR, overdue: false });
    expect(slaClock(r, T0 + 25 * HOUR)).toEqual({ dueAt: '2026-11-03T09:00:00.000Z', slaHours: 24, remainingMs: -HOUR, overdue: true });
  });

  it('round-trips the SLA hours through the due time (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 4e12 }), fc.integer({ min: 1, max: 336 }), (at, hours) => {
        expect(slaClock({ requestedAt: at, dueAt: dueAt(at, hours) }, at).slaHours).toBe(hours);
      }),
    );
  });
});
