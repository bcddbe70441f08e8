import type { ApiErrorBody, SettingsResponse } from '../../extensions/contract/api';
import { startHarness, baseSettings, projectedProperties, ADMIN, REP, REVIEWER, type Harness } from './harness';

describe('card API: settings', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness();
  });
  afterEach(() => h.close());

  it('starts from the DEALGATE_* defaults, readable by anyone on the account, with the real pipelines to choose from', async () => {
    const result = await h.call<SettingsResponse>(REP, 'GET', '/settings');
    expect(result.status).toBe(200);
    expect(result.json.settings).toEqual({ ...baseSettings, reviewers: [REVIEWER, '201'], escalationReviewer: '300' });
    expect(result.json.canEdit).toBe(false);
    expect(result.json.updatedAt).toBeNull();
    expect(result.json.pipelines).toEqual([
      expect.objectContaining({ id: 'default', label: 'Sales Pipeline', gateStageId: 'contractsent' }),
    ]);
    expect(result.json.pipelines[0]?.stages.find((s) => s.id === 'closedlost')).toEqual({ id: 'closedlost', label: 'Closed Lost', displayOrder: 6, isClosed: true, isLost: true });
    expect((await h.call<SettingsResponse>(ADMIN, 'GET', '/settings')).json.canEdit).toBe(true);
  });

  it('lets only admins change them (403 for a reviewer, nothing saved)', async () => {
    const refused = await h.call<ApiErrorBody>(REVIEWER, 'PUT', '/settings', { ...baseSettings, reviewers: [REVIEWER, REP] });
    expect(refused.status).toBe(403);
    expect(refused.json.error.code).toBe('forbidden');
    expect(refused.json.error.message).toBe("only admins change Dealgate's settings, and you are not one of this account's admins");
    expect(await h.store.settings.get(h.sim.portalId)).toBeUndefined();
  });

  it('saves a gate stage per pipeline chosen from the real stages, and the gate follows it', async () => {
    const pipeline = h.sim.seedPipeline({
      label: 'Enterprise',
      stages: [{ label: 'Discovery' }, { label: 'Security review' }, { label: 'Contract out' }, { label: 'Won', isClosed: true, probability: 1 }],
    });
    const security = pipeline.stages[1]?.id ?? '';
    const saved = await h.call<SettingsResponse>(ADMIN, 'PUT', '/settings', { ...baseSettings, reviewers: [REVIEWER, REVIEWER, '201'], gateStages: { [pipeline.id]: security } });
    expect(saved.status).toBe(200);
    expect(saved.json.settings.reviewers).toEqual([REVIEWER, '201']);
    expect(saved.json.updatedBy).toBe(ADMIN);
    expect(saved.json.updatedAt).toBe(new Date(h.clock.now()).toISOString());
    expect(saved.json.pipelines.map((p) => [p.id, p.gateStageId])).toEqual([
      ['default', 'contractsent'],
      [pipeline.id, security],
    ]);

    const dealId = h.seedDeal({ pipeline: pipeline.id, dealstage: pipeline.stages[2]?.id ?? '', dealgate_commitment: 'true', dealgate_commitment_summary: 'HIPAA BAA', dealgate_effort_weeks: '3' });
    const gate = (await h.call(REP, 'GET', `/deals/${dealId}/gate`)).json;
    expect(gate.gate).toMatchObject({ gateStage: { id: security, label: 'Security review' }, pastGate: true, mayAdvance: false, status: 'required' });
    expect(gate.deal.pipelineLabel).toBe('Enterprise');
  });

  it('re-evaluates every known deal when the threshold changes, audited and projected to HubSpot', async () => {
    const dealId = h.seedDeal({ amount: '80000', dealgate_commitment: 'true', dealgate_commitment_summary: 'SSO', dealgate_effort_weeks: '2' });
    expect((await h.call(REP, 'GET', `/deals/${dealId}/gate`)).json.gate.status).toBe('required');
    const rowsBefore = (await h.outbox(dealId)).length;

    await h.call(ADMIN, 'PUT', '/settings', { ...baseSettings, valueThreshold: 100000 });
    const gate = (await h.call(REP, 'GET', `/deals/${dealId}/gate`)).json;
    expect(gate.gate).toMatchObject({ status: 'not_required', reviewRequired: false, threshold: 100000, mayAdvance: true });
    expect((await h.outbox(dealId)).length).toBe(rowsBefore + 1);
    expect(projectedProperties(await h.outbox(dealId)).dealgate_status).toBe('not_required');
    const audit = (await h.store.audit.listForDeal(h.sim.portalId, dealId)).at(-1);
    expect(audit).toMatchObject({ action: 'gate_status_changed', actor: ADMIN, fromStatus: 'required', toStatus: 'not_required' });
    expect(audit?.reason).toContain('the threshold changed from 50000 to 100000');

    // Saving without changing the threshold changes no deal.
    await h.call(ADMIN, 'PUT', '/settings', { ...baseSettings, valueThreshold: 100000, slaHours: 24 });
    expect((await h.outbox(dealId)).length).toBe(rowsBefore + 1);
  });

  it('applies the saved SLA to the next request, and an admin can hand admin rights on and lose them', async () => {
    h.sim.seedOwner({ userId: 901, email: 'frances.allen@example.com', firstName: 'Frances', lastName: 'Allen' });
    await h.call(ADMIN, 'PUT', '/settings', { ...baseSettings, slaHours: 24, admins: ['901'] });
    const dealId = h.seedDeal();
    const requested = await h.call(REP, 'POST', `/deals/${dealId}/reviews`, { summary: 'SSO', effortWeeks: 1 });
    expect(requested.json.sla?.slaHours).toBe(24);
    expect((await h.call(ADMIN, 'PUT', '/settings', baseSettings)).status).toBe(403);
    expect((await h.call('901', 'PUT', '/settings', baseSettings)).status).toBe(200);
  });
});

