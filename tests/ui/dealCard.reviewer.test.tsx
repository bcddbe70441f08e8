import { Alert, LoadingButton, NumberInput, ProgressBar, Select, TableRow, Text, TextArea } from '@hubspot/ui-extensions';
import type { Renderer } from '@hubspot/ui-extensions/testing';
import type { GateResponse, SettingsResponse } from '../../extensions/contract/api';
import { startLiveService, users, type LiveService } from './support/liveService';
import { eventually, fire, openCard, openLoadedCard, says, statusOf, WAIT } from './cardHarness';

let live: LiveService;
beforeEach(async () => {
  live = await startLiveService();
});
afterEach(async () => {
  await live.close();
});

const posts = () => live.calls.filter((c) => c.method === 'POST');

async function pendingDeal(summary = 'SSO with Okta', effortWeeks = 3, name = 'Acme rollout'): Promise<{ dealId: string; reviewId: number }> {
  const dealId = live.seedDeal({ dealname: name, dealstage: 'qualifiedtobuy', amount: '80000' });
  const r = await live.call<GateResponse>(users.rep, 'POST', `/api/v1/deals/${dealId}/reviews`, { summary, effortWeeks, neededBy: '2026-12-15' });
  expect(r.status).toBe(201);
  return { dealId, reviewId: r.json.review?.id ?? 0 };
}

/** Changes the account's settings through the real API, as an admin would on the settings page. */
async function changeSettings(change: (s: SettingsResponse['settings']) => SettingsResponse['settings']) {
  const current = await live.call<SettingsResponse>(users.admin, 'GET', '/api/v1/settings');
  const saved = await live.call(users.admin, 'PUT', '/api/v1/settings', change(current.json.settings));
  expect(saved.status).toBe(200);
}

function answer(renderer: Renderer<'crm.record.tab'>, outcome: 'yes' | 'yes_but' | 'no') {
  fire(renderer.findByTestId(Select, 'decision-outcome'), 'onChange', outcome);
}
const send = (renderer: Renderer<'crm.record.tab'>) => fire(renderer.findByTestId(LoadingButton, 'decide'), 'onClick');

