import { useState } from 'react';
import { Alert, Input, LoadingButton, MultiSelect, NumberInput, Select, TableRow, Text, TextArea, Toggle } from '@hubspot/ui-extensions';
import { createRenderer, type Renderer } from '@hubspot/ui-extensions/testing';
import type { GateResponse, PeopleResponse, SettingsResponse } from '../../extensions/contract/api';
import { TriadSettingsSection } from '../../extensions/settings/TriadSettingsSection';
import { triadCandidateOf, triadDraftOf, type TriadDraft } from '../../extensions/settings/triadForm';
import { nameOf } from '../support/people';
import { SettingsPage } from '../../extensions/settings/SettingsPage';
import { startLiveService, users, type LiveService } from './support/liveService';
import { fire, openLoadedCard, reads, says, WAIT } from './cardHarness';

const TECH_LEAD = '400';
const PM = '500';
const MARKETING = '600';

let live: LiveService;
beforeEach(async () => {
  live = await startLiveService();
  // The Triad's people are users of the account, as the settings require of everyone they name.
  for (const [userId, firstName, lastName] of [[TECH_LEAD, 'Katherine', 'Johnson'], [PM, 'Frances', 'Allen'], [MARKETING, 'Radia', 'Perlman']] as const) {
    live.stack.sim.seedOwner({ userId: Number(userId), firstName, lastName, email: `${firstName.toLowerCase()}.${lastName.toLowerCase()}@example.com` });
  }
});
afterEach(async () => {
  await live.close();
});

async function triadOn(): Promise<void> {
  const current = (await live.call<SettingsResponse>(users.admin, 'GET', '/api/v1/settings')).json.settings;
  const triad = { enabled: true, members: { tech_lead: [TECH_LEAD], product_manager: [PM], product_marketing: [MARKETING] }, decisionMaker: 'product_manager' };
  expect((await live.call(users.admin, 'PUT', '/api/v1/settings', { ...current, triad })).status).toBe(200);
}

async function requestedDeal(): Promise<{ dealId: string; reviewId: number }> {
  const dealId = live.seedDeal({ dealname: 'Acme rollout', dealstage: 'qualifiedtobuy', amount: '80000' });
  const requested = await live.call<GateResponse>(users.rep, 'POST', `/api/v1/deals/${dealId}/reviews`, { summary: 'SSO with Okta', effortWeeks: 4 });
  return { dealId, reviewId: requested.json.review?.id ?? 0 };
}

const sendView = (renderer: Renderer<'crm.record.tab'>) => fire(renderer.findByTestId(LoadingButton, 'triad-form-send'), 'onClick');

describe('the deal card: the Triad', () => {
  it('lets the tech lead give a view (a yes-but needs its weeks), shows it to everyone, and who has not weighed in', async () => {
    await triadOn();
    const { dealId } = await requestedDeal();
    const renderer = await openLoadedCard(live, dealId, TECH_LEAD);
    expect(says(renderer, Text, 'triad-no-views')).toBe('No view given yet.');
    expect(says(renderer, Text, 'triad-not-weighed-in')).toBe('Not weighed in yet: you (user 400) (tech lead), user 600 (product marketing).');
    expect(renderer.findByTestId(Select, 'triad-form-stance').props.options.map((o) => o.value)).toEqual(['yes', 'yes_but', 'no']);
    fire(renderer.findByTestId(Select, 'triad-form-stance'), 'onChange', 'yes_but');
    sendView(renderer);
    // The role's rules are the service's: its refusal lands on the field it names.
    await renderer.waitFor(
      () => expect(renderer.findByTestId(NumberInput, 'triad-form-weeks').props.validationMessage).toBe('a yes-but says how many weeks it takes (more than 0)'),
      WAIT,
    );
    fire(renderer.findByTestId(NumberInput, 'triad-form-weeks'), 'onChange', 3);
    fire(renderer.findByTestId(TextArea, 'triad-form-note'), 'onChange', 'the IdP needs an adapter');
    sendView(renderer);
    await renderer.waitFor(() => expect(renderer.maybeFindByTestId(TableRow, 'triad-view-0')).not.toBeNull(), WAIT);
    expect(reads(renderer, TableRow, 'triad-view-0')).toBe('you (user 400) | tech lead | yes, but it takes longer (3 weeks) | the IdP needs an adapter | 2026-11-02 09:00 UTC');
    expect(says(renderer, Text, 'triad-not-weighed-in')).toBe('Not weighed in yet: user 600 (product marketing).');

    // The rep sees the views, and no form: they hold no Triad role.
    const asRep = await openLoadedCard(live, dealId, users.rep);
    expect(reads(asRep, TableRow, 'triad-view-0')).toContain('user 400 | tech lead | yes, but it takes longer (3 weeks)');
    expect(asRep.maybeFindByTestId(LoadingButton, 'triad-form-send')).toBeNull();
  });

  it('shows marketing its own stances and value, and after the PM’s call against a view, the dissent (disagree and commit)', async () => {
    await triadOn();
    const { dealId, reviewId } = await requestedDeal();
    expect((await live.call(TECH_LEAD, 'POST', `/api/v1/reviews/${reviewId}/perspective`, { stance: 'no', note: 'needs a new auth service' })).status).toBe(200);
    const marketing = await openLoadedCard(live, dealId, MARKETING);
    expect(marketing.findByTestId(Select, 'triad-form-stance').props.options.map((o) => o.value)).toEqual(['can_sell', 'cannot_sell']);
    fire(marketing.findByTestId(Select, 'triad-form-stance'), 'onChange', 'can_sell');
    fire(marketing.findByTestId(NumberInput, 'triad-form-value'), 'onChange', 90000);
    sendView(marketing);
    await marketing.waitFor(() => expect(marketing.maybeFindByTestId(TableRow, 'triad-view-1')).not.toBeNull(), WAIT);
    expect(reads(marketing, TableRow, 'triad-view-1')).toContain('we can sell it (at 90000)');

    // The PM, not a designated reviewer, gets the decision form and makes the call.
    const pm = await openLoadedCard(live, dealId, PM);
    fire(pm.findByTestId(Select, 'decision-outcome'), 'onChange', 'yes');
    fire(pm.findByTestId(LoadingButton, 'decide'), 'onClick');
    await pm.waitFor(() => expect(pm.maybeFindByTestId(Alert, 'triad-call')).not.toBeNull(), WAIT);
    expect(pm.findByTestId(Alert, 'triad-call').props.title).toBe('Disagree and commit');
    expect(says(pm, Alert, 'triad-call')).toBe('you (user 500) made the call against user 400 (tech lead: no, we cannot build it: needs a new auth service). Everyone executes it.');
    expect(pm.maybeFindByTestId(LoadingButton, 'triad-form-send')).toBeNull();

    // A designated reviewer is told who makes the call instead.
    const other = await requestedDeal();
    const reviewer = await openLoadedCard(live, other.dealId, users.reviewer);
    expect(reviewer.maybeFindByTestId(LoadingButton, 'decide')).toBeNull();
    expect(says(reviewer, Text, 'decide-denied')).toBe('You cannot answer here: the Triad is on: the product manager makes the call (an admin names them in the settings).');
  });

  it('shows no Triad section with the Triad off', async () => {
    const { dealId } = await requestedDeal();
    const renderer = await openLoadedCard(live, dealId, users.reviewer);
    expect(renderer.maybeFindByTestId(Text, 'triad-maker')).toBeNull();
    expect(renderer.findByTestId(LoadingButton, 'decide')).toBeDefined();
  });
});

