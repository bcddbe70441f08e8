import { Alert, Flex, LoadingButton, NumberInput, Select, StatisticsItem, TableRow, Text, TextArea } from '@hubspot/ui-extensions';
import { createRenderer, type Renderer } from '@hubspot/ui-extensions/testing';
import { SettingsPage } from '../../extensions/settings/SettingsPage';
import { DealDeskHome } from '../../extensions/home/DealDeskHome';
import type { GateResponse, SettingsResponse } from '../../extensions/contract/api';
import { startLiveService, users, type LiveService } from './support/liveService';
import { eventually, fire, openLoadedCard, reads, says, WAIT } from './cardHarness';

/**
 * Capacity sales can see (issue 14), as people see it: the admin's three shares on the settings
 * page, the rep's preview before requesting, post-sales work on a won deal on the card and the
 * home page's queue.
 */
let live: LiveService;
beforeEach(async () => {
  live = await startLiveService();
});
afterEach(async () => {
  await live.close();
});

async function capacity(change: Record<string, unknown>): Promise<void> {
  const current = await live.call<SettingsResponse>(users.admin, 'GET', '/api/v1/settings');
  expect((await live.call(users.admin, 'PUT', '/api/v1/settings', { ...current.json.settings, capacity: change })).status).toBe(200);
}

async function openLoadedSettings(): Promise<Renderer<'settings'>> {
  const renderer = createRenderer('settings');
  renderer.render(<SettingsPage actions={renderer.mocks.actions} fetcher={live.fetcherFor(users.admin)} baseUrl={live.url} />);
  await renderer.waitFor(() => expect(renderer.findByTestId(NumberInput, 'settings-threshold')).toBeDefined(), WAIT);
  return renderer;
}

const puts = () => live.calls.filter((c) => c.method === 'PUT');

describe('capacity shares on the settings page', () => {
  it('shows the three shares in % and engineer-weeks, saves the maintenance share, and says so when the shares are over 100% (nothing sent)', async () => {
    await capacity({ engineerWeeksPerQuarter: 120, commitmentShare: 0.3 });
    const renderer = await openLoadedSettings();
    // Saved before the maintenance share existed: 20%.
    expect(renderer.findByTestId(NumberInput, 'settings-capacity-maintenance').props.value).toBe(20);
    expect(renderer.findByTestId(Text, 'settings-capacity-split').text).toBe(
      'Each quarter: Customer commitments 30% (36 weeks), maintenance and technical debt 20% (24 weeks), product work 50% (60 weeks).',
    );

    fire(renderer.findByTestId(NumberInput, 'settings-capacity-share'), 'onChange', 70);
    fire(renderer.findByTestId(NumberInput, 'settings-capacity-maintenance'), 'onChange', 40);
    expect(says(renderer, Alert, 'settings-capacity-over')).toContain('Customer commitments (70%) and maintenance (40%) add up to 110%, more than the whole quarter');
    expect(renderer.maybeFindByTestId(Text, 'settings-capacity-split')).toBeNull();
    fire(renderer.findByTestId(LoadingButton, 'settings-save'), 'onClick');
    expect(renderer.findByTestId(NumberInput, 'settings-capacity-maintenance').props).toMatchObject({ error: true, validationMessage: expect.stringContaining('add up to 110%') });
    expect(puts().length).toBe(1);

    fire(renderer.findByTestId(NumberInput, 'settings-capacity-maintenance'), 'onChange', 25);
    expect(renderer.findByTestId(Text, 'settings-capacity-split').text).toContain('maintenance and technical debt 25% (30 weeks), product work 5% (6 weeks)');
    fire(renderer.findByTestId(LoadingButton, 'settings-save'), 'onClick');
    await eventually(() => expect(puts().length).toBe(2));
    const saved = await live.call<SettingsResponse>(users.rep, 'GET', '/api/v1/settings');
    expect(saved.json.settings.capacity).toEqual({ engineerWeeksPerQuarter: 120, commitmentShare: 0.7, maintenanceShare: 0.25 });
  });
});