describe('the deal card, for a reviewer', () => {
  it('answers yes: approved, the decision form gone, the CRM refreshed and HubSpot updated', async () => {
    const { dealId } = await pendingDeal();
    const gate = live.gatedFetcherFor(users.reviewer);
    const renderer = openCard(live, dealId, gate.fetcher);
    await renderer.waitFor(() => expect(statusOf(renderer)).toBe('Waiting for engineering'), WAIT);
    // A reviewer sees the commitment and the clock, and no request form (the review is waiting).
    expect(says(renderer, Text, 'review-summary')).toContain('requested by Grace Hopper');
    expect(renderer.maybeFindByTestId(LoadingButton, 'withdraw')).toBeNull();
    answer(renderer, 'yes');
    fire(renderer.findByTestId(TextArea, 'decision-note'), 'onChange', 'Standard SAML, fits the roadmap');
    gate.hold();
    send(renderer);
    await eventually(() => expect(gate.waiting()).toBe(1));
    expect(renderer.findByTestId(LoadingButton, 'decide').props).toMatchObject({ loading: true, disabled: true });
    gate.release();
    await renderer.waitFor(() => expect(statusOf(renderer)).toBe('Approved'), WAIT);
    expect(renderer.findByTestId(Alert, 'answer').props.title).toBe('Engineering said yes');
    expect(says(renderer, Alert, 'answer')).toContain('Standard SAML, fits the roadmap (you (Ada Lovelace)');
    expect(renderer.maybeFindByTestId(LoadingButton, 'decide')).toBeNull();
    expect(renderer.mocks.actions.refreshObjectProperties.calls).toHaveLength(1);
    await live.stack.settle();
    expect(live.stack.sim.getDeal(dealId)?.properties.dealgate_status).toBe('approved');
  });

  it('refuses a yes-but without extra weeks or a tradeoff, by field, then sends one with both', async () => {
    const { dealId } = await pendingDeal();
    const renderer = await openLoadedCard(live, dealId, users.reviewer);
    answer(renderer, 'yes_but');
    send(renderer);
    expect(renderer.findByTestId(NumberInput, 'decision-extra-weeks').props).toMatchObject({
      error: true,
      validationMessage: 'a yes-but needs extra weeks and/or a tradeoff, written down',
    });
    expect(posts()).toHaveLength(1); // only the rep's request
    fire(renderer.findByTestId(NumberInput, 'decision-extra-weeks'), 'onChange', 2);
    fire(renderer.findByTestId(TextArea, 'decision-tradeoff'), 'onChange', 'no custom claims mapping');
    send(renderer);
    await renderer.waitFor(() => expect(statusOf(renderer)).toBe('Approved with conditions'), WAIT);
    expect(renderer.findByTestId(Text, 'condition-extra-weeks').text).toContain('2 weeks more');
    expect(renderer.findByTestId(Text, 'condition-tradeoff').text).toBe('Tradeoff: no custom claims mapping');
  });

  it('refuses a no without a reason, by field, then sends one with the reason', async () => {
    const { dealId } = await pendingDeal();
    const renderer = await openLoadedCard(live, dealId, users.reviewer);
    answer(renderer, 'no');
    expect(renderer.findByTestId(TextArea, 'decision-note').props).toMatchObject({ label: 'Reason (required for a no)', required: true });
    send(renderer);
    expect(renderer.findByTestId(TextArea, 'decision-note').props).toMatchObject({ error: true, validationMessage: 'a no needs a reason' });
    expect(posts()).toHaveLength(1);
    fire(renderer.findByTestId(TextArea, 'decision-note'), 'onChange', 'SCIM is a quarter of work');
    send(renderer);
    await renderer.waitFor(() => expect(statusOf(renderer)).toBe('Rejected'), WAIT);
    expect(says(renderer, Alert, 'answer')).toContain('Reason: SCIM is a quarter of work');
    expect(says(renderer, TableRow, 'history-row-0')).toContain('Answered');
  });

  it('shows the allocation when an approval would exceed it, and deprioritizes the commitment the reviewer picks', async () => {
    await changeSettings((s) => ({ ...s, capacity: { engineerWeeksPerQuarter: 10, commitmentShare: 0.5 } }));
    const first = await pendingDeal('Audit log export', 4, 'Globex');
    expect((await live.call(users.reviewer, 'POST', `/api/v1/reviews/${first.reviewId}/decision`, { outcome: 'yes' })).status).toBe(200);
    const second = await pendingDeal('SSO with Okta', 3, 'Initech');

    const renderer = await openLoadedCard(live, second.dealId, users.reviewer);
    expect(renderer.findByTestId(ProgressBar, 'capacity-bar').props).toMatchObject({
      value: 4,
      maxValue: 5,
      title: 'Engineering capacity for customer commitments, 2026-Q4',
      valueDescription: '4 weeks used of 5 weeks, 1 week remaining',
    });
    answer(renderer, 'yes');
    expect(says(renderer, Alert, 'capacity-warning')).toBe(
      'Approving 3 weeks needs more than the 1 week left of 5 weeks (4 weeks already committed). Choose an approved commitment to deprioritize, or answer no.',
    );
    const choices = renderer.findByTestId(Select, 'decision-deprioritize').props.options;
    expect(choices).toEqual([{ value: first.reviewId, label: `#${first.reviewId} Globex: Audit log export (4 weeks)` }]);

    // Sent without a choice, the service refuses with the allocation; the card keeps asking.
    send(renderer);
    await renderer.waitFor(() => expect(renderer.findByTestId(Alert, 'action-error')).toBeDefined(), WAIT);
    expect(says(renderer, Alert, 'action-error')).toContain('exceeds the 2026-Q4 allocation');
    expect(says(renderer, Alert, 'capacity-warning')).toContain('name an approved commitment to deprioritize');
    expect(renderer.mocks.actions.refreshObjectProperties.calls).toHaveLength(0);

    fire(renderer.findByTestId(Select, 'decision-deprioritize'), 'onChange', first.reviewId);
    send(renderer);
    await renderer.waitFor(() => expect(statusOf(renderer)).toBe('Approved'), WAIT);
    expect(renderer.findByTestId(ProgressBar, 'capacity-bar').props).toMatchObject({ value: 3, maxValue: 5 });

    // The rep of the deprioritized deal sees it on their card.
    const rep = await openLoadedCard(live, first.dealId, users.rep);
    expect(says(rep, Alert, 'deprioritized')).toContain(`to make room for review #${second.reviewId}`);
  });

  it('with more commitments than the service lists, counts all of them and offers the largest "and N more"', async () => {
    await changeSettings((s) => ({ ...s, capacity: { engineerWeeksPerQuarter: 13, commitmentShare: 1 } }));
    const approved: number[] = [];
    for (let i = 0; i < 12; i++) {
      const { reviewId } = await pendingDeal(`Commitment ${i}`, 1, `Deal ${i}`);
      expect((await live.call(users.reviewer, 'POST', `/api/v1/reviews/${reviewId}/decision`, { outcome: 'yes' })).status).toBe(200);
      approved.push(reviewId);
    }
    const last = await pendingDeal('SSO with Okta', 3, 'Initech');
    const renderer = await openLoadedCard(live, last.dealId, users.reviewer);
    expect(renderer.findByTestId(ProgressBar, 'capacity-bar').props).toMatchObject({ value: 12, maxValue: 13 });
    expect(says(renderer, Text, 'capacity-basis')).toBe('100% of 13 weeks per quarter; 12 approved commitments this quarter.');
    answer(renderer, 'yes');
    // All the same size: the ten oldest are listed, the other two counted.
    expect(renderer.findByTestId(Select, 'decision-deprioritize').props.options.map((o: { value: unknown }) => o.value)).toEqual(approved.slice(0, 10));
    expect(says(renderer, Text, 'decision-deprioritize-more')).toBe('The 10 largest approved commitments of 2026-Q4, and 2 more, none larger.');
  }, 30_000);

  it('explains a refusal when another reviewer answered first, and shows the deal as it is now', async () => {
    const { dealId, reviewId } = await pendingDeal();
    const renderer = await openLoadedCard(live, dealId, users.secondReviewer);
    expect((await live.call(users.reviewer, 'POST', `/api/v1/reviews/${reviewId}/decision`, { outcome: 'yes' })).status).toBe(200);
    answer(renderer, 'no');
    fire(renderer.findByTestId(TextArea, 'decision-note'), 'onChange', 'too big');
    send(renderer);
    await renderer.waitFor(() => expect(statusOf(renderer)).toBe('Approved'), WAIT);
    expect(says(renderer, Alert, 'action-error')).toContain(`review ${reviewId} is approved`);
    expect(renderer.maybeFindByTestId(LoadingButton, 'decide')).toBeNull();
    expect(renderer.mocks.actions.refreshObjectProperties.calls).toHaveLength(0);
  });

  it('shows forbidden when the reviewer lost the role while the card was open, and drops the decision form', async () => {
    const { dealId } = await pendingDeal();
    const renderer = await openLoadedCard(live, dealId, users.secondReviewer);
    await changeSettings((s) => ({ ...s, reviewers: [users.reviewer] }));
    answer(renderer, 'yes');
    send(renderer);
    await renderer.waitFor(() => expect(renderer.findByTestId(Alert, 'action-error').props.title).toBe('You are not allowed to do that'), WAIT);
    expect(says(renderer, Alert, 'action-error')).toContain('you are not a designated reviewer of this account');
    await renderer.waitFor(() => expect(renderer.maybeFindByTestId(LoadingButton, 'decide')).toBeNull(), WAIT);
    expect(statusOf(renderer)).toBe('Waiting for engineering');
  });

  it('does not offer the decision to the reviewer who requested the review, and says why', async () => {
    const dealId = live.seedDeal({ dealname: 'Acme', dealstage: 'qualifiedtobuy', amount: '80000' });
    expect((await live.call(users.reviewer, 'POST', `/api/v1/deals/${dealId}/reviews`, { summary: 'SSO', effortWeeks: 1 })).status).toBe(201);
    const renderer = await openLoadedCard(live, dealId, users.reviewer);
    expect(renderer.maybeFindByTestId(LoadingButton, 'decide')).toBeNull();
    expect(renderer.findByTestId(Text, 'decide-denied').text).toContain('another reviewer must decide it');
  });
});

describe('the deal card, for an admin', () => {
  it('withdraws another rep’s request and points to the settings; an admin is not offered the decision', async () => {
    const { dealId } = await pendingDeal();
    const other = await openLoadedCard(live, dealId, users.otherRep);
    expect(other.maybeFindByTestId(LoadingButton, 'withdraw')).toBeNull();
    expect(other.maybeFindByTestId(Text, 'admin-note')).toBeNull();

    const renderer = await openLoadedCard(live, dealId, users.admin);
    expect(renderer.findByTestId(Text, 'admin-note')).toBeDefined();
    expect(renderer.maybeFindByTestId(LoadingButton, 'decide')).toBeNull();
    fire(renderer.findByTestId(LoadingButton, 'withdraw'), 'onClick');
    await renderer.waitFor(() => expect(statusOf(renderer)).toBe('Review required'), WAIT);
    expect(says(renderer, TableRow, 'history-row-0')).toContain('you (Barbara Liskov)');
    expect(renderer.mocks.actions.refreshObjectProperties.calls).toHaveLength(1);
  });
});
