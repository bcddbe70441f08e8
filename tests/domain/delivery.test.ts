import {
  assertMayUpdateDelivery,
  dayOf,
  deprioritizeDelivery,
  isCalendarDay,
  isOverdue,
  onTimeRates,
  openDelivery,
  promisedDateFor,
  updateDelivery,
  type Delivery,
} from '../../src/server/domain/delivery';
import type { RoleSettings } from '../../src/server/domain/roles';
import { failure, HOUR, T0 } from './fixtures';

const roles: RoleSettings = { reviewers: ['200', '201'], admins: ['900'], escalationReviewer: '300' };
const DAY = 24 * HOUR;
// T0 is 2026-11-02 09:00 UTC.

function delivery(overrides: Partial<Parameters<typeof openDelivery>[0]> = {}): Delivery {
  return openDelivery({ reviewId: 7, decidedBy: '200', decidedAt: T0, neededBy: null, weeks: 4, ...overrides });
}

/** The application passes the account's names; here a stand-in that shows the refusal used it. */
const label = (userId: string) => `Person ${userId}`;
const as = (by: string, at = T0 + DAY) => ({ by, at, settings: roles, label });

describe('the promise a decision makes', () => {
  it('is the needed-by date when the customer gave one that is still ahead', () => {
    expect(promisedDateFor('2026-12-15', T0, 4)).toBe('2026-12-15');
    expect(promisedDateFor('2026-11-02', T0, 4)).toBe('2026-11-02');
  });

  it('is the decision date plus the weeks approved when there is no needed-by date, or it has passed', () => {
    expect(promisedDateFor(null, T0, 4)).toBe('2026-11-30');
    expect(promisedDateFor('2026-10-01', T0, 2)).toBe('2026-11-16');
    expect(promisedDateFor(null, T0, 1.5)).toBe('2026-11-13');
    expect(promisedDateFor('2026-02-30', T0, 1)).toBe('2026-11-09');
  });

  it('opens a planned delivery owned by the deciding reviewer, with the promise as its first history entry', () => {
    const d = delivery({ weeks: 5 });
    expect(d).toMatchObject({ reviewId: 7, ownerUserId: '200', status: 'planned', promisedDate: '2026-12-07', firstPromisedDate: '2026-12-07', workItemUrl: null, deliveredAt: null });
    expect(d.history).toEqual([{ at: T0, by: '200', status: 'planned', promisedDate: '2026-12-07', ownerUserId: '200', workItemUrl: null, reason: null }]);
  });
});

describe('who may update a delivery', () => {
  it('is its owner, a reviewer of the account, the escalation reviewer or an admin', () => {
    const d = { ...delivery(), ownerUserId: '555' };
    for (const userId of ['555', '200', '201', '300', '900']) expect(() => assertMayUpdateDelivery(d, userId, roles, label)).not.toThrow();
  });

  it("is also the Triad's tech lead while the Triad is on, and not once it is off", () => {
    const d = { ...delivery(), ownerUserId: '555' };
    const triad = { enabled: true, members: { tech_lead: ['410'], product_manager: ['420'], product_marketing: ['430'] }, decisionMaker: 'product_manager' as const };
    expect(() => assertMayUpdateDelivery(d, '410', { ...roles, triad }, label)).not.toThrow();
    // The Triad's other members are no engineers: told who may.
    expect(failure(() => assertMayUpdateDelivery(d, '430', { ...roles, triad }, label)).message).toBe(
      "only its owner (Person 555), the account's reviewers, the Triad's tech leads and its admins may update this delivery",
    );
    expect(failure(() => assertMayUpdateDelivery(d, '410', { ...roles, triad: { ...triad, enabled: false } }, label)).code).toBe('forbidden');
    // And a tech lead may be made its owner (a product manager decided; engineering delivers).
    const byPm = delivery({ decidedBy: '420' });
    const handedOver = updateDelivery(byPm, { status: 'planned', ownerUserId: '410' }, { ...as('900'), settings: { ...roles, triad } });
    expect(handedOver.delivery.ownerUserId).toBe('410');
    expect(handedOver.consequences.reassignedTo).toBe('410');
    expect(failure(() => updateDelivery(byPm, { status: 'planned', ownerUserId: '430' }, { ...as('900'), settings: { ...roles, triad } })).message).toBe(
      "ownerUserId: Person 430 is not an engineer of this account (one of its reviewers or the Triad's tech leads); an admin adds reviewers in the settings",
    );
  });

  it('is never a rep (403 naming the owner)', () => {
    const e = failure(() => assertMayUpdateDelivery(delivery(), '100', roles, label));
    expect(e.code).toBe('forbidden');
    expect(e.message).toBe("only its owner (Person 200), the account's reviewers and its admins may update this delivery");
  });
});

