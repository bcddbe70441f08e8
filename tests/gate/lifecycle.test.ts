import type { ApiErrorBody, GateResponse } from '../../extensions/contract/api';
import { observedFrom, reconcileDealFacts } from '../../src/server/application/dealFacts';
import { nameOf } from '../support/people';
import { startHarness, projectedProperties, ADMIN, ESCALATION, OTHER_REP, REP, REVIEWER, SECOND_REVIEWER, START, type Harness } from './harness';

const HOUR = 60 * 60 * 1000;

/** A rep requests, a reviewer answers, through real HTTP, SQLite and the simulator. */
describe('card API: the review lifecycle', () => {
  let h: Harness;
  let dealId: string;
  beforeEach(async () => {
    h = await startHarness();
    dealId = h.seedDeal();
  });
  afterEach(() => h.close());

  async function request(body: { summary: string; effortWeeks: number; neededBy?: string } = { summary: 'SSO with Okta', effortWeeks: 4 }, userId = REP) {
    const result = await h.call(userId, 'POST', `/deals/${dealId}/reviews`, body);
    expect(result.status).toBe(201);
    const review = result.json.review;
    if (!review) throw new Error('no review in the answer');
    return { gate: result.json, reviewId: review.id };
  }

  async function decide(reviewId: number, body: Record<string, unknown>, userId = REVIEWER) {
    return h.call(userId, 'POST', `/reviews/${reviewId}/decision`, body);
  }

  async function auditActions() {
    return (await h.store.audit.listForDeal(h.sim.portalId, dealId)).map((e) => [e.action, e.actor, e.fromStatus, e.toStatus]);
  }

  it('reads a deal Dealgate has not seen from HubSpot once; the next load costs no HubSpot call', async () => {
    const first = await h.call(REP, 'GET', `/deals/${dealId}/gate`);
    expect(first.status).toBe(200);
    expect(first.json.deal).toMatchObject({ name: 'Acme renewal', amount: 80000, stage: 'decisionmakerboughtin', stageLabel: 'Decision Maker Bought-In', source: 'hubspot' });
    expect(first.json.gate).toMatchObject({ status: 'not_required', commitmentPresent: false, gateStage: { id: 'contractsent', label: 'Contract Sent' }, mayAdvance: true });
    expect(h.sim.requests.count()).toBeGreaterThan(0);

    const before = h.sim.requests.count();
    const second = await h.call(REP, 'GET', `/deals/${dealId}/gate`);
    expect(second.json.deal.source).toBe('snapshot');
    expect(h.sim.requests.count() - before).toBe(0);
  });

  it('shows a commitment set in HubSpot: review required, with the numbers', async () => {
    const other = h.seedDeal({ dealgate_commitment: 'true', dealgate_commitment_summary: 'EU data residency', dealgate_effort_weeks: '6', amount: '120000' });
    const gate = (await h.call(REP, 'GET', `/deals/${other}/gate`)).json;
    expect(gate.gate).toMatchObject({
      status: 'required',
      commitmentPresent: true,
      reviewRequired: true,
      reason: 'Commitment present and amount 120,000 is at or above the 50,000 threshold',
      threshold: 50000,
      amount: 120000,
      mayAdvance: false,
    });
    expect(gate.permissions).toMatchObject({ canRequest: true, canDecide: false, canWithdraw: false });
  });

  it('answers 404 for a deal HubSpot does not have', async () => {
    const result = await h.call<ApiErrorBody>(REP, 'GET', '/deals/99999999/gate');
    expect(result.status).toBe(404);
    expect(result.json.error.code).toBe('not_found');
  });

  it('request: pending with the SLA clock, commitment written to HubSpot, one task per reviewer, audited', async () => {
    const { gate, reviewId } = await request({ summary: 'SSO with Okta', effortWeeks: 4, neededBy: '2027-01-15' });
    expect(gate.gate).toMatchObject({ status: 'pending', reviewRequired: true, mayAdvance: false });
    expect(gate.review).toMatchObject({ status: 'pending', summary: 'SSO with Okta', effortWeeks: 4, neededBy: '2027-01-15', requestedBy: REP, decision: null });
    expect(gate.sla).toEqual({ dueAt: new Date(START + 48 * HOUR).toISOString(), slaHours: 48, remainingMs: 48 * HOUR, overdue: false });
    expect(gate.deal).toMatchObject({ commitment: true, commitmentSummary: 'SSO with Okta', effortWeeks: 4 });
    expect(gate.permissions).toMatchObject({ canRequest: false, canWithdraw: true, canDecide: false });

    const rows = await h.outbox(dealId);
    expect(projectedProperties(rows)).toEqual({
      dealgate_commitment: 'true',
      dealgate_commitment_summary: 'SSO with Okta',
      dealgate_effort_weeks: '4',
      dealgate_status: 'pending',
      dealgate_decided_by: '',
      dealgate_decided_at: '',
      dealgate_conditions: '',
    });
    const tasks = rows.filter((r) => r.kind === 'create_task').map((r) => r.payload as { ownerUserId: string; dueAt: number; subject: string });
    expect(tasks.map((t) => t.ownerUserId).sort()).toEqual([REVIEWER, SECOND_REVIEWER]);
    expect(tasks.every((t) => t.dueAt === START + 48 * HOUR && t.subject === `Technical review #${reviewId}: Acme renewal`)).toBe(true);
    expect(await auditActions()).toEqual([['review_requested', REP, 'not_required', 'pending']]);

    // Seen by a reviewer, the same deal offers the decision.
    const asReviewer = (await h.call(REVIEWER, 'GET', `/deals/${dealId}/gate`)).json;
    expect(asReviewer.permissions).toMatchObject({ canDecide: true, canWithdraw: false });
    expect(asReviewer.caller).toEqual({ userId: REVIEWER, person: { userId: REVIEWER, name: 'Ada Lovelace', email: 'ada.lovelace@example.com' }, roles: ['rep', 'reviewer'] });
  });

  it('does not assign a task to a reviewer who requested the review themselves', async () => {
    await request(undefined, REVIEWER);
    const owners = (await h.outbox(dealId)).filter((r) => r.kind === 'create_task').map((r) => (r.payload as { ownerUserId: string }).ownerUserId);
    expect(owners).toEqual([SECOND_REVIEWER]);
  });

  it('refuses a second request while one is waiting (409)', async () => {
    await request();
    const again = await h.call<ApiErrorBody>(OTHER_REP, 'POST', `/deals/${dealId}/reviews`, { summary: 'Other', effortWeeks: 1 });
    expect(again.status).toBe(409);
    expect(again.json.error.code).toBe('conflict');
  });

  it('yes: approved, the deal may advance, status and decision projected, a note written, audited', async () => {
    const { reviewId } = await request();
    h.clock.advance(5 * HOUR);
    const result = await decide(reviewId, { outcome: 'yes', note: 'fits the Q4 roadmap' });
    expect(result.status).toBe(200);
    expect(result.json.gate).toMatchObject({ status: 'approved', mayAdvance: true });
    expect(result.json.review).toMatchObject({
      status: 'approved',
      coversDeal: true,
      decision: { outcome: 'yes', note: 'fits the Q4 roadmap', decidedBy: REVIEWER, decidedAt: new Date(START + 5 * HOUR).toISOString(), quarter: '2026-Q4' },
    });
    expect(result.json.sla).toBeNull();
    // Requesting stays open for a renegotiated commitment (the same one is refused, below).
    expect(result.json.permissions).toMatchObject({ canRequest: true, canDecide: false, canWithdraw: false });
    const props = projectedProperties(await h.outbox(dealId));
    expect(props).toMatchObject({ dealgate_status: 'approved', dealgate_decided_by: nameOf(REVIEWER), dealgate_decided_at: new Date(START + 5 * HOUR).toISOString(), dealgate_conditions: '' });
    const notes = (await h.outbox(dealId)).filter((r) => r.kind === 'create_note').map((r) => (r.payload as { body: string }).body);
    expect(notes).toHaveLength(1);
    expect(notes[0]).toContain(`technical review #${reviewId}: Yes`);
    expect(notes[0]).toContain('fits the Q4 roadmap');
    expect(await auditActions()).toEqual([
      ['review_requested', REP, 'not_required', 'pending'],
      ['review_decided', REVIEWER, 'pending', 'approved'],
      // The yes is now a commitment engineering owns (issue 14; tests/gate/delivery.test.ts).
      ['delivery_opened', REVIEWER, null, 'planned'],
    ]);
    expect(result.json.history.map((e) => e.action)).toEqual(['review_requested', 'review_decided', 'delivery_opened']);

    // Deciding twice is a conflict, not a second decision.
    const twice = await decide(reviewId, { outcome: 'no', note: 'changed my mind' }, SECOND_REVIEWER);
    expect(twice.status).toBe(409);
  });

  it('yes_but: approved with conditions, written on the deal', async () => {
    const { reviewId } = await request();
    const result = await decide(reviewId, { outcome: 'yes_but', extraWeeks: 2, tradeoff: 'SCIM moves to next quarter' });
    expect(result.status).toBe(200);
    expect(result.json.gate).toMatchObject({ status: 'approved_with_conditions', mayAdvance: true });
    expect(result.json.review?.decision).toMatchObject({ outcome: 'yes_but', extraWeeks: 2, tradeoff: 'SCIM moves to next quarter' });
    expect(projectedProperties(await h.outbox(dealId))).toMatchObject({
      dealgate_status: 'approved_with_conditions',
      dealgate_conditions: '2 extra engineer-weeks; tradeoff: SCIM moves to next quarter',
    });
  });

  it('no: rejected, the deal stays blocked, the same commitment cannot be asked again, a renegotiated one can', async () => {
    const { reviewId } = await request();
    const result = await decide(reviewId, { outcome: 'no', note: 'needs a new identity layer' });
    expect(result.json.gate).toMatchObject({ status: 'rejected', mayAdvance: false });
    const note = (await h.outbox(dealId)).find((r) => r.kind === 'create_note')?.payload as { body: string };
    expect(note.body).toContain('Reason: needs a new identity layer');
    expect(note.body).toContain('renegotiated');

    const same = await h.call<ApiErrorBody>(REP, 'POST', `/deals/${dealId}/reviews`, { summary: 'SSO with Okta', effortWeeks: 4 });
    expect(same.status).toBe(409);
    expect(same.json.error.message).toContain('renegotiate');

    const renegotiated = await request({ summary: 'SSO with Okta (SAML only)', effortWeeks: 2 });
    expect(renegotiated.gate.review).toMatchObject({ status: 'pending', summary: 'SSO with Okta (SAML only)' });
    expect((await h.store.reviews.get(h.sim.portalId, reviewId))?.status).toBe('superseded');
    expect((await auditActions()).map((a) => a[0])).toEqual(['review_requested', 'review_decided', 'review_superseded', 'review_requested']);
  });

  it('a rep cannot decide (403), nor an admin who is not a reviewer, nor a reviewer their own request; the escalation reviewer can', async () => {
    const { reviewId } = await request(undefined, REVIEWER);
    for (const userId of [REP, ADMIN, REVIEWER]) {
      const refused = await decide(reviewId, { outcome: 'yes' }, userId);
      expect(refused.status).toBe(403);
      expect((refused.json as unknown as ApiErrorBody).error.code).toBe('forbidden');
    }
    // The refusal speaks to the caller: "you", not their user id.
    const asRep = await decide(reviewId, { outcome: 'yes' }, REP);
    expect((asRep.json as unknown as ApiErrorBody).error.message).toBe('you are not a designated reviewer of this account; an admin adds reviewers in the settings');
    const own = await decide(reviewId, { outcome: 'yes' }, REVIEWER);
    expect((own.json as unknown as ApiErrorBody).error.message).toBe('you requested this review, so another reviewer must decide it');
    expect((await h.store.reviews.get(h.sim.portalId, reviewId))?.status).toBe('pending');
    const asRequester = (await h.call(REVIEWER, 'GET', `/deals/${dealId}/gate`)).json;
    expect(asRequester.permissions.denied.decide).toBe('you requested this review, so another reviewer must decide it');

    expect((await decide(reviewId, { outcome: 'yes' }, ESCALATION)).status).toBe(200);
  });

  it('withdraw: only the requester or an admin; back to required; a second withdrawal is a conflict', async () => {
    const { reviewId } = await request();
    const stranger = await h.call<ApiErrorBody>(OTHER_REP, 'POST', `/reviews/${reviewId}/withdraw`);
    expect(stranger.status).toBe(403);
    // Someone else is named as the product names people (the account's owners), not by user id.
    expect(stranger.json.error.message).toBe(`only the rep who requested this review (${nameOf(REP)}) or an admin can withdraw it`);

    const withdrawn = await h.call(REP, 'POST', `/reviews/${reviewId}/withdraw`);
    expect(withdrawn.status).toBe(200);
    expect(withdrawn.json.gate).toMatchObject({ status: 'required', mayAdvance: false });
    expect(withdrawn.json.review?.status).toBe('withdrawn');
    expect(withdrawn.json.permissions.canRequest).toBe(true);
    expect(projectedProperties(await h.outbox(dealId)).dealgate_status).toBe('required');
    expect((await auditActions()).at(-1)).toEqual(['review_withdrawn', REP, 'pending', 'withdrawn']);

    expect((await h.call(REP, 'POST', `/reviews/${reviewId}/withdraw`)).status).toBe(409);
    expect((await decide(reviewId, { outcome: 'yes' })).status).toBe(409);

    // hubspot.fetch may send an empty object (or null) as the body of a POST without data.
    const second = await request();
    expect((await h.call(ADMIN, 'POST', `/reviews/${second.reviewId}/withdraw`, {})).status).toBe(200);
    const third = await request();
    expect((await h.call(REP, 'POST', `/reviews/${third.reviewId}/withdraw`, null)).status).toBe(200);
  });

  it('an approval goes stale when the commitment changes in HubSpot: review required again, a note says why', async () => {
    const { reviewId } = await request();
    await decide(reviewId, { outcome: 'yes' });
    // The outbox delivers the request's commitment and the decision to HubSpot.
    expect(await h.deliverOutbox()).toBeGreaterThan(0);
    expect(h.sim.getDeal(dealId)?.properties).toMatchObject({ dealgate_commitment: 'true', dealgate_commitment_summary: 'SSO with Okta', dealgate_status: 'approved' });
    // Decided before the outbox ran: the reviewers' tasks were closed before they were sent, so none was created.
    expect(h.sim.tasksForDeal(dealId)).toHaveLength(0);
    expect(h.sim.notesForDeal(dealId)).toHaveLength(1);
    // The rep edits the summary in HubSpot; the webhook worker hands Dealgate what HubSpot now says.
    h.clock.advance(HOUR);
    h.sim.updateDealAsUser(dealId, { dealgate_commitment_summary: 'SSO with Okta and SCIM provisioning' }, { userId: Number(REP) });
    const changed = await h.ctx.gateway.getDeal(h.sim.portalId, dealId);
    if (!changed) throw new Error('deal vanished');
    await reconcileDealFacts(h.ctx, h.sim.portalId, dealId, observedFrom(changed), REP);

    const gate = (await h.call(REP, 'GET', `/deals/${dealId}/gate`)).json;
    expect(gate.gate).toMatchObject({ status: 'required', mayAdvance: false });
    expect(gate.review).toMatchObject({ id: reviewId, status: 'superseded', coversDeal: false });
    expect(gate.permissions.canRequest).toBe(true);
    const note = (await h.outbox(dealId)).find((r) => r.kind === 'create_note' && r.status === 'pending')?.payload as { body: string };
    expect(note.body).toContain('no longer covers the deal');
    expect(note.body).toContain('the commitment summary changed');
    expect((await auditActions()).slice(-2).map((a) => a.slice(0, 2))).toEqual([
      ['review_superseded', REP],
      ['gate_status_changed', REP],
    ]);

    // The re-review of the changed commitment.
    const again = await request({ summary: 'SSO with Okta and SCIM provisioning', effortWeeks: 4 });
    expect(again.gate.gate.status).toBe('pending');
  });

  it('re-review: asking about a changed commitment from the card supersedes the approval', async () => {
    const { reviewId } = await request();
    await decide(reviewId, { outcome: 'yes_but', extraWeeks: 1 });
    const same = await h.call<ApiErrorBody>(REP, 'POST', `/deals/${dealId}/reviews`, { summary: 'SSO with Okta', effortWeeks: 4 });
    expect(same.status).toBe(409);
    const changed = await request({ summary: 'SSO with Okta', effortWeeks: 6 });
    expect(changed.gate.gate).toMatchObject({ status: 'pending', mayAdvance: false });
    expect((await h.store.reviews.get(h.sim.portalId, reviewId))?.status).toBe('superseded');
    expect(projectedProperties(await h.outbox(dealId))).toMatchObject({ dealgate_effort_weeks: '6', dealgate_status: 'pending', dealgate_conditions: '' });
  });

  it('shows the SLA overdue once the due time passes, and an overdue review can still be decided', async () => {
    const { reviewId } = await request();
    h.clock.advance(49 * HOUR);
    const gate = (await h.call(REP, 'GET', `/deals/${dealId}/gate`)).json;
    expect(gate.gate.status).toBe('overdue');
    expect(gate.review?.status).toBe('overdue');
    expect(gate.sla).toMatchObject({ overdue: true, remainingMs: -HOUR });
    const decided = await decide(reviewId, { outcome: 'yes' });
    expect(decided.json.gate.status).toBe('approved');
  });

  it('refuses an account that never installed on every route (403), and changes nothing', async () => {
    const { reviewId } = await request();
    const otherPortal = h.sim.portalId + 1;
    for (const [method, path, body] of [
      ['GET', `/deals/${h.seedDeal()}/gate`, undefined],
      ['POST', `/reviews/${reviewId}/decision`, { outcome: 'yes' }],
      ['POST', `/reviews/${reviewId}/withdraw`, undefined],
      ['GET', '/dashboard', undefined],
      ['GET', '/settings', undefined],
    ] as const) {
      const result = await h.call<ApiErrorBody>(REVIEWER, method, path, body, otherPortal);
      expect([path, result.status, result.json.error.message]).toEqual([path, 403, `account ${otherPortal} has not installed Dealgate: install it through /oauth/install`]);
    }
    expect((await h.store.reviews.get(h.sim.portalId, reviewId))?.status).toBe('pending');
  });

  it('keeps one installed account out of another: another portal gets 404 for this review and sees none of it', async () => {
    const { reviewId } = await request();
    const otherPortal = h.sim.portalId + 1;
    h.installOtherAccount(otherPortal);
    for (const [path, body] of [
      [`/reviews/${reviewId}/decision`, { outcome: 'yes' }],
      [`/reviews/${reviewId}/withdraw`, undefined],
    ] as const) {
      const result = await h.call<ApiErrorBody>(REVIEWER, 'POST', path, body, otherPortal);
      expect(result.status).toBe(404);
      expect(result.json.error.message).toBe(`review ${reviewId} does not exist in this account`);
    }
    expect((await h.store.reviews.get(h.sim.portalId, reviewId))?.status).toBe('pending');
    const dashboard = await h.call<{ queue: unknown[] }>(REVIEWER, 'GET', '/dashboard', undefined, otherPortal);
    expect(dashboard.json.queue).toEqual([]);
  });
});

export type { GateResponse };
