import { Input, LoadingButton, NumberInput, StatisticsItem, Text } from '@hubspot/ui-extensions';
import { createRenderer, type Renderer } from '@hubspot/ui-extensions/testing';
import { SettingsPage } from '../../extensions/settings/SettingsPage';
import { DealDeskHome } from '../../extensions/home/DealDeskHome';
import type { GateResponse, SettingsResponse } from '../../extensions/contract/api';
import { nameOf } from '../support/people';
import { startLiveService, users, type LiveService } from './support/liveService';
import { openLoadedCard, says, WAIT } from './cardHarness';

/**
 * Issue 15 in the views: the card tells whoever looks at a waiting review who covers for an
 * absent reviewer, the home page who is away; the settings page shows and saves the reminder points, and refuses a bad one
 * by its field.
 */
let live: LiveService;
beforeEach(async () => {
  live = await startLiveService();
});
afterEach(async () => {
  await live.close();
});

async function openLoadedSettings(userId: string): Promise<Renderer<'settings'>> {
  const renderer = createRenderer('settings');
  renderer.render(<SettingsPage actions={renderer.mocks.actions} fetcher={live.fetcherFor(userId)} baseUrl={live.url} />);
  await renderer.waitFor(() => expect(renderer.findByTestId(NumberInput, 'settings-threshold')).toBeDefined(), WAIT);
  return renderer;
}
const fire = (node: { trigger: (...args: never[]) => void }, prop: string, value?: unknown) => (node.trigger as unknown as (name: string, arg?: unknown) => void)(prop, value);

describe('covering and reminders in the views', () => {
  it('the card says who covers for an absent reviewer, to the delegate and to the rep', async () => {
    const until = '2026-11-09T09:00:00.000Z';
    const absence = await live.call(users.reviewer, 'POST', '/api/v1/absences', { delegateUserId: users.secondReviewer, from: '2026-11-02', until });
    expect(absence.status).toBe(201);
    const dealId = live.seedDeal({ dealname: 'Acme rollout', dealstage: 'qualifiedtobuy', amount: '80000' });
    expect((await live.call<GateResponse>(users.rep, 'POST', `/api/v1/deals/${dealId}/reviews`, { summary: 'SSO with Okta', effortWeeks: 3 })).status).toBe(201);

    const delegate = await openLoadedCard(live, dealId, users.secondReviewer);
    expect(says(delegate, Text, `covering-${users.reviewer}`)).toBe(`${nameOf(users.reviewer)} is away until 2026-11-09 09:00 UTC; covering and deciding: you (${nameOf(users.secondReviewer)}).`);
    const rep = await openLoadedCard(live, dealId, users.rep);
    expect(says(rep, Text, `covering-${users.reviewer}`)).toContain(`covering and deciding: ${nameOf(users.secondReviewer)}.`);
  });

  it('the home page lists who is away, until when, and who covers', async () => {
    expect((await live.call(users.admin, 'POST', '/api/v1/absences', { userId: users.reviewer, delegateUserId: users.secondReviewer, from: '2026-11-02', until: '2026-11-09' })).status).toBe(201);
    const home = createRenderer('home');
    home.render(<DealDeskHome fetcher={live.fetcherFor(users.secondReviewer)} baseUrl={live.url} userId={users.secondReviewer} />);
    await home.waitFor(() => expect(home.findByTestId(StatisticsItem, 'stat-waiting')).toBeDefined(), WAIT);
    const line = home.findAll(Text).find((t) => String(t.props.testId ?? '').startsWith('absence-'));
    expect(line?.text).toBe(`${nameOf(users.reviewer)}: away until 2026-11-09 00:00 UTC; covered by you (${nameOf(users.secondReviewer)}).`);
  });

  it('the settings page shows the default reminder points and saves new ones', async () => {
    const renderer = await openLoadedSettings(users.admin);
    expect(renderer.findByTestId(Input, 'settings-reminder-shares').props.value).toBe('50');
    expect(renderer.findByTestId(Input, 'settings-reminder-hours').props.value).toBe('2');
    fire(renderer.findByTestId(Input, 'settings-reminder-shares'), 'onChange', '25, 75');
    fire(renderer.findByTestId(Input, 'settings-reminder-hours'), 'onChange', '4');
    fire(renderer.findByTestId(LoadingButton, 'settings-save'), 'onClick');
    await renderer.waitFor(() => expect(live.calls.filter((c) => c.method === 'PUT').map((c) => c.status)).toEqual([200]), WAIT);
    const saved = await live.call<SettingsResponse>(users.admin, 'GET', '/api/v1/settings');
    expect(saved.json.settings.reminders).toEqual({ atSlaShares: [0.25, 0.75], hoursBeforeDue: [4] });
  });

  it('refuses a reminder point that is none by its field, and saves nothing', async () => {
    const renderer = await openLoadedSettings(users.admin);
    fire(renderer.findByTestId(Input, 'settings-reminder-shares'), 'onChange', '50, 120');
    fire(renderer.findByTestId(Input, 'settings-reminder-hours'), 'onChange', 'soon');
    fire(renderer.findByTestId(LoadingButton, 'settings-save'), 'onClick');
    expect(renderer.findByTestId(Input, 'settings-reminder-shares').props.validationMessage).toBe('must be less than 100% of the SLA (a share of 1: then the review is due)');
    expect(renderer.findByTestId(Input, 'settings-reminder-hours').props.validationMessage).toMatch(/number/);
    expect(live.calls.filter((c) => c.method === 'PUT')).toEqual([]);
  });
});
