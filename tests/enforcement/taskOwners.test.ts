import type { GateResponse, SettingsResponse } from '../../extensions/contract/api';
import { cardRequest, type CardResponse } from '../support/cardClient';
import type { Stack } from '../support/stack';
import { ADMIN, ESCALATION, REP, REVIEWER, seedGatedDeal, stackPerTest } from './world';

/**
 * HubSpot assigns tasks to owners: the outbox maps a reviewer's user id to their owner id from the
 * account's owners, which it caches. A reviewer added while that cache is fresh (a new HubSpot
 * owner made a reviewer minutes after the last task went out) gets their task assigned all the
 * same: a user id the cache lacks reads the owners again.
 */
const NEW_REVIEWER = '201';
const OWNERS = [
  { email: 'rev.one@example.com', userId: Number(REVIEWER), id: '7001' },
  { email: 'esc.alation@example.com', userId: Number(ESCALATION), id: '7003' },
  { email: 'ad.min@example.com', userId: ADMIN, id: '7009' },
];

describe('review tasks for a reviewer added since the owners were read', () => {
  const start = stackPerTest({ defaults: { valueThreshold: 50_000, reviewers: [REVIEWER], admins: [String(ADMIN)], escalationReviewer: ESCALATION }, simulator: { owners: OWNERS } });

  const card = <T = GateResponse>(stack: Stack, userId: string | number, method: 'GET' | 'POST' | 'PUT', path: string, body?: unknown): Promise<CardResponse<T>> =>
    cardRequest<T>(stack.url, stack.clientSecret, { method, path: `/api/v1${path}`, userId, portalId: stack.sim.portalId, body, timestamp: stack.clock.now() });
  const taskOwners = (stack: Stack, dealId: string) => stack.sim.tasksForDeal(dealId).map((t) => t.properties.hubspot_owner_id ?? null).sort();

  it('the new reviewer’s task carries their owner id', async () => {
    const stack = await start();
    const first = seedGatedDeal(stack);
    expect((await card(stack, REP, 'POST', `/deals/${first.id}/reviews`, { summary: 'SAML SSO', effortWeeks: 3 })).status).toBe(201);
    await stack.settle();
    expect(taskOwners(stack, first.id)).toEqual(['7001']);

    // A new HubSpot user, made a reviewer by the admin within the ten minutes the owners are cached.
    stack.sim.seedOwner({ email: 'new.reviewer@example.com', userId: Number(NEW_REVIEWER), id: '7002' });
    const current = await card<SettingsResponse>(stack, ADMIN, 'GET', '/settings');
    const saved = await card<SettingsResponse>(stack, ADMIN, 'PUT', '/settings', { ...current.json.settings, reviewers: [REVIEWER, NEW_REVIEWER] });
    expect(saved.status).toBe(200);

    const second = seedGatedDeal(stack);
    expect((await card(stack, REP, 'POST', `/deals/${second.id}/reviews`, { summary: 'SAML SSO', effortWeeks: 3 })).status).toBe(201);
    await stack.settle();
    expect(taskOwners(stack, second.id)).toEqual(['7001', '7002']);
  });
});
