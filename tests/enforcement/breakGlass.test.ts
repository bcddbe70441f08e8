import type { GateResponse, SettingsInput, SettingsResponse } from '../../extensions/contract/api';
import { ManualClock } from '../../src/server/shared/clock';
import { HOUR_MS } from '../../src/server/domain/sla';
import { cardRequest, type CardResponse } from '../support/cardClient';
import { waitUntil } from '../support/process';
import type { Stack } from '../support/stack';
import { TEST_PEOPLE, nameOf } from '../support/people';
import { ADMIN, REP, REVIEWER, revertNotes, seedGatedDeal, stackPerTest, stageOf } from './world';

/**
 * Break-glass and the effort trigger (issue 15) end to end: the admin opens a break-glass from the
 * card, the rep moves the deal in the simulator, its webhooks reach the real service; a fake clock
 * closes the box, and the SLA worker's round (the lease holder's) hands the deal back to enforcement.
 */
describe('break-glass, enforced', () => {
  // The test account's people (admin 900 is Barbara Liskov): notes and the audit name them.
  const start = stackPerTest({ defaults: { valueThreshold: 50_000, reviewers: [REVIEWER], admins: [String(ADMIN)] }, simulator: { owners: [...TEST_PEOPLE] } });
  let stack: Stack;
  let clock: ManualClock;
  beforeEach(async () => {
    clock = new ManualClock(Date.UTC(2026, 10, 2, 9, 0, 0));
    stack = await start({ clock });
  });

  const card = <T = GateResponse>(userId: string | number, method: 'GET' | 'POST' | 'PUT', path: string, body?: unknown): Promise<CardResponse<T>> =>
    cardRequest<T>(stack.url, stack.clientSecret, { method, path: `/api/v1${path}`, userId, portalId: stack.sim.portalId, body, timestamp: clock.now() });
  const violationsOf = async (dealId: string) => await stack.store.gateViolations.listForDeal(stack.sim.portalId, dealId);
  const notesWith = (dealId: string, text: string) => stack.sim.notesForDeal(dealId).filter((n) => (n.properties.hs_note_body ?? '').includes(text));
  const actions = async (dealId: string) => (await stack.store.audit.listForDeal(stack.sim.portalId, dealId)).map((e) => e.action).filter((a) => a.startsWith('break_glass'));
  const ended = (dealId: string) => async () => (await stack.store.breakGlasses.listForDeal(stack.sim.portalId, dealId)).every((g) => g.closedAt !== null);

  async function requestReview(dealId: string): Promise<number> {
    const requested = await card(REP, 'POST', `/deals/${dealId}/reviews`, { summary: 'SAML SSO with the customer IdP', effortWeeks: 3 });
    expect(requested.status).toBe(201);
    return requested.json.review?.id ?? 0;
  }

  async function breakGlass(dealId: string, hours?: number): Promise<GateResponse> {
    const opened = await card(ADMIN, 'POST', `/deals/${dealId}/break-glass`, { reason: 'Customer signs on Friday; CTO on a plane', ...(hours === undefined ? {} : { hours }) });
    expect(opened.status).toBe(201);
    return opened.json;
  }

  it('lets the move past Contract through while open, notes who, why and until when, and moves it back once when the box closes with no decision', async () => {
    const deal = seedGatedDeal(stack);
    await requestReview(deal.id);
    const openedAt = clock.now();
    const shown = await breakGlass(deal.id);
    const until = new Date(openedAt + 72 * HOUR_MS).toISOString();
    expect(shown.breakGlass.latest).toMatchObject({ openedBy: String(ADMIN), reason: 'Customer signs on Friday; CTO on a plane', until, open: true });
    expect(shown.gate).toMatchObject({ mayAdvance: true, breakGlassHolds: true, status: 'pending' });

    stack.sim.moveDealToStage(deal.id, 'closedwon', { userId: REP });
    await stack.settle();
    expect(stageOf(stack, deal.id)).toBe('closedwon');
    expect(await violationsOf(deal.id)).toEqual([]);
    const note = notesWith(deal.id, 'break-glass')[0]?.properties.hs_note_body ?? '';
    expect(note).toContain(`${nameOf(String(ADMIN))} let this deal pass the Contract Sent gate without a technical review, until ${until}`);
    expect(note).toContain('Why: Customer signs on Friday; CTO on a plane');

    // Just before the end, the round changes nothing.
    clock.advance(72 * HOUR_MS - 60_000);
    await new Promise((r) => setTimeout(r, 200));
    await stack.settle();
    expect(stageOf(stack, deal.id)).toBe('closedwon');

    clock.advance(60_000);
    await waitUntil(ended(deal.id), 10_000, 'the break-glass to end');
    await waitUntil(() => stageOf(stack, deal.id) === 'contractsent', 10_000, 'the deal to be moved back');
    await stack.settle();
    expect(await violationsOf(deal.id)).toEqual([expect.objectContaining({ movedByUserId: String(REP), fromStage: 'contractsent', toStage: 'closedwon', cause: 'reconciliation' })]);
    expect(revertNotes(stack, deal.id)).toHaveLength(1);
    expect(notesWith(deal.id, 'ended at')).toHaveLength(1);
    expect(notesWith(deal.id, 'ended at')[0]?.properties.hs_note_body).toContain(`the break-glass by ${nameOf(String(ADMIN))} ended at ${until} with no decision`);
    expect(await actions(deal.id)).toEqual(['break_glass_opened', 'break_glass_expired']);
    const expired = (await stack.store.audit.listForDeal(stack.sim.portalId, deal.id)).find((e) => e.action === 'break_glass_expired');
    expect(expired?.reason).toContain(`the break-glass by ${nameOf(String(ADMIN))} ended at ${until}`);
    expect((await stack.store.breakGlasses.listForDeal(stack.sim.portalId, deal.id))[0]).toMatchObject({ closedAs: 'expired' });

    // More rounds, a day later: nothing twice.
    clock.advance(24 * HOUR_MS);
    await new Promise((r) => setTimeout(r, 300));
    await stack.settle();
    expect(await violationsOf(deal.id)).toHaveLength(1);
    expect(revertNotes(stack, deal.id)).toHaveLength(1);
    // And the deal is gated like any other again: moved past Contract, it comes back.
    stack.sim.moveDealToStage(deal.id, 'closedwon', { userId: REP });
    await stack.settle();
    expect(stageOf(stack, deal.id)).toBe('contractsent');
  });

  it('leaves the deal where it is when a reviewer says yes within the box', async () => {
    const deal = seedGatedDeal(stack);
    const reviewId = await requestReview(deal.id);
    await breakGlass(deal.id, 24);
    stack.sim.moveDealToStage(deal.id, 'closedwon', { userId: REP });
    await stack.settle();
    clock.advance(2 * HOUR_MS);
    expect((await card(REVIEWER, 'POST', `/reviews/${reviewId}/decision`, { outcome: 'yes' })).status).toBe(200);
    await waitUntil(ended(deal.id), 10_000, 'the break-glass to end with the decision');
    clock.advance(48 * HOUR_MS);
    await new Promise((r) => setTimeout(r, 300));
    await stack.settle();
    expect(stageOf(stack, deal.id)).toBe('closedwon');
    expect(await violationsOf(deal.id)).toEqual([]);
    expect(notesWith(deal.id, 'ended at')).toEqual([]);
    expect(await actions(deal.id)).toEqual(['break_glass_opened', 'break_glass_decided']);
  });

  it('moves the deal back when the reviewer says no within the box: the answer speaks for the deal, not the break-glass', async () => {
    const deal = seedGatedDeal(stack);
    const reviewId = await requestReview(deal.id);
    await breakGlass(deal.id);
    stack.sim.moveDealToStage(deal.id, 'closedwon', { userId: REP });
    await stack.settle();
    expect((await card(REVIEWER, 'POST', `/reviews/${reviewId}/decision`, { outcome: 'no', note: 'Not on this architecture' })).status).toBe(200);
    await waitUntil(() => stageOf(stack, deal.id) === 'contractsent', 10_000, 'the rejected deal to be moved back');
    await stack.settle();
    expect(await violationsOf(deal.id)).toHaveLength(1);
  });
});

