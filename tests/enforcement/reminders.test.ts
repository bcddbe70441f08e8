import { ManualClock } from '../../src/server/shared/clock';
import { HOUR_MS } from '../../src/server/domain/sla';
import { recordAbsence } from '../../src/server/application/absenceService';
import { refreshPeopleIfStale } from '../../src/server/application/people';
import { waitUntil } from '../support/process';
import type { Stack } from '../support/stack';
import { ADMIN, decideAsReviewer, ESCALATION, gateContext, REP, REVIEWER, requestReviewAsRep, seedGatedDeal, stackPerTest } from './world';

/**
 * Issue 15, reminders before the SLA runs out, on a ManualClock shared by the service and the
 * simulator, with the real SLA worker: the reviewers' tasks carry HubSpot's reminder; Dealgate
 * reminds with a task at half the SLA and 2 hours before the due time, once each across
 * restarts; a review the escalation reviewer lets pass too goes to the admins, once; an absent
 * reviewer's reminder goes to the delegate.
 */
const SECOND_REVIEWER = '201';
const OWNERS = [
  { email: 'rev.one@example.com', firstName: 'Ada', lastName: 'Lovelace', userId: Number(REVIEWER), id: '7001' },
  { email: 'rev.two@example.com', firstName: 'Edsger', lastName: 'Dijkstra', userId: Number(SECOND_REVIEWER), id: '7002' },
  { email: 'grace.hopper@example.com', firstName: 'Grace', lastName: 'Hopper', userId: REP, id: '7042' },
  { email: 'esc.alation@example.com', userId: Number(ESCALATION), id: '7003' },
  { email: 'ad.min@example.com', userId: ADMIN, id: '7009' },
];
const DEFAULTS = { valueThreshold: 50_000, reviewers: [REVIEWER, SECOND_REVIEWER], escalationReviewer: ESCALATION, admins: [String(ADMIN)], slaHours: 24 };
const START = Date.UTC(2026, 10, 2, 9, 0, 0);

const reminderTasks = (s: Stack, dealId: string) =>
  s.sim
    .tasksForDeal(dealId)
    .map((t) => t.properties)
    .filter((p) => (p.hs_task_subject ?? '').startsWith('Reminder:'));
const ownersOf = (tasks: ReadonlyArray<Record<string, string | undefined>>) => tasks.map((t) => t.hubspot_owner_id).sort();
const auditCount = async (s: Stack, dealId: string, action: string) => (await s.store.audit.listForDeal(s.sim.portalId, dealId)).filter((e) => e.action === action).length;
/** Several passes of the SLA worker (it runs every 50 ms) with nothing to wait for. */
const passes = () => new Promise((r) => setTimeout(r, 250));

