import { ManualClock } from '../../src/server/shared/clock';
import { waitUntil } from '../support/process';
import { startStack, type Stack } from '../support/stack';
import { decideAsReviewer, ESCALATION, REVIEWER, requestReviewAsRep, seedGatedDeal } from './world';

/**
 * A promised date passing undelivered is noted by the running SLA worker's round (issue 14): a note
 * on the deal and a task for the escalation reviewer, once, however many rounds and restarts follow.
 */
const OWNERS = [
  { email: 'rev.one@example.com', userId: Number(REVIEWER), id: '7001' },
  { email: 'esc.alation@example.com', userId: Number(ESCALATION), id: '7003' },
];
const DAY = 24 * 60 * 60 * 1000;

describe('overdue deliveries', () => {
  let stack: Stack;
  let clock: ManualClock;
  beforeEach(async () => {
    clock = new ManualClock(Date.UTC(2026, 10, 2, 9, 0, 0));
    stack = await startStack({ clock, defaults: { valueThreshold: 50_000, reviewers: [REVIEWER], escalationReviewer: ESCALATION }, simulator: { owners: OWNERS } });
    await stack.provision();
  });
  afterEach(async () => {
    await stack.stop();
  });

  const overdueNotes = (dealId: string) => stack.sim.notesForDeal(dealId).filter((n) => (n.properties.hs_note_body ?? '').includes('is overdue'));
  const escalationTasks = (dealId: string) => stack.sim.tasksForDeal(dealId).filter((t) => t.properties.hubspot_owner_id === '7003');

  it('notes a missed promise once, with a task for the escalation reviewer', async () => {
    const deal = seedGatedDeal(stack);
    const reviewId = await requestReviewAsRep(stack, deal.id); // 3 weeks: promised 2026-11-23
    await decideAsReviewer(stack, reviewId, { outcome: 'yes' });
    await stack.settle();
    expect(stack.sim.getDeal(deal.id)?.properties).toMatchObject({ dealgate_delivery_status: 'planned', dealgate_promised_date: '2026-11-23' });

    clock.set(Date.UTC(2026, 10, 23, 23, 59));
    await new Promise((r) => setTimeout(r, 200));
    await stack.settle();
    expect(overdueNotes(deal.id)).toHaveLength(0);

    clock.set(Date.UTC(2026, 10, 24, 0, 1));
    await waitUntil(async () => (await stack.store.deliveries.get(stack.sim.portalId, reviewId))?.overdueNotedAt !== null, 5_000, 'the overdue note');
    await stack.settle();
    expect(overdueNotes(deal.id)).toHaveLength(1);
    expect(escalationTasks(deal.id)).toEqual([expect.objectContaining({ properties: expect.objectContaining({ hs_task_subject: expect.stringContaining(`Overdue delivery of technical review #${reviewId}`) }) })]);

    clock.advance(DAY);
    await new Promise((r) => setTimeout(r, 200));
    await stack.restart();
    await new Promise((r) => setTimeout(r, 200));
    await stack.settle();
    expect(overdueNotes(deal.id)).toHaveLength(1);
    expect(escalationTasks(deal.id)).toHaveLength(1);
    expect((await stack.store.audit.listForDeal(stack.sim.portalId, deal.id)).filter((e) => e.action === 'delivery_overdue')).toHaveLength(1);
  });
});