describe('the effort trigger, enforced', () => {
  const start = stackPerTest({ defaults: { valueThreshold: 50_000, reviewers: [REVIEWER], admins: [String(ADMIN)] } });

  async function settings(stack: Stack, change: Partial<SettingsInput>): Promise<CardResponse<SettingsResponse>> {
    const call = <T>(method: 'GET' | 'PUT', body?: unknown) =>
      cardRequest<T>(stack.url, stack.clientSecret, { method, path: '/api/v1/settings', userId: ADMIN, portalId: stack.sim.portalId, body, timestamp: stack.clock.now() });
    const current = await call<SettingsResponse>('GET');
    return await call<SettingsResponse>('PUT', { ...current.json.settings, ...change });
  }

  it.each([
    // mode, amount, effort, reverted
    ['effort', '10000', '6', true],
    ['effort', '80000', '1', false],
    ['either', '10000', '6', true],
    ['either', '80000', '1', true],
    ['both', '80000', '1', false],
    ['both', '80000', '6', true],
  ] as const)('under %s (amount %s, %s weeks): moved back %s, and the card says the same', async (mode, amount, effort, reverted) => {
    const stack = await start();
    expect((await settings(stack, { triggerMode: mode, effortThreshold: 2 })).status).toBe(200);
    const deal = seedGatedDeal(stack, { amount, dealgate_effort_weeks: effort });
    const shown = await cardRequest<GateResponse>(stack.url, stack.clientSecret, { method: 'GET', path: `/api/v1/deals/${deal.id}/gate`, userId: REP, portalId: stack.sim.portalId });
    expect(shown.json.gate).toMatchObject({ reviewRequired: reverted, triggerMode: mode, effortThreshold: 2 });
    stack.sim.moveDealToStage(deal.id, 'closedwon', { userId: REP });
    await stack.settle();
    expect(stageOf(stack, deal.id)).toBe(reverted ? 'contractsent' : 'closedwon');
    expect(await stack.store.gateViolations.listForDeal(stack.sim.portalId, deal.id)).toHaveLength(reverted ? 1 : 0);
  });

  it('refuses a mode that looks at the effort without an effort threshold, naming the field', async () => {
    const stack = await start();
    const refused = await settings(stack, { triggerMode: 'either', effortThreshold: null });
    expect(refused.status).toBe(400);
    expect(JSON.stringify(refused.json)).toContain('effortThreshold');
  });
});

