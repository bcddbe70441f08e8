import { Alert, LoadingButton, MultiSelect, NumberInput, Select, Text } from '@hubspot/ui-extensions';
import { createRenderer, type Renderer } from '@hubspot/ui-extensions/testing';
import { SettingsPage } from '../../extensions/settings/SettingsPage';
import type { GateResponse, SettingsResponse } from '../../extensions/contract/api';
import { startLiveService, users, type LiveService } from './support/liveService';
import { fire, openLoadedCard, says, WAIT } from './cardHarness';

/**
 * Issue 15 in the views: the card says who the review waits for by name, and the settings page
 * chooses reviewers, admins and the escalation reviewer from the account's users (PeoplePicker),
 * keeping someone already chosen whom HubSpot no longer lists, by id.
 */
let live: LiveService;
afterEach(async () => {
  await live.close();
});

async function openLoadedSettings(userId: string): Promise<Renderer<'settings'>> {
  const renderer = createRenderer('settings');
  renderer.render(<SettingsPage actions={renderer.mocks.actions} fetcher={live.fetcherFor(userId)} baseUrl={live.url} />);
  await renderer.waitFor(() => expect(renderer.findByTestId(MultiSelect, 'settings-reviewers').props.options.length).toBeGreaterThan(2), WAIT);
  return renderer;
}

const labels = (options: { label: string }[]) => options.map((o) => o.label);

describe('people by name in the views', () => {
  it('the card tells the rep and the reviewer who the review waits for, by name', async () => {
    live = await startLiveService();
    const dealId = live.seedDeal({ dealname: 'Acme rollout', dealstage: 'qualifiedtobuy', amount: '80000' });
    expect((await live.call<GateResponse>(users.rep, 'POST', `/api/v1/deals/${dealId}/reviews`, { summary: 'SSO', effortWeeks: 3 })).status).toBe(201);
    const rep = await openLoadedCard(live, dealId, users.rep);
    expect(says(rep, Text, 'waiting-on')).toBe('Waiting for an answer from Ada Lovelace, Edsger Dijkstra.');
    const reviewer = await openLoadedCard(live, dealId, users.reviewer);
    expect(says(reviewer, Text, 'waiting-on')).toBe('Waiting for an answer from you (Ada Lovelace), Edsger Dijkstra.');
  });

  it('offers the account\'s users by name in every people picker, with the chosen ones selected', async () => {
    live = await startLiveService();
    const renderer = await openLoadedSettings(users.admin);
    const reviewers = renderer.findByTestId(MultiSelect, 'settings-reviewers');
    expect(reviewers.props.value).toEqual([users.reviewer, users.secondReviewer]);
    expect(labels(reviewers.props.options)).toEqual([
      'Ada Lovelace (ada.lovelace@example.com)',
      'Alan Turing (alan.turing@example.com)',
      'Barbara Liskov (barbara.liskov@example.com)',
      'Edsger Dijkstra (edsger.dijkstra@example.com)',
      'Grace Hopper (grace.hopper@example.com)',
      'Margaret Hamilton (margaret.hamilton@example.com)',
    ]);
    const escalation = renderer.findByTestId(Select, 'settings-escalation');
    expect(escalation.props.value).toBe('');
    expect(escalation.props.options[0]).toEqual({ label: 'Nobody', value: '' });
    expect(renderer.findByTestId(MultiSelect, 'settings-admins').props.value).toEqual([users.admin]);
    expect(renderer.maybeFindByTestId(Alert, 'settings-people-error')).toBeNull();
  });

  it('saves the people picked, by id, and the page then names them', async () => {
    live = await startLiveService();
    const renderer = await openLoadedSettings(users.admin);
    fire(renderer.findByTestId(MultiSelect, 'settings-reviewers'), 'onChange', [users.reviewer, users.otherRep]);
    fire(renderer.findByTestId(Select, 'settings-escalation'), 'onChange', '300');
    fire(renderer.findByTestId(LoadingButton, 'settings-save'), 'onClick');
    await renderer.waitFor(() => expect(renderer.findByTestId(Text, 'settings-updated').text).toBe('Last saved 2026-11-02 09:00 UTC by Barbara Liskov.'), WAIT);
    const saved = await live.call<SettingsResponse>(users.rep, 'GET', '/api/v1/settings');
    expect(saved.json.settings).toMatchObject({ reviewers: [users.reviewer, users.otherRep], escalationReviewer: '300' });
    expect(saved.json.people.map((p) => p.name)).toEqual(['Ada Lovelace', 'Alan Turing', 'Barbara Liskov', 'Margaret Hamilton']);
  });

  it('keeps someone chosen whom HubSpot does not list, by id, and saving other fields still works', async () => {
    live = await startLiveService({ reviewers: [users.reviewer, '4242'] });
    const renderer = await openLoadedSettings(users.admin);
    const reviewers = renderer.findByTestId(MultiSelect, 'settings-reviewers');
    expect(reviewers.props.value).toEqual([users.reviewer, '4242']);
    expect(labels(reviewers.props.options)).toContain('user 4242 (not a user of this account)');
    fire(renderer.findByTestId(NumberInput, 'settings-sla-hours'), 'onChange', 24);
    fire(renderer.findByTestId(LoadingButton, 'settings-save'), 'onClick');
    await renderer.waitFor(() => expect(renderer.findByTestId(Text, 'settings-updated').text).toContain('by Barbara Liskov'), WAIT);
    expect((await live.call<SettingsResponse>(users.rep, 'GET', '/api/v1/settings')).json.settings).toMatchObject({ slaHours: 24, reviewers: [users.reviewer, '4242'] });
  });
});
