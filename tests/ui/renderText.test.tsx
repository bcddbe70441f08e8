import type { DashboardResponse, GateResponse } from '../../extensions/contract/api';
import { renderCardAsText, renderDashboardAsText } from '../../extensions/text/renderText';
import { startLiveService, users, type LiveService } from './support/liveService';

let live: LiveService;
beforeEach(async () => {
  live = await startLiveService();
});
afterEach(async () => {
  await live.close();
});

async function gateFor(userId: string, dealId: string): Promise<GateResponse> {
  const r = await live.call<GateResponse>(userId, 'GET', `/api/v1/deals/${dealId}/gate`);
  expect(r.status).toBe(200);
  return r.json;
}

describe('the card as plain text (for the demo)', () => {
  it('reads a pending review the way the rep sees it, and the way the reviewer sees it', async () => {
    const dealId = live.seedDeal({ dealname: 'Acme rollout', dealstage: 'qualifiedtobuy', amount: '80000' });
    await live.call(users.rep, 'POST', `/api/v1/deals/${dealId}/reviews`, { summary: 'SSO with Okta', effortWeeks: 3, neededBy: '2026-12-15' });
    live.clock.advance(5 * 3_600_000);

    const rep = renderCardAsText(await gateFor(users.rep, dealId), users.rep);
    const repLines = rep.split('\n');
    expect(repLines[0]).toBe(`Deal ${dealId} "Acme rollout", seen by Grace Hopper (rep)`);
    expect(repLines).toEqual(
      expect.arrayContaining([
        '== Engineering review ==',
        '[Waiting for engineering]',
        'Feature commitment: Yes: SSO with Okta (3 weeks of engineering)',
        'Review required: Yes',
        'Amount vs threshold: 80,000 vs 50,000',
        'Gate stage: Contract Sent',
        "Engineering's answer: Due in 1 d 19 h (SLA 48 h)",
        '< Withdraw the request >',
        'To change the commitment: review #1 is already waiting for an answer; withdraw it first.',
        '== History ==',
      ]),
    );
    expect(rep).toMatch(/2026-11-02 09:00 UTC \| Review requested \| you \(Grace Hopper\) \| no review needed -> waiting for an answer; review requested/);
    expect(rep).not.toContain('Answer *');

    const reviewer = renderCardAsText(await gateFor(users.reviewer, dealId), users.reviewer);
    expect(reviewer.split('\n')[0]).toContain('seen by Ada Lovelace (rep, reviewer)');
    expect(reviewer).toContain('Answer *: (choose)   [options: Yes / Yes, but / No]');
    expect(reviewer).toContain('< Send answer >');
    expect(reviewer).not.toContain('< Withdraw the request >');
    expect(reviewer).not.toContain('To change the commitment'); // the reviewer cannot withdraw, so it is not theirs to act on
  });

  it('reads a no with its reason and next steps, and the form to renegotiate with its values', async () => {
    const dealId = live.seedDeal({ dealname: 'Acme', dealstage: 'qualifiedtobuy', amount: '80000' });
    const requested = await live.call<GateResponse>(users.rep, 'POST', `/api/v1/deals/${dealId}/reviews`, { summary: 'SSO', effortWeeks: 3 });
    await live.call(users.reviewer, 'POST', `/api/v1/reviews/${requested.json.review?.id}/decision`, { outcome: 'no', note: 'a quarter of work' });
    const text = renderCardAsText(await gateFor(users.rep, dealId), users.rep);
    expect(text).toContain('[Rejected]');
    expect(text).toContain('! danger: Engineering said no');
    expect(text).toContain('  Reason: a quarter of work (Ada Lovelace, 2026-11-02 09:00 UTC)');
    expect(text).toMatch(/What to do next: renegotiate with the customer/);
    expect(text).toContain('What did the customer ask engineering to build? *: SSO');
    expect(text).toContain('Effort (engineer-weeks) *: 3');
    expect(text).toContain('< Request a new review >');
  });

  it('refuses a response computed for someone else: permissions differ by user', async () => {
    const dealId = live.seedDeal({ dealname: 'Acme', dealstage: 'qualifiedtobuy', amount: '80000' });
    const gate = await gateFor(users.rep, dealId);
    expect(() => renderCardAsText(gate, users.reviewer)).toThrow('computed for user 100, not 200');
  });

  it('reads the deal-desk page', async () => {
    const dealId = live.seedDeal({ dealname: 'Acme', dealstage: 'qualifiedtobuy', amount: '80000' });
    await live.call(users.rep, 'POST', `/api/v1/deals/${dealId}/reviews`, { summary: 'SSO', effortWeeks: 3 });
    const dashboard = await live.call<DashboardResponse>(users.reviewer, 'GET', '/api/v1/dashboard');
    const text = renderDashboardAsText(dashboard.json, users.reviewer);
    expect(text).toContain('== Deal desk, 2026-Q4 ==');
    expect(text).toContain('Waiting for an answer: 1');
    expect(text).toContain('Acme | 80,000 | SSO (3 weeks) | Grace Hopper | [Due in 2 d]');
  });
});