describe('reminders before the SLA runs out', () => {
  const start = stackPerTest({ defaults: DEFAULTS, simulator: { owners: OWNERS } });

  it('reminds at half the SLA and 2 hours before the due time, once each, across restarts', async () => {
    const clock = new ManualClock(START);
    const s = await start({ clock });
    const deal = seedGatedDeal(s);
    // As the card API does before the rep's request: the account's people are read into the cache the reminder round names them from.
    await refreshPeopleIfStale(gateContext(s), s.sim.portalId);
    const reviewId = await requestReviewAsRep(s, deal.id);
    await s.settle();
    // HubSpot's own reminder on each reviewer's task, at the first point (half the SLA), in Unix ms.
    expect(s.sim.tasksForDeal(deal.id).map((t) => [t.properties.hubspot_owner_id, t.properties.hs_task_reminders]).sort()).toEqual([
      ['7001', String(START + 12 * HOUR_MS)],
      ['7002', String(START + 12 * HOUR_MS)],
    ]);

    clock.advance(12 * HOUR_MS - 60_000);
    await passes();
    await s.settle();
    expect(reminderTasks(s, deal.id)).toEqual([]);

    clock.advance(60_000);
    await waitUntil(async () => (await auditCount(s, deal.id, 'review_reminded')) === 1, 5_000, 'the half-SLA reminder');
    await s.settle();
    expect(ownersOf(reminderTasks(s, deal.id))).toEqual(['7001', '7002']);
    expect(reminderTasks(s, deal.id)[0]?.hs_task_subject).toContain(`technical review #${reviewId} is due in 12 hours`);
    // Named, not numbered (issue 15): who requested it, and in the audit log who was reminded.
    expect(reminderTasks(s, deal.id)[0]?.hs_task_body).toContain('Requested by Grace Hopper.');
    const reminded = (await s.store.audit.listForDeal(s.sim.portalId, deal.id)).find((e) => e.action === 'review_reminded');
    expect(reminded?.reason).toMatch(/^reminded (Ada Lovelace and Edsger Dijkstra|Edsger Dijkstra and Ada Lovelace): due in 12 hours/);

    await s.restart();
    clock.advance(HOUR_MS);
    await passes();
    await s.settle();
    expect(reminderTasks(s, deal.id)).toHaveLength(2);

    clock.advance(9 * HOUR_MS);
    await waitUntil(async () => (await auditCount(s, deal.id, 'review_reminded')) === 2, 5_000, 'the 2-hours-before reminder');
    await s.settle();
    expect(reminderTasks(s, deal.id)).toHaveLength(4);
    expect(reminderTasks(s, deal.id).filter((t) => (t.hs_task_subject ?? '').includes('due in 2 hours'))).toHaveLength(2);

    await s.restart();
    clock.advance(HOUR_MS);
    await passes();
    await s.settle();
    expect(reminderTasks(s, deal.id)).toHaveLength(4);
    expect(await auditCount(s, deal.id, 'review_reminded')).toBe(2);

    // The reminders belong to the review: its decision completes them with the reviewers' tasks.
    await decideAsReviewer(s, reviewId, { outcome: 'yes' });
    await s.settle();
    expect(s.sim.tasksForDeal(deal.id).map((t) => t.properties.hs_task_status)).toEqual(Array(6).fill('COMPLETED'));
  });

  it('sends one reminder for points that passed before a round ran', async () => {
    const clock = new ManualClock(START);
    const s = await start({ clock });
    const deal = seedGatedDeal(s);
    await requestReviewAsRep(s, deal.id);
    await s.settle();
    clock.advance(23 * HOUR_MS);
    await waitUntil(async () => (await auditCount(s, deal.id, 'review_reminded')) === 1, 5_000, 'the reminder');
    await passes();
    await s.settle();
    expect(ownersOf(reminderTasks(s, deal.id))).toEqual(['7001', '7002']);
    expect(await auditCount(s, deal.id, 'review_reminded')).toBe(1);
  });

  it('takes a review the escalation reviewer lets pass too to the admins, once', async () => {
    const clock = new ManualClock(START);
    const s = await start({ clock });
    const deal = seedGatedDeal(s);
    const reviewId = await requestReviewAsRep(s, deal.id);
    clock.advance(24 * HOUR_MS + 60_000);
    await waitUntil(async () => (await s.store.reviews.get(s.sim.portalId, reviewId))?.escalatedAt !== null, 5_000, 'the escalation');
    await s.settle();
    const adminTasks = () => s.sim.tasksForDeal(deal.id).filter((t) => t.properties.hubspot_owner_id === '7009');
    const adminNotes = () => s.sim.notesForDeal(deal.id).filter((n) => (n.properties.hs_note_body ?? '').includes('still unanswered'));

    clock.advance(24 * HOUR_MS - 60_000);
    await passes();
    await s.settle();
    expect(adminTasks()).toEqual([]);

    clock.advance(2 * 60_000);
    await waitUntil(async () => (await auditCount(s, deal.id, 'review_escalated_to_admins')) === 1, 5_000, 'the escalation to the admins');
    await s.settle();
    expect(adminTasks().map((t) => t.properties.hs_task_subject)).toEqual([expect.stringContaining(`#${reviewId}, escalated to admins`)]);
    expect(adminNotes()).toHaveLength(1);
    // By name, as HubSpot's owners list gives them (the simulator names an owner seeded by email from it).
    expect(adminNotes()[0]?.properties.hs_note_body).toContain('escalated to Esc Alation, who has not answered either');
    expect(adminNotes()[0]?.properties.hs_note_body).toContain("the account's admins: Ad Min.");
    // The audit entry names them too, as the note does.
    const escalation = (await s.store.audit.listForDeal(s.sim.portalId, deal.id)).find((e) => e.action === 'review_escalated_to_admins');
    expect(escalation?.reason).toBe('no answer 24 hours after the escalation; escalated to Ad Min');

    await s.restart();
    clock.advance(48 * HOUR_MS);
    await passes();
    await s.settle();
    expect(adminTasks()).toHaveLength(1);
    expect(adminNotes()).toHaveLength(1);
    expect(await auditCount(s, deal.id, 'review_escalated_to_admins')).toBe(1);
  });

  it('gives the escalation to whoever covers for an absent escalation reviewer', async () => {
    const clock = new ManualClock(START);
    const s = await start({ clock });
    await recordAbsence(gateContext(s), { portalId: s.sim.portalId, userId: ESCALATION }, { delegateUserId: SECOND_REVIEWER, from: '2026-11-02', until: '2026-11-10' });
    const deal = seedGatedDeal(s);
    const reviewId = await requestReviewAsRep(s, deal.id);
    clock.advance(24 * HOUR_MS + 60_000);
    await waitUntil(async () => (await s.store.reviews.get(s.sim.portalId, reviewId))?.escalatedAt !== null, 5_000, 'the escalation');
    await s.settle();
    const escalations = s.sim.tasksForDeal(deal.id).filter((t) => (t.properties.hs_task_subject ?? '').startsWith('Overdue technical review'));
    expect(escalations.map((t) => t.properties.hubspot_owner_id)).toEqual(['7002']);
  });

  it('reminds the delegate of a reviewer who went away after the request, and the reviewer again once back', async () => {
    const clock = new ManualClock(START);
    const s = await start({ clock });
    const deal = seedGatedDeal(s);
    await requestReviewAsRep(s, deal.id);
    await s.settle();
    const from = new Date(START + HOUR_MS).toISOString();
    const until = new Date(START + 13 * HOUR_MS).toISOString();
    await recordAbsence(gateContext(s), { portalId: s.sim.portalId, userId: REVIEWER }, { delegateUserId: ESCALATION, from, until });

    clock.advance(12 * HOUR_MS);
    await waitUntil(async () => (await auditCount(s, deal.id, 'review_reminded')) === 1, 5_000, 'the half-SLA reminder');
    await s.settle();
    expect(ownersOf(reminderTasks(s, deal.id))).toEqual(['7002', '7003']);

    // Back before the 2-hours-before point: that reminder is the reviewer's own again.
    clock.advance(10 * HOUR_MS);
    await waitUntil(async () => (await auditCount(s, deal.id, 'review_reminded')) === 2, 5_000, 'the 2-hours-before reminder');
    await s.settle();
    expect(ownersOf(reminderTasks(s, deal.id))).toEqual(['7001', '7002', '7002', '7003']);
  });
});