describe('break-glass over a deal flagged where it sits', () => {
  const start = stackPerTest({ defaults: { valueThreshold: 50_000, reviewers: [REVIEWER], admins: [String(ADMIN)] } });

  it('leaves a deal the tightened rules flagged where it is when its box closes, however its facts changed meanwhile', async () => {
    const clock = new ManualClock(Date.UTC(2026, 10, 2, 9, 0, 0));
    const stack = await start({ clock });
    const card = <T>(method: 'GET' | 'POST' | 'PUT', path: string, body?: unknown) =>
      cardRequest<T>(stack.url, stack.clientSecret, { method, path: `/api/v1${path}`, userId: ADMIN, portalId: stack.sim.portalId, body, timestamp: clock.now() });
    // Won under the 50k threshold, legally; then the threshold drops to 20k: flagged, not moved.
    const deal = seedGatedDeal(stack, { amount: '30000' });
    stack.sim.moveDealToStage(deal.id, 'closedwon', { userId: REP });
    await stack.settle();
    clock.advance(HOUR_MS);
    const current = await card<SettingsResponse>('GET', '/settings');
    expect((await card('PUT', '/settings', { ...current.json.settings, valueThreshold: 20_000 })).status).toBe(200);
    await stack.settle();
    const flagged = async () => (await stack.store.dealFlags.openForDeal(stack.sim.portalId, deal.id)).map((f) => f.kind);
    expect(await flagged()).toEqual(['rules_tightened']);

    expect((await card('POST', `/deals/${deal.id}/break-glass`, { reason: 'renewal paperwork', hours: 2 })).status).toBe(201);
    // A fact changes while the box is open (the webhook reconciles the deal).
    stack.sim.updateDealAsUser(deal.id, { amount: '31000' }, { userId: REP });
    await stack.settle();
    expect(await flagged()).toEqual(['rules_tightened']);

    clock.advance(2 * HOUR_MS);
    await waitUntil(async () => (await stack.store.breakGlasses.listForDeal(stack.sim.portalId, deal.id)).every((g) => g.closedAt !== null), 10_000, 'the box to close');
    await new Promise((r) => setTimeout(r, 200));
    await stack.settle();
    expect(stageOf(stack, deal.id)).toBe('closedwon');
    expect(await stack.store.gateViolations.listForDeal(stack.sim.portalId, deal.id)).toEqual([]);
  });
});