describe('updating a delivery', () => {
  it('records progress, the work item link and a new owner in the history', () => {
    const { delivery: d, consequences } = updateDelivery(delivery(), { status: 'in_progress', workItemUrl: 'https://linear.app/acme/issue/ENG-42', ownerUserId: '201' }, as('200'));
    expect(d).toMatchObject({ status: 'in_progress', ownerUserId: '201', workItemUrl: 'https://linear.app/acme/issue/ENG-42', promisedDate: '2026-11-30' });
    expect(d.history).toHaveLength(2);
    expect(d.history[1]).toEqual({ at: T0 + DAY, by: '200', status: 'in_progress', promisedDate: '2026-11-30', ownerUserId: '201', workItemUrl: 'https://linear.app/acme/issue/ENG-42', reason: null });
    expect(consequences).toEqual({ slipped: null, delivered: false, reassignedTo: '201' });
  });

  it('makes a later promised date a slip, which needs a reason and is told as one', () => {
    const e = failure(() => updateDelivery(delivery(), { status: 'at_risk', promisedDate: '2026-12-14' }, as('200')));
    expect(e.code).toBe('invalid_request');
    expect(e.message).toBe('reason: moving the promised date from 2026-11-30 to 2026-12-14 is a slip: say why (the rep tells the customer)');

    const { delivery: d, consequences } = updateDelivery(delivery(), { status: 'at_risk', promisedDate: '2026-12-14', reason: ' SSO vendor API changed ' }, as('200'));
    expect(d.status).toBe('slipped');
    expect(d.promisedDate).toBe('2026-12-14');
    expect(d.firstPromisedDate).toBe('2026-11-30');
    expect(consequences.slipped).toEqual({ from: '2026-11-30', to: '2026-12-14', reason: 'SSO vendor API changed' });
  });

  it('lets an earlier promised date through without a reason, and refuses slipped without a later date', () => {
    const { delivery: d, consequences } = updateDelivery(delivery(), { status: 'in_progress', promisedDate: '2026-11-20' }, as('200'));
    expect(d.promisedDate).toBe('2026-11-20');
    expect(consequences.slipped).toBeNull();
    const e = failure(() => updateDelivery(delivery(), { status: 'slipped', reason: 'late' }, as('200')));
    expect(e.message).toBe('status: slipped needs a promised date later than 2026-11-30, and the reason');
    // Already slipped, it stays slipped through a change that is no slip (a link added from the card's form).
    const slipped = updateDelivery(delivery(), { status: 'in_progress', promisedDate: '2026-12-14', reason: 'scope' }, as('200')).delivery;
    const linked = updateDelivery(slipped, { status: 'slipped', workItemUrl: 'https://tracker.example.com/ENG-1' }, as('200'));
    expect(linked.delivery).toMatchObject({ status: 'slipped', promisedDate: '2026-12-14', workItemUrl: 'https://tracker.example.com/ENG-1' });
    expect(linked.consequences.slipped).toBeNull();
  });

  it('marks a delivery delivered once, with its time, and then refuses any change', () => {
    const { delivery: d, consequences } = updateDelivery(delivery(), { status: 'delivered' }, as('201', T0 + 10 * DAY));
    expect(d).toMatchObject({ status: 'delivered', deliveredAt: T0 + 10 * DAY });
    expect(consequences).toEqual({ slipped: null, delivered: true, reassignedTo: null });
    const e = failure(() => updateDelivery(d, { status: 'in_progress' }, as('201')));
    expect(e.message).toBe('status: the delivery of review 7 is already delivered; it cannot change any more');
  });

  it('refuses what is not a delivery update: deprioritized by hand, an owner who is no engineer, a link that is not http(s), a day that does not exist', () => {
    expect(failure(() => updateDelivery(delivery(), { status: 'deprioritized' }, as('900'))).message).toMatch(/^status: deprioritized is set by the capacity ledger/);
    expect(failure(() => updateDelivery(delivery(), { status: 'planned', ownerUserId: '100' }, as('900'))).message).toBe(
      'ownerUserId: Person 100 is not an engineer of this account (one of its reviewers); an admin adds reviewers in the settings',
    );
    // An admin who is no engineer, naming themself: spoken to.
    expect(failure(() => updateDelivery(delivery(), { status: 'planned', ownerUserId: '900' }, as('900'))).message).toBe(
      'ownerUserId: you are not an engineer of this account (one of its reviewers); an admin adds reviewers in the settings',
    );
    expect(failure(() => updateDelivery(delivery(), { status: 'planned', workItemUrl: 'javascript:alert(1)' }, as('200'))).message).toBe('workItemUrl: must be an http(s) URL of the engineering work item');
    expect(failure(() => updateDelivery(delivery(), { status: 'planned', promisedDate: '2026-11-31' }, as('200'))).message).toBe('promisedDate: must be a calendar day written YYYY-MM-DD');
    expect(failure(() => updateDelivery(delivery(), { status: 'done' as 'planned' }, as('200'))).message).toBe('status: must be one of planned, in_progress, at_risk, delivered, slipped, deprioritized');
  });
});