describe('the settings page: the Triad', () => {
  it('is off by default; an admin turns it on, is told to name the decision maker, and saves it', async () => {
    const renderer = createRenderer('settings');
    renderer.render(<SettingsPage actions={renderer.mocks.actions} fetcher={live.fetcherFor(users.admin)} baseUrl={live.url} />);
    await renderer.waitFor(() => expect(renderer.findByTestId(Toggle, 'settings-triad-enabled')).toBeDefined(), WAIT);
    expect(renderer.findByTestId(Toggle, 'settings-triad-enabled').props.checked).toBe(false);
    expect(renderer.findByTestId(Select, 'settings-triad-decision-maker').props.value).toBe('product_manager');
    fire(renderer.findByTestId(Toggle, 'settings-triad-enabled'), 'onChange', true);
    // The roles are picked by name from the account's users (the Triad's people are seeded as owners).
    fire(renderer.findByTestId(MultiSelect, 'settings-triad-tech_lead'), 'onChange', [TECH_LEAD]);
    fire(renderer.findByTestId(LoadingButton, 'settings-save'), 'onClick');
    expect(renderer.findByTestId(MultiSelect, 'settings-triad-product_manager').props.validationMessage).toBe(
      'the Triad is on and the product manager makes the call: name at least one (or turn the Triad off)',
    );
    fire(renderer.findByTestId(MultiSelect, 'settings-triad-product_manager'), 'onChange', [PM]);
    fire(renderer.findByTestId(LoadingButton, 'settings-save'), 'onClick');
    expect(renderer.findByTestId(MultiSelect, 'settings-triad-product_manager').props.value).toEqual([PM]);
    // Saved once the page lists the change it made (the picker shows the choice before the save answers).
    await renderer.waitFor(() => expect(renderer.findAll(Text).some((t) => (t.text ?? '').includes('Triad off -> on, the product manager makes the call (tech lead 400; product manager 500; product marketing none)'))).toBe(true), WAIT);
    const saved = (await live.call<SettingsResponse>(users.admin, 'GET', '/api/v1/settings')).json.settings.triad;
    expect(saved).toEqual({ enabled: true, members: { tech_lead: [TECH_LEAD], product_manager: [PM], product_marketing: [] }, decisionMaker: 'product_manager' });
  });

  it("with the account's users, each role is chosen by name (PeoplePicker), not typed", async () => {
    const people = (await live.call<PeopleResponse>(users.admin, 'GET', '/api/v1/people')).json.people;
    let latest: TriadDraft = triadDraftOf(undefined);
    function Section() {
      const [draft, setDraft] = useState(latest);
      latest = draft;
      return <TriadSettingsSection draft={draft} errors={{}} readOnly={false} people={people} onChange={setDraft} />;
    }
    const renderer = createRenderer('settings');
    renderer.render(<Section />);
    const picker = renderer.findByTestId(MultiSelect, 'settings-triad-tech_lead');
    expect(picker.props.options.map((o) => o.label)).toContain(`${nameOf(users.reviewer)} (ada.lovelace@example.com)`);
    expect(renderer.findAll(Input).filter((i) => String(i.props.testId ?? '').startsWith('settings-triad-'))).toEqual([]);
    fire(picker, 'onChange', [users.reviewer, users.secondReviewer]);
    fire(renderer.findByTestId(MultiSelect, 'settings-triad-product_manager'), 'onChange', [users.admin]);
    await renderer.waitFor(() => expect(renderer.findByTestId(MultiSelect, 'settings-triad-tech_lead').props.value).toEqual([users.reviewer, users.secondReviewer]), WAIT);
    expect(triadCandidateOf(latest, (text) => text.split(',').map((id) => id.trim()).filter((id) => id !== ''))).toEqual({
      enabled: false,
      members: { tech_lead: [users.reviewer, users.secondReviewer], product_manager: [users.admin], product_marketing: [] },
      decisionMaker: 'product_manager',
    });
  });
});
