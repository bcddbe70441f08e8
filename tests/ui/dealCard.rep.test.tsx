import {
  Alert,
  Button,
  DateInput,
  DescriptionListItem,
  EmptyState,
  ErrorState,
  LoadingButton,
  LoadingSpinner,
  NumberInput,
  TableRow,
  Text,
  TextArea,
} from '@hubspot/ui-extensions';
import type { Renderer } from '@hubspot/ui-extensions/testing';
import type { GateResponse } from '../../extensions/contract/api';
import { startLiveService, users, type LiveService } from './support/liveService';
import { eventually, fire, openCard, openLoadedCard, says, statusOf, WAIT } from './cardHarness';

let live: LiveService;
beforeEach(async () => {
  live = await startLiveService();
});
afterEach(async () => {
  await live.close();
});

const HOUR = 3_600_000;
const bigDeal = () => live.seedDeal({ dealname: 'Acme rollout', dealstage: 'qualifiedtobuy', amount: '80000' });
const requestAsRep = async (dealId: string, summary = 'SSO with Okta', effortWeeks = 3) => {
  const r = await live.call<GateResponse>(users.rep, 'POST', `/api/v1/deals/${dealId}/reviews`, { summary, effortWeeks, neededBy: '2026-12-15' });
  expect(r.status).toBe(201);
  return r.json;
};
const posts = () => live.calls.filter((c) => c.method === 'POST');

function fillCommitment(renderer: Renderer<'crm.record.tab'>, summary: string, weeks: number | undefined) {
  fire(renderer.findByTestId(TextArea, 'commitment-summary'), 'onChange', summary);
  fire(renderer.findByTestId(NumberInput, 'commitment-effort'), 'onChange', weeks);
}