describe('a deprioritized commitment', () => {
  it('is settled by the ledger with its reason, never overdue, and a delivered one stays delivered', () => {
    const d = deprioritizeDelivery(delivery(), { at: T0 + DAY, reason: 'review 9 took its weeks' });
    expect(d.status).toBe('deprioritized');
    expect(d.history[1]).toMatchObject({ by: 'system', status: 'deprioritized', reason: 'review 9 took its weeks' });
    expect(isOverdue(d, T0 + 100 * DAY)).toBe(false);
    const delivered = updateDelivery(delivery(), { status: 'delivered' }, as('200')).delivery;
    expect(deprioritizeDelivery(delivered, { at: T0 + 2 * DAY, reason: 'x' })).toBe(delivered);
  });
});

describe('overdue and on time', () => {
  it('is overdue from the day after the promised date until delivered', () => {
    const d = delivery();
    expect(isOverdue(d, Date.parse('2026-11-30T23:59:59Z'))).toBe(false);
    expect(isOverdue(d, Date.parse('2026-12-01T00:00:00Z'))).toBe(true);
    expect(isOverdue(updateDelivery(d, { status: 'delivered' }, as('200')).delivery, Date.parse('2027-01-01T00:00:00Z'))).toBe(false);
  });

  it('rates on-time delivery per quarter of the first promise: delivered by it over delivered or overdue; slips count as late', () => {
    const now = Date.parse('2027-01-10T12:00:00Z');
    const onTime = updateDelivery(delivery(), { status: 'delivered' }, as('200', Date.parse('2026-11-30T18:00:00Z'))).delivery;
    const slipped = updateDelivery(delivery(), { status: 'in_progress', promisedDate: '2026-12-20', reason: 'scope' }, as('200')).delivery;
    const lateAfterSlip = updateDelivery(slipped, { status: 'delivered' }, as('200', Date.parse('2026-12-18T10:00:00Z'))).delivery;
    const overdue = delivery({ reviewId: 8 });
    const notYetDue = delivery({ reviewId: 9, neededBy: '2027-02-01' });
    const dropped = deprioritizeDelivery(delivery({ reviewId: 10 }), { at: T0, reason: 'x' });
    expect(onTimeRates([onTime, lateAfterSlip, overdue, notYetDue, dropped], now)).toEqual([
      { quarter: '2026-Q4', onTime: 1, late: 1, overdue: 1, rate: 1 / 3 },
      { quarter: '2027-Q1', onTime: 0, late: 0, overdue: 0, rate: null },
    ]);
  });

  it('reads days in UTC and knows real calendar days', () => {
    expect(dayOf(Date.parse('2026-12-31T23:30:00Z'))).toBe('2026-12-31');
    expect(isCalendarDay('2028-02-29')).toBe(true);
    expect(isCalendarDay('2027-02-29')).toBe(false);
    expect(isCalendarDay('2026-1-05')).toBe(false);
  });
});