describe('capacity on the card, for a rep', () => {
  const commitmentDeal = (effortWeeks: number) =>
    live.seedDeal({ dealname: 'Acme rollout', dealstage: 'qualifiedtobuy', amount: '80000', dealgate_commitment: 'true', dealgate_commitment_summary: 'SSO with Okta', dealgate_effort_weeks: String(effortWeeks) });

  it('says, before the request, what the quarter has left and what this request would leave, or how far over it would be', async () => {
    // 40 weeks a quarter, 25% for customer commitments: 10 weeks.
    await capacity({ engineerWeeksPerQuarter: 40, commitmentShare: 0.25 });
    const fits = await openLoadedCard(live, commitmentDeal(4), users.rep);
    expect(fits.findByTestId(Text, 'capacity-preview').text).toBe('2026-Q4 has 10 weeks left of 10 weeks for customer commitments; this request (4 weeks) would leave 6 weeks.');
    expect(fits.findByTestId(Text, 'capacity-shares').text).toBe('Customer commitments 25% (10 weeks), maintenance and technical debt 20% (8 weeks), product work 55% (22 weeks).');

    const over = await openLoadedCard(live, commitmentDeal(13), users.rep);
    expect(says(over, Alert, 'capacity-preview')).toBe(
      '2026-Q4 has 10 weeks left of 10 weeks for customer commitments; this request (13 weeks) would be over by 3 weeks: the reviewer would have to deprioritize an approved commitment, or answer yes-but or no.',
    );
  });

  it('follows the effort the rep types, before anything is saved, and says what is left when no effort is named', async () => {
    await capacity({ engineerWeeksPerQuarter: 40, commitmentShare: 0.25 });
    const card = await openLoadedCard(live, commitmentDeal(4), users.rep);
    fire(card.findByTestId(NumberInput, 'commitment-effort'), 'onChange', 8);
    expect(card.findByTestId(Text, 'capacity-preview').text).toBe('2026-Q4 has 10 weeks left of 10 weeks for customer commitments; this request (8 weeks) would leave 2 weeks.');
    fire(card.findByTestId(NumberInput, 'commitment-effort'), 'onChange', 12.5);
    expect(says(card, Alert, 'capacity-preview')).toBe(
      '2026-Q4 has 10 weeks left of 10 weeks for customer commitments; this request (12.5 weeks) would be over by 2.5 weeks: the reviewer would have to deprioritize an approved commitment, or answer yes-but or no.',
    );

    // A deal that names no effort yet: what is left, then what the typed effort would leave.
    const fresh = await openLoadedCard(live, live.seedDeal({ dealname: 'Globex pilot', dealstage: 'qualifiedtobuy', amount: '80000' }), users.rep);
    expect(fresh.findByTestId(Text, 'capacity-preview').text).toBe('2026-Q4 has 10 weeks left of 10 weeks for customer commitments.');
    fire(fresh.findByTestId(NumberInput, 'commitment-effort'), 'onChange', 3);
    expect(fresh.findByTestId(Text, 'capacity-preview').text).toBe('2026-Q4 has 10 weeks left of 10 weeks for customer commitments; this request (3 weeks) would leave 7 weeks.');
  });
});

describe('post-sales work on a won deal', () => {
  it('the rep asks for it from the card, the reviewer answers it there, and the home page lists it as post-sales', async () => {
    await capacity({ engineerWeeksPerQuarter: 40, commitmentShare: 0.25 });
    const dealId = live.seedDeal({ dealname: 'Acme rollout', dealstage: 'closedwon', amount: '20000' });
    const rep = await openLoadedCard(live, dealId, users.rep);
    fire(rep.findByTestId(TextArea, 'post-sales-summary'), 'onChange', 'Data migration from the old CRM');
    fire(rep.findByTestId(NumberInput, 'post-sales-effort'), 'onChange', 3);
    fire(rep.findByTestId(LoadingButton, 'request-post-sales'), 'onClick');
    await rep.waitFor(() => expect(rep.findByTestId(Text, 'post-sales-denied').text).toContain('is already pending'), WAIT);
    const reviewId = (await live.call<GateResponse>(users.rep, 'GET', `/api/v1/deals/${dealId}/gate`)).json.postSales.reviews[0]?.review.id ?? 0;
    expect(live.calls.filter((c) => c.method === 'POST').map((c) => [c.path, c.status])).toEqual([[`/api/v1/deals/${dealId}/reviews`, 201]]);

    const home = createRenderer('home');
    home.render(<DealDeskHome fetcher={live.fetcherFor(users.reviewer)} baseUrl={live.url} userId={users.reviewer} />);
    await home.waitFor(() => expect(home.findByTestId(StatisticsItem, 'stat-waiting')).toBeDefined(), WAIT);
    expect(reads(home, TableRow, `queue-${reviewId}`)).toContain('Post-sales: Data migration from the old CRM (3 weeks)');

    const reviewer = await openLoadedCard(live, dealId, users.reviewer);
    expect(reads(reviewer, Flex, `post-sales-${reviewId}`)).toContain('Post-sales');
    answerYes(reviewer);
    await reviewer.waitFor(() => expect(reviewer.findByTestId(Text, `post-sales-answer-${reviewId}`).text).toContain('booked against the 2026-Q4 customer share'), WAIT);
    const gate = (await live.call<GateResponse>(users.rep, 'GET', `/api/v1/deals/${dealId}/gate`)).json;
    expect(gate.capacity).toMatchObject({ usedWeeks: 3, remainingWeeks: 7 });
  });
});

/** The reviewer picks yes in the card's decision form and sends it. */
function answerYes(renderer: Renderer<'crm.record.tab'>): void {
  fire(renderer.findByTestId(Select, 'decision-outcome'), 'onChange', 'yes');
  fire(renderer.findByTestId(LoadingButton, 'decide'), 'onClick');
}