describe('the deal card, for a rep', () => {
  it('shows loading, then a deal without a commitment: no review needed, amount against threshold, the declare form', async () => {
    const dealId = bigDeal();
    const renderer = openCard(live, dealId, live.fetcherFor(users.rep));
    expect(renderer.findByTestId(LoadingSpinner, 'card-loading')).toBeDefined();
    await renderer.waitFor(() => expect(statusOf(renderer)).toBe('No review needed'), WAIT);
    expect(renderer.findByTestId(EmptyState, 'card-empty')).toBeDefined();
    expect(says(renderer, DescriptionListItem, 'glance-commitment')).toContain('None declared');
    expect(says(renderer, DescriptionListItem, 'glance-required')).toContain('No');
    expect(says(renderer, DescriptionListItem, 'glance-amount')).toContain('80,000 vs 50,000');
    expect(renderer.findByTestId(LoadingButton, 'request-review').text).toBe('Request review');
    expect(renderer.maybeFindByTestId(Text, 'sla-clock')).toBeNull();
  });

  it('refuses an empty summary and no effort by field, with the API’s rules, and sends nothing', async () => {
    const renderer = await openLoadedCard(live, bigDeal(), users.rep);
    fillCommitment(renderer, '   ', undefined);
    fire(renderer.findByTestId(LoadingButton, 'request-review'), 'onClick');
    expect(renderer.findByTestId(TextArea, 'commitment-summary').props).toMatchObject({
      error: true,
      validationMessage: 'is required: describe what the customer asked for',
    });
    expect(renderer.findByTestId(NumberInput, 'commitment-effort').props).toMatchObject({ error: true, validationMessage: 'is required' });
    fire(renderer.findByTestId(NumberInput, 'commitment-effort'), 'onChange', 0);
    fire(renderer.findByTestId(LoadingButton, 'request-review'), 'onClick');
    expect(renderer.findByTestId(NumberInput, 'commitment-effort').props.validationMessage).toBe('must be more than 0 engineer-weeks');
    expect(posts()).toEqual([]);
  });

  it('declares the commitment and requests review: pending with the SLA clock, buttons disabled in flight, CRM properties refreshed', async () => {
    const dealId = bigDeal();
    const gate = live.gatedFetcherFor(users.rep);
    const renderer = openCard(live, dealId, gate.fetcher);
    await renderer.waitFor(() => expect(statusOf(renderer)).toBe('No review needed'), WAIT);
    fillCommitment(renderer, 'SSO with Okta', 3);
    fire(renderer.findByTestId(DateInput, 'commitment-needed-by'), 'onChange', { year: 2026, month: 11, date: 15, formattedDate: '2026-12-15' });

    gate.hold();
    fire(renderer.findByTestId(LoadingButton, 'request-review'), 'onClick');
    await eventually(() => expect(gate.waiting()).toBe(1));
    expect(renderer.findByTestId(LoadingButton, 'request-review').props).toMatchObject({ loading: true, disabled: true });
    fire(renderer.findByTestId(LoadingButton, 'request-review'), 'onClick'); // a second click while in flight sends nothing
    expect(posts()).toHaveLength(1);
    expect(renderer.mocks.actions.refreshObjectProperties.calls).toHaveLength(0);
    gate.release();

    await renderer.waitFor(() => expect(statusOf(renderer)).toBe('Waiting for engineering'), WAIT);
    expect(posts()).toEqual([{ method: 'POST', path: `/api/v1/deals/${dealId}/reviews`, userId: users.rep, status: 201 }]);
    expect(renderer.findByTestId(Text, 'sla-clock').text).toBe("Engineering's answer: Due in 2 d (SLA 48 h)");
    expect(says(renderer, DescriptionListItem, 'glance-commitment')).toContain('Yes: SSO with Okta (3 weeks of engineering)');
    expect(says(renderer, DescriptionListItem, 'glance-required')).toContain('Yes');
    expect(renderer.findByTestId(Text, 'review-summary').text).toContain('needed by 2026-12-15');
    expect(says(renderer, TableRow, 'history-row-0')).toContain('Review requested');
    expect(says(renderer, TableRow, 'history-row-0')).toContain('you (Grace Hopper)');
    // The card cannot request twice, and says why.
    expect(renderer.maybeFindByTestId(LoadingButton, 'request-review')).toBeNull();
    expect(renderer.findByTestId(Text, 'request-denied').text).toContain('review #1 is already waiting for an answer');
    // The service changed dealgate_* properties: the card asked HubSpot to show them, and HubSpot has them.
    expect(renderer.mocks.actions.refreshObjectProperties.calls).toHaveLength(1);
    expect(renderer.mocks.actions.addAlert.calls[0]?.[0]).toMatchObject({ type: 'success' });
    await live.stack.settle();
    expect(live.stack.sim.getDeal(dealId)?.properties).toMatchObject({
      dealgate_status: 'pending',
      dealgate_commitment: 'true',
      dealgate_commitment_summary: 'SSO with Okta',
      dealgate_effort_weeks: '3',
    });
  });

  it('withdraws a pending request, which the card disables while in flight', async () => {
    const dealId = bigDeal();
    await requestAsRep(dealId);
    const gate = live.gatedFetcherFor(users.rep);
    const renderer = openCard(live, dealId, gate.fetcher);
    await renderer.waitFor(() => expect(statusOf(renderer)).toBe('Waiting for engineering'), WAIT);
    gate.hold();
    fire(renderer.findByTestId(LoadingButton, 'withdraw'), 'onClick');
    await eventually(() => expect(gate.waiting()).toBe(1));
    expect(renderer.findByTestId(LoadingButton, 'withdraw').props).toMatchObject({ loading: true, disabled: true });
    gate.release();
    await renderer.waitFor(() => expect(statusOf(renderer)).toBe('Review required'), WAIT);
    expect(says(renderer, TableRow, 'history-row-0')).toContain('Request withdrawn');
    expect(says(renderer, TableRow, 'history-row-1')).toContain('Review requested');
    expect(renderer.maybeFindByTestId(LoadingButton, 'withdraw')).toBeNull();
    expect(renderer.findByTestId(LoadingButton, 'request-review').text).toBe('Request a new review');
    expect(renderer.mocks.actions.refreshObjectProperties.calls).toHaveLength(1);
  });

  it('shows the SLA clock overdue once the due time has passed', async () => {
    const dealId = bigDeal();
    await requestAsRep(dealId);
    live.clock.advance(50 * HOUR + 30 * 60_000);
    const renderer = await openLoadedCard(live, dealId, users.rep);
    expect(statusOf(renderer)).toBe('Review overdue');
    expect(renderer.findByTestId(Text, 'sla-clock').text).toBe("Engineering's answer: Overdue by 2 h 30 min (SLA 48 h)");
  });

  it('shows a yes-but with its conditions as commitments the deal carries', async () => {
    const dealId = bigDeal();
    const requested = await requestAsRep(dealId);
    const decided = await live.call(users.reviewer, 'POST', `/api/v1/reviews/${requested.review?.id}/decision`, {
      outcome: 'yes_but',
      note: 'Only with the standard SAML flow',
      extraWeeks: 2,
      tradeoff: 'no custom claims mapping',
    });
    expect(decided.status).toBe(200);
    const renderer = await openLoadedCard(live, dealId, users.rep);
    expect(statusOf(renderer)).toBe('Approved with conditions');
    const answer = renderer.findByTestId(Alert, 'answer');
    expect(answer.props.title).toBe('Engineering said yes, with conditions the deal now carries');
    expect(renderer.findByTestId(Text, 'condition-extra-weeks').text).toBe('Delivery takes 2 weeks more than asked: promise the customer the later date.');
    expect(renderer.findByTestId(Text, 'condition-tradeoff').text).toBe('Tradeoff: no custom claims mapping');
    expect(says(renderer, Alert, 'answer')).toContain('Only with the standard SAML flow (Ada Lovelace, 2026-11-02 09:00 UTC)');
    // The approval covers the commitment as it stands; changing it means asking again.
    expect(renderer.findByTestId(Text, 'commitment-approved-note')).toBeDefined();
    expect(renderer.findByTestId(LoadingButton, 'request-review').text).toBe('Request review of the change');
    // Newest first: the delivery the yes-but promised (issue 14), then the answer.
    expect(says(renderer, TableRow, 'history-row-0')).toContain('Delivery promised');
    expect(says(renderer, TableRow, 'history-row-1')).toContain('Answered');
    expect(says(renderer, TableRow, 'history-row-1')).toContain('Ada Lovelace');
  });

  it('shows a no with its reason and what to do next, and lets the rep renegotiate and ask again', async () => {
    const dealId = bigDeal();
    const requested = await requestAsRep(dealId);
    await live.call(users.reviewer, 'POST', `/api/v1/reviews/${requested.review?.id}/decision`, { outcome: 'no', note: 'Okta SCIM is a quarter of work' });
    const renderer = await openLoadedCard(live, dealId, users.rep);
    expect(statusOf(renderer)).toBe('Rejected');
    expect(says(renderer, Alert, 'answer')).toContain('Reason: Okta SCIM is a quarter of work');
    expect(renderer.findByTestId(Text, 'next-steps').text).toContain('Change the commitment');
    expect(renderer.findByTestId(TextArea, 'commitment-summary').props.value).toBe('SSO with Okta');

    fillCommitment(renderer, 'SSO with Okta, no SCIM', 2);
    fire(renderer.findByTestId(LoadingButton, 'request-review'), 'onClick');
    await renderer.waitFor(() => expect(statusOf(renderer)).toBe('Waiting for engineering'), WAIT);
    expect(renderer.findByTestId(Text, 'review-summary').text).toContain('Review #2');
    expect(says(renderer, DescriptionListItem, 'glance-commitment')).toContain('SSO with Okta, no SCIM (2 weeks of engineering)');
  });

  it('stops asking to renegotiate once the commitment is removed after a no: the no no longer holds the deal back', async () => {
    const dealId = bigDeal();
    const requested = await requestAsRep(dealId);
    await live.call(users.reviewer, 'POST', `/api/v1/reviews/${requested.review?.id}/decision`, { outcome: 'no', note: 'Okta SCIM is a quarter of work' });
    await live.stack.settle(); // the request's commitment properties are in HubSpot
    live.clock.advance(60 * 60_000); // an hour later, the customer drops the feature
    live.stack.sim.updateDealAsUser(dealId, { dealgate_commitment: 'false' }, { userId: Number(users.rep) });
    await live.stack.settle();
    const renderer = await openLoadedCard(live, dealId, users.rep);
    expect(statusOf(renderer)).toBe('No review needed');
    expect(says(renderer, Alert, 'answer')).toContain('Reason: Okta SCIM is a quarter of work');
    expect(renderer.maybeFindByTestId(Text, 'next-steps')).toBeNull();
    expect(renderer.findByTestId(Text, 'answer-moot').text).toContain('This no no longer holds the deal back: review is not required now');
  });

  it('shows a blocked move in the history: who moved the deal past the gate, and Dealgate moving it back', async () => {
    const dealId = live.seedDeal({
      dealname: 'Acme rollout',
      dealstage: 'contractsent',
      amount: '80000',
      dealgate_commitment: 'true',
      dealgate_commitment_summary: 'SSO with Okta',
      dealgate_effort_weeks: '3',
    });
    live.stack.sim.moveDealToStage(dealId, 'closedwon', { userId: Number(users.rep) });
    // No time passes on the test's clock, while HubSpot (the simulator) stamps the move a few ms
    // later: the history still shows the revert after the move it undid.
    await live.stack.settle();
    const renderer = await openLoadedCard(live, dealId, users.rep);
    expect(statusOf(renderer)).toBe('Review required');
    const rows = [0, 1].map((i) => says(renderer, TableRow, `history-row-${i}`));
    expect(rows).toEqual([
      expect.stringMatching(/Stage move reverted.*Dealgate.*moved back from Closed Won to Contract Sent \(moved there by Grace Hopper without sign-off\)/),
      expect.stringMatching(/Moved past the gate without sign-off.*you \(Grace Hopper\).*Contract Sent -> Closed Won/),
    ]);
    expect(renderer.maybeFindByTestId(TableRow, 'history-row-2')).toBeNull();
  });

  it('shows an error with a retry when the service cannot answer, and loads on retry', async () => {
    const dealId = bigDeal();
    live.stack.sim.faults.failNext(50, { status: 503 });
    const renderer = openCard(live, dealId, live.fetcherFor(users.rep));
    await renderer.waitFor(() => expect(renderer.findByTestId(ErrorState, 'card-error')).toBeDefined(), WAIT);
    expect(live.calls.at(-1)?.status).toBeGreaterThanOrEqual(500);
    // The service's own words for a HubSpot outage reach the person, with a way to try again.
    expect(says(renderer, ErrorState, 'card-error')).toContain(`HubSpot did not answer the read of deal ${dealId}`);
    live.stack.sim.faults.clear();
    fire(renderer.findByTestId(Button, 'card-retry'), 'onClick');
    await renderer.waitFor(() => expect(statusOf(renderer)).toBe('No review needed'), WAIT);
  });

  it('shows the forbidden state, with the service’s reason, in an account that has not installed Dealgate', async () => {
    const dealId = bigDeal();
    const otherAccount = live.portalId + 1;
    const renderer = openCard(live, dealId, live.fetcherFor(users.rep, otherAccount));
    await renderer.waitFor(() => expect(renderer.findByTestId(ErrorState, 'card-forbidden')).toBeDefined(), WAIT);
    expect(live.calls.at(-1)?.status).toBe(403);
    expect(says(renderer, ErrorState, 'card-forbidden')).toContain(`account ${otherAccount} has not installed Dealgate`);
    expect(renderer.maybeFindByTestId(ErrorState, 'card-error')).toBeNull();
  });

  it('shows the service’s error for a deal HubSpot does not have', async () => {
    const renderer = openCard(live, '123456', live.fetcherFor(users.rep));
    await renderer.waitFor(() => expect(renderer.findByTestId(ErrorState, 'card-error')).toBeDefined(), WAIT);
    expect(live.calls.at(-1)?.status).toBe(404);
    expect(says(renderer, ErrorState, 'card-error')).toContain('deal 123456 does not exist in HubSpot account');
  });
});
