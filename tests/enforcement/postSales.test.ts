import type { ApiErrorBody, DashboardResponse, GateResponse, SettingsInput, SettingsResponse } from '../../extensions/contract/api';
import { cardRequest, type CardResponse } from '../support/cardClient';
import type { Stack } from '../support/stack';
import { quarterOf } from '../../src/server/domain/capacityLedger';
import { ManualClock } from '../../src/server/shared/clock';
import { HOUR_MS } from '../../src/server/domain/sla';
import { waitUntil } from '../support/process';
import { ADMIN, ESCALATION, REP, REVIEWER, decideAsReviewer, requestReviewAsRep, seedGatedDeal, stackPerTest, stageOf } from './world';

/**
 * Post-sales customization and implementation work (issue 14): requested on a won deal, decided by
 * a reviewer, booked against the quarter's customer share once approved. It is not the deal's
 * commitment: the gate, HubSpot's dealgate_* commitment and status properties, and enforcement
 * stay as the pre-sales review left them. The whole service runs: webhooks, inbox, outbox.
 */
describe('post-sales work on a won deal', () => {
  const start = stackPerTest({ defaults: { valueThreshold: 50_000, reviewers: [REVIEWER], admins: [String(ADMIN)], escalationReviewer: ESCALATION } });

  const card = <T = GateResponse>(stack: Stack, userId: string | number, method: 'GET' | 'POST' | 'PUT', path: string, body?: unknown): Promise<CardResponse<T>> =>
    cardRequest<T>(stack.url, stack.clientSecret, { method, path: `/api/v1${path}`, userId, portalId: stack.sim.portalId, body, timestamp: stack.clock.now() });

  async function settings(stack: Stack, change: Partial<SettingsInput>): Promise<void> {
    const current = await card<SettingsResponse>(stack, ADMIN, 'GET', '/settings');
    expect((await card(stack, ADMIN, 'PUT', '/settings', { ...current.json.settings, ...change })).status).toBe(200);
  }

  /** A deal whose 3-week commitment engineering approved, then won. */
  async function wonDeal(stack: Stack): Promise<{ dealId: string; preSales: number }> {
    const deal = seedGatedDeal(stack, { dealstage: 'decisionmakerboughtin' });
    const preSales = await requestReviewAsRep(stack, deal.id);
    await decideAsReviewer(stack, preSales, { outcome: 'yes' });
    stack.sim.moveDealToStage(deal.id, 'closedwon', { userId: REP });
    await stack.settle();
    expect(stageOf(stack, deal.id)).toBe('closedwon');
    return { dealId: deal.id, preSales };
  }

  const postSales = { summary: 'Custom SCIM provisioning for the rollout', effortWeeks: 4, kind: 'post_sales' };

  it('the rep requests it, the reviewer approves it, the customer share used rises, and the won deal stays won with its commitment', async () => {
    const stack = await start();
    await settings(stack, { capacity: { engineerWeeksPerQuarter: 100, commitmentShare: 0.2 } });
    const { dealId, preSales } = await wonDeal(stack);
    const before = await card(stack, REP, 'GET', `/deals/${dealId}/gate`);
    expect(before.json.postSales).toEqual({ canRequest: true, requestDenied: null, reviews: [] });
    expect(before.json.capacity?.usedWeeks).toBe(3);

    const promisedBefore = stack.sim.getDeal(dealId)?.properties.dealgate_promised_date;
    expect(promisedBefore).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    const requested = await card(stack, REP, 'POST', `/deals/${dealId}/reviews`, postSales);
    expect(requested.status).toBe(201);
    // The gate's review is still the pre-sales one; the post-sales review waits beside it.
    expect(requested.json.review).toMatchObject({ id: preSales, kind: 'pre_sales', status: 'approved' });
    const postReviewId = requested.json.postSales.reviews[0]?.review.id ?? 0;
    expect(requested.json.postSales.reviews[0]).toMatchObject({ review: { kind: 'post_sales', status: 'pending', summary: postSales.summary }, canDecide: false });
    expect(requested.json.postSales.canRequest).toBe(false);
    await stack.settle();
    const task = stack.sim.tasksForDeal(dealId).find((t) => t.properties.hs_task_subject?.startsWith(`Post-sales review #${postReviewId}`));
    expect(task).toBeDefined();

    // The home page lists it as post-sales work.
    const queue = (await card<DashboardResponse>(stack, REVIEWER, 'GET', '/dashboard')).json.queue;
    expect(queue).toEqual([expect.objectContaining({ reviewId: postReviewId, kind: 'post_sales' })]);

    const forReviewer = await card(stack, REVIEWER, 'GET', `/deals/${dealId}/gate`);
    expect(forReviewer.json.postSales.reviews[0]).toMatchObject({ canDecide: true, decideDenied: null });
    const decided = await card(stack, REVIEWER, 'POST', `/reviews/${postReviewId}/decision`, { outcome: 'yes_but', extraWeeks: 1, tradeoff: 'CSV import first' });
    expect(decided.status).toBe(200);
    expect(decided.json.capacity).toMatchObject({ usedWeeks: 8, remainingWeeks: 12 });
    expect(decided.json.postSales.reviews[0]?.review).toMatchObject({ status: 'approved_with_conditions', decision: { quarter: quarterOf(stack.clock.now()) } });
    expect((await stack.store.reviews.quarterBooking(stack.sim.portalId, quarterOf(stack.clock.now()), { limit: 10 })).count).toBe(2);
    await stack.settle();

    // HubSpot: still won, the commitment and its status as the pre-sales review left them, no violation; a note of the answer.
    const properties = stack.sim.getDeal(dealId)?.properties ?? {};
    expect(properties).toMatchObject({ dealstage: 'closedwon', dealgate_status: 'approved', dealgate_commitment_summary: 'SAML SSO with the customer IdP', dealgate_effort_weeks: '3' });
    // The deal's delivery properties are still its commitment's; the post-sales delivery is Dealgate's record and the card's.
    expect(properties.dealgate_promised_date).toBe(promisedBefore);
    expect(decided.json.postSales.reviews[0]?.review.delivery).toMatchObject({ status: 'planned', ownerUserId: REVIEWER });
    expect(await stack.store.gateViolations.listForDeal(stack.sim.portalId, dealId)).toEqual([]);
    expect(stack.sim.notesForDeal(dealId).some((n) => n.properties.hs_note_body?.includes(`post-sales review #${postReviewId}`))).toBe(true);
    const after = await card(stack, REP, 'GET', `/deals/${dealId}/gate`);
    expect(after.json.gate).toMatchObject({ status: 'approved', mayAdvance: true, inWonStage: true });
    expect(after.json.postSales.canRequest).toBe(true);

    // Delivered: the note on the won deal names the post-sales review and its work, not a pre-sales commitment.
    expect((await card(stack, REVIEWER, 'POST', `/reviews/${postReviewId}/delivery`, { status: 'delivered' })).status).toBe(200);
    await stack.settle();
    const deliveredNote = stack.sim.notesForDeal(dealId).map((n) => n.properties.hs_note_body ?? '').find((b) => b.includes('was delivered'));
    expect(deliveredNote).toContain(`the commitment of post-sales review #${postReviewId} was delivered`);
    expect(deliveredNote).toContain(`<p>Post-sales work: ${postSales.summary}</p>`);
  });

  it('is refused on a deal that is not won, naming its stage, and nothing is opened', async () => {
    const stack = await start();
    const deal = seedGatedDeal(stack);
    const refused = await card<ApiErrorBody>(stack, REP, 'POST', `/deals/${deal.id}/reviews`, postSales);
    expect(refused.status).toBe(409);
    expect(refused.json.error.message).toContain('post-sales work is requested on a won deal');
    expect(refused.json.error.message).toContain('"Contract Sent", which is not a won stage');
    expect(await stack.store.reviews.postSalesForDeal(stack.sim.portalId, deal.id)).toEqual([]);
    const gate = await card(stack, REP, 'GET', `/deals/${deal.id}/gate`);
    expect(gate.json.postSales).toMatchObject({ canRequest: false, reviews: [], requestDenied: expect.stringContaining('not a won stage') });
    // A lost deal is not won either.
    stack.sim.moveDealToStage(deal.id, 'closedlost', { userId: REP });
    await stack.settle();
    expect((await card<ApiErrorBody>(stack, REP, 'POST', `/deals/${deal.id}/reviews`, postSales)).status).toBe(409);
  });

  it('one waits at a time; only its rep or an admin withdraws it, a reviewer who asked cannot decide it, and a bad body is a 400', async () => {
    const stack = await start();
    const { dealId } = await wonDeal(stack);
    const bad = await card<ApiErrorBody>(stack, REP, 'POST', `/deals/${dealId}/reviews`, { ...postSales, kind: 'after_sales' });
    expect(bad.status).toBe(400);
    expect(bad.json.error.details?.issues?.[0]?.path).toBe('kind');

    const first = (await card(stack, REP, 'POST', `/deals/${dealId}/reviews`, postSales)).json.postSales.reviews[0]?.review.id ?? 0;
    const again = await card<ApiErrorBody>(stack, REP, 'POST', `/deals/${dealId}/reviews`, { ...postSales, summary: 'Another integration' });
    expect(again.status).toBe(409);
    expect(again.json.error.message).toBe(`post-sales review #${first} of this deal is already pending: withdraw it or wait for its answer before requesting another`);

    expect((await card<ApiErrorBody>(stack, '101', 'POST', `/reviews/${first}/withdraw`)).status).toBe(403);
    const withdrawn = await card(stack, REP, 'POST', `/reviews/${first}/withdraw`);
    expect(withdrawn.status).toBe(200);
    expect(withdrawn.json.postSales.reviews[0]?.review.status).toBe('withdrawn');
    expect(withdrawn.json.gate.status).toBe('approved');

    // A reviewer asking for post-sales work does not answer it.
    const own = (await card(stack, REVIEWER, 'POST', `/deals/${dealId}/reviews`, postSales)).json.postSales.reviews[1]?.review.id ?? 0;
    expect((await card<ApiErrorBody>(stack, REVIEWER, 'POST', `/reviews/${own}/decision`, { outcome: 'yes' })).status).toBe(403);
    await stack.settle();
    expect(stack.sim.getDeal(dealId)?.properties.dealgate_status).toBe('approved');
  });

  it('past its SLA it is escalated like any review, and the deal keeps its commitment’s status', async () => {
    const clock = new ManualClock(Date.UTC(2026, 10, 2, 9, 0, 0));
    const stack = await start({ clock, defaults: { valueThreshold: 50_000, reviewers: [REVIEWER], admins: [String(ADMIN)], escalationReviewer: ESCALATION, slaHours: 24 } });
    const { dealId } = await wonDeal(stack);
    const reviewId = (await card(stack, REP, 'POST', `/deals/${dealId}/reviews`, postSales)).json.postSales.reviews[0]?.review.id ?? 0;
    await stack.settle();
    clock.advance(24 * HOUR_MS + 60_000);
    await waitUntil(async () => (await stack.store.reviews.get(stack.sim.portalId, reviewId))?.escalatedAt !== null, 5_000, 'the escalation');
    await stack.settle();
    expect((await stack.store.reviews.get(stack.sim.portalId, reviewId))?.status).toBe('overdue');
    const note = stack.sim.notesForDeal(dealId).find((n) => (n.properties.hs_note_body ?? '').includes('is overdue'));
    expect(note?.properties.hs_note_body).toContain(`post-sales review #${reviewId} is overdue`);
    expect(note?.properties.hs_note_body).toContain('The post-sales work waits until a reviewer answers');
    expect(stack.sim.getDeal(dealId)?.properties).toMatchObject({ dealstage: 'closedwon', dealgate_status: 'approved' });
  });

  it('with the Triad on, the decision maker decides it and a designated reviewer may not, as on the pre-sales review', async () => {
    const stack = await start();
    const { dealId } = await wonDeal(stack);
    // The Triad's people are users of the account.
    for (const [userId, email] of [[400, 'tech.lead@example.com'], [500, 'product.manager@example.com']] as const) stack.sim.seedOwner({ userId, email });
    await settings(stack, { triad: { enabled: true, members: { tech_lead: ['400'], product_manager: ['500'], product_marketing: [] }, decisionMaker: 'product_manager' } });
    const reviewId = (await card(stack, REP, 'POST', `/deals/${dealId}/reviews`, postSales)).json.postSales.reviews[0]?.review.id ?? 0;
    const forReviewer = await card(stack, REVIEWER, 'GET', `/deals/${dealId}/gate`);
    expect(forReviewer.json.postSales.reviews[0]).toMatchObject({
      canDecide: false,
      decideDenied: 'the Triad is on: the product manager makes the call (an admin names them in the settings)',
    });
    expect((await card(stack, REVIEWER, 'POST', `/reviews/${reviewId}/decision`, { outcome: 'yes' })).status).toBe(403);
    const forPm = await card(stack, '500', 'GET', `/deals/${dealId}/gate`);
    expect(forPm.json.postSales.reviews[0]).toMatchObject({ canDecide: true, decideDenied: null });
    const decided = await card(stack, '500', 'POST', `/reviews/${reviewId}/decision`, { outcome: 'yes' });
    expect(decided.status).toBe(200);
    expect(decided.json.postSales.reviews[0]?.review.status).toBe('approved');
  });

  it('an approval that does not fit the customer share is refused with the same 409 as any', async () => {
    const stack = await start();
    await settings(stack, { capacity: { engineerWeeksPerQuarter: 100, commitmentShare: 0.1 } });
    const { dealId } = await wonDeal(stack);
    const reviewId = (await card(stack, REP, 'POST', `/deals/${dealId}/reviews`, { ...postSales, effortWeeks: 8 })).json.postSales.reviews[0]?.review.id ?? 0;
    const refused = await card<ApiErrorBody>(stack, REVIEWER, 'POST', `/reviews/${reviewId}/decision`, { outcome: 'yes' });
    expect(refused.status).toBe(409);
    expect(refused.json.error.message).toBe(`approving 8 weeks exceeds the ${quarterOf(stack.clock.now())} allocation: 7 of 10 weeks remain; name an approved commitment to deprioritize, or answer yes-but or no`);
    expect((await stack.store.reviews.get(stack.sim.portalId, reviewId))?.status).toBe('pending');
  });
});