describe('card API: the capacity ledger', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness();
    // 100 engineer-weeks a quarter, 10% for customer commitments: 10 weeks.
    const saved = await h.call(ADMIN, 'PUT', '/settings', { ...baseSettings, capacity: { engineerWeeksPerQuarter: 100, commitmentShare: 0.1 } });
    expect(saved.status).toBe(200);
  });
  afterEach(() => h.close());

  async function requested(effortWeeks: number, summary = `commitment of ${effortWeeks} weeks`) {
    const dealId = h.seedDeal();
    const result = await h.call(REP, 'POST', `/deals/${dealId}/reviews`, { summary, effortWeeks });
    expect(result.status).toBe(201);
    return { dealId, reviewId: result.json.review?.id ?? 0 };
  }

  it('shows the allocation, used and remaining on the card', async () => {
    const a = await requested(6);
    const pending = (await h.call(REP, 'GET', `/deals/${a.dealId}/gate`)).json;
    expect(pending.capacity).toMatchObject({ quarter: '2026-Q4', allocationWeeks: 10, usedWeeks: 0, remainingWeeks: 10, commitments: [] });
    const approved = await h.call(REVIEWER, 'POST', `/reviews/${a.reviewId}/decision`, { outcome: 'yes_but', extraWeeks: 1, tradeoff: 'no mobile' });
    expect(approved.json.capacity).toMatchObject({ usedWeeks: 7, remainingWeeks: 3, commitments: [expect.objectContaining({ reviewId: a.reviewId, weeks: 7 })] });
  });

  it('refuses an approval over the allocation (409 with the candidates), allows a no, and a deprioritization releases weeks', async () => {
    const a = await requested(6);
    expect((await h.call(REVIEWER, 'POST', `/reviews/${a.reviewId}/decision`, { outcome: 'yes' })).status).toBe(200);
    const b = await requested(5);

    const refused = await h.call<ApiErrorBody>(REVIEWER, 'POST', `/reviews/${b.reviewId}/decision`, { outcome: 'yes' });
    expect(refused.status).toBe(409);
    expect(refused.json.error.message).toContain('exceeds the 2026-Q4 allocation: 4 of 10 weeks remain');
    expect(refused.json.error.details).toMatchObject({ allocationWeeks: 10, usedWeeks: 6, remainingWeeks: 4, requestedWeeks: 5, candidates: [expect.objectContaining({ reviewId: a.reviewId })] });
    // Nothing of the refused approval landed: still pending, no decision, no note.
    expect((await h.store.reviews.get(h.sim.portalId, b.reviewId))?.status).toBe('pending');
    expect(await h.store.reviews.decisionFor(h.sim.portalId, b.reviewId)).toBeUndefined();
    expect((await h.outbox(b.dealId)).filter((r) => r.kind === 'create_note')).toEqual([]);
    // A yes-but that adds weeks does not fit either.
    expect((await h.call(REVIEWER, 'POST', `/reviews/${b.reviewId}/decision`, { outcome: 'yes_but', extraWeeks: 1 })).status).toBe(409);

    const deprioritized = await h.call(REVIEWER, 'POST', `/reviews/${b.reviewId}/decision`, { outcome: 'yes', deprioritizeReviewId: a.reviewId });
    expect(deprioritized.status).toBe(200);
    expect(deprioritized.json.review?.decision?.deprioritizedReviewId).toBe(a.reviewId);
    expect(deprioritized.json.capacity).toMatchObject({ usedWeeks: 5, remainingWeeks: 5, commitments: [expect.objectContaining({ reviewId: b.reviewId })] });

    // Deal A shows what happened to its commitment, with an audit entry and a note on it.
    const gateA = (await h.call(REP, 'GET', `/deals/${a.dealId}/gate`)).json;
    expect(gateA.review?.deprioritized).toEqual({ at: new Date(h.clock.now()).toISOString(), forReviewId: b.reviewId });
    expect((await h.store.audit.listForDeal(h.sim.portalId, a.dealId)).at(-1)).toMatchObject({ action: 'commitment_deprioritized', actor: REVIEWER, reviewId: a.reviewId });
    const noteA = (await h.outbox(a.dealId)).find((r) => r.kind === 'create_note' && (r.payload as { body: string }).body.includes('deprioritized'));
    expect(noteA).toBeDefined();

    // A no needs no room.
    const c = await requested(8);
    expect((await h.call(REVIEWER, 'POST', `/reviews/${c.reviewId}/decision`, { outcome: 'no', note: 'no room this quarter' })).status).toBe(200);
    // A deprioritized commitment cannot be deprioritized twice.
    const d = await requested(8);
    expect((await h.call(REVIEWER, 'POST', `/reviews/${d.reviewId}/decision`, { outcome: 'yes', deprioritizeReviewId: a.reviewId })).status).toBe(409);
    // A review of another account is not found.
    const unknown = await h.call(REVIEWER, "POST", `/reviews/${d.reviewId}/decision`, { outcome: "yes", deprioritizeReviewId: 9999 });
    expect(unknown.status).toBe(404);
    expect((await h.store.reviews.get(h.sim.portalId, d.reviewId))?.status).toBe("pending");
  });

  it('books a commitment in the quarter it is needed by, leaving this quarter alone', async () => {
    const a = await requested(9);
    await h.call(REVIEWER, 'POST', `/reviews/${a.reviewId}/decision`, { outcome: 'yes' });
    const dealId = h.seedDeal();
    const b = await h.call(REP, 'POST', `/deals/${dealId}/reviews`, { summary: 'next year', effortWeeks: 9, neededBy: '2027-02-01' });
    const decided = await h.call(REVIEWER, 'POST', `/reviews/${b.json.review?.id ?? 0}/decision`, { outcome: 'yes' });
    expect(decided.status).toBe(200);
    expect(decided.json.review?.decision?.quarter).toBe('2027-Q1');
    expect(decided.json.capacity).toMatchObject({ quarter: '2027-Q1', usedWeeks: 9 });
  });

  it('with many commitments in the quarter, answers the full totals and lists only the largest, counting the rest (card, home page, 409)', async () => {
    // 2,000 weeks a quarter. 300 approvals booked straight into the store (as years of use would):
    // 250 in 2026-Q4 of 1 to 5 weeks (+1 for a yes-but), 50 in 2027-Q1, plus deprioritized and
    // rejected ones that book nothing.
    await h.call(ADMIN, 'PUT', '/settings', { ...baseSettings, capacity: { engineerWeeksPerQuarter: 2000, commitmentShare: 1 } });
    const portalId = h.sim.portalId;
    const at = h.clock.now() - 86_400_000;
    let expectedQ4 = 0;
    const q4: { reviewId: number; weeks: number; decidedAt: number }[] = [];
    for (let i = 0; i < 320; i++) {
      const quarter = i < 250 || i >= 300 ? '2026-Q4' : '2027-Q1';
      const outcome = i >= 310 ? 'no' : i % 3 === 0 ? 'yes_but' : 'yes';
      const effortWeeks = 1 + (i % 5);
      const status = outcome === 'no' ? 'rejected' : outcome === 'yes' ? 'approved' : 'approved_with_conditions';
      const deprioritized = i >= 300 && i < 310;
      const review = await h.store.reviews.insert(portalId, {
        dealId: String(7_000_000 + i), kind: 'pre_sales', status, summary: `seeded ${i}`, effortWeeks, neededBy: null, amountAtRequest: 80000, approvedAmount: null, keepsBooking: false,
        requestedBy: REP, requestedAt: at - 1000, dueAt: at + 1000, escalatedAt: null, closedAt: at + i, deprioritizedAt: deprioritized ? at + i : null, deprioritizedFor: null, updatedAt: at + i,
      });
      const extraWeeks = outcome === 'yes_but' ? 1 : null;
      await h.store.reviews.insertDecision(portalId, { reviewId: review.id, outcome, note: '', extraWeeks, tradeoff: null, deprioritizedReviewId: null, quarter, decidedBy: REVIEWER, decidedAt: at + i });
      if (quarter === '2026-Q4' && outcome !== 'no' && !deprioritized) {
        expectedQ4 += effortWeeks + (extraWeeks ?? 0);
        q4.push({ reviewId: review.id, weeks: effortWeeks + (extraWeeks ?? 0), decidedAt: at + i });
      }
    }
    // The ten largest by weeks (ties: the oldest), listed oldest first.
    const largest = [...q4].sort((a, b) => b.weeks - a.weeks || a.decidedAt - b.decidedAt).slice(0, 10).sort((a, b) => a.decidedAt - b.decidedAt);

    const pending = await requested(3);
    const card = (await h.call(REP, 'GET', `/deals/${pending.dealId}/gate`)).json;
    expect(card.capacity).toMatchObject({ quarter: '2026-Q4', allocationWeeks: 2000, usedWeeks: expectedQ4, remainingWeeks: 2000 - expectedQ4, moreCommitments: 240 });
    expect(card.capacity?.commitments.map((c) => [c.reviewId, c.weeks])).toEqual(largest.map((c) => [c.reviewId, c.weeks]));
    const home = (await h.call(ADMIN, 'GET', '/dashboard')).json;
    expect(home.capacity).toEqual(card.capacity);

    // Filled up to 1 week left: a 3-week approval is refused with the same totals and bounded candidates.
    await h.call(ADMIN, 'PUT', '/settings', { ...baseSettings, capacity: { engineerWeeksPerQuarter: expectedQ4 + 1, commitmentShare: 1 } });
    const refused = await h.call<ApiErrorBody>(REVIEWER, 'POST', `/reviews/${pending.reviewId}/decision`, { outcome: 'yes' });
    expect(refused.status).toBe(409);
    expect(refused.json.error.details).toMatchObject({ usedWeeks: expectedQ4, remainingWeeks: 1, requestedWeeks: 3, moreCommitments: 240 });
    expect((refused.json.error.details as { candidates: { reviewId: number }[] }).candidates.map((c) => c.reviewId)).toEqual(largest.map((c) => c.reviewId));
    // Naming a 1-week commitment (not listed) makes too little room; naming a listed 6-week one does.
    const small = q4.find((c) => c.weeks === 1)!;
    expect((await h.call<ApiErrorBody>(REVIEWER, 'POST', `/reviews/${pending.reviewId}/decision`, { outcome: 'yes', deprioritizeReviewId: small.reviewId })).json.error.message).toContain(
      `even after deprioritizing review ${small.reviewId} (1 weeks)`,
    );
    const target = largest[0]!;
    const approved = await h.call(REVIEWER, 'POST', `/reviews/${pending.reviewId}/decision`, { outcome: 'yes', deprioritizeReviewId: target.reviewId });
    expect(approved.status).toBe(200);
    expect(approved.json.capacity).toMatchObject({ usedWeeks: expectedQ4 - target.weeks + 3, remainingWeeks: target.weeks - 2, moreCommitments: 240 });
    expect(approved.json.capacity?.commitments).toHaveLength(10);
  });

  it('refuses nothing when no capacity is configured (the ledger is off)', async () => {
    await h.call(ADMIN, 'PUT', '/settings', baseSettings);
    const a = await requested(500);
    const decided = await h.call(REVIEWER, 'POST', `/reviews/${a.reviewId}/decision`, { outcome: 'yes' });
    expect(decided.status).toBe(200);
    expect(decided.json.capacity).toBeNull();
  });
});
