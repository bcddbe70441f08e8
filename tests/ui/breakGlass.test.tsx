import { Alert, LoadingButton, MultiSelect, NumberInput, Select, StatisticsItem, TableRow, Text, TextArea } from '@hubspot/ui-extensions';
import { createRenderer } from '@hubspot/ui-extensions/testing';
import { DealDeskHome } from '../../extensions/home/DealDeskHome';
import { SettingsPage } from '../../extensions/settings/SettingsPage';
import type { SettingsResponse } from '../../extensions/contract/api';
import { startLiveService, users, type LiveService } from './support/liveService';
import { fire, openLoadedCard, says, WAIT } from './cardHarness';

/**
 * Break-glass and the effort trigger (issue 15) as people see them, rendered with HubSpot's test
 * renderer against the real service and simulator: the admin breaks the glass from the card, the
 * rep sees it, the home page lists it, the settings page sets the trigger.
 */
let live: LiveService;
beforeEach(async () => {
  live = await startLiveService();
  // The person the settings page names for break-glass (500) is a user of the account, as the settings require.
  live.stack.sim.seedOwner({ userId: 500, firstName: 'Frances', lastName: 'Allen', email: 'frances.allen@example.com' });
});
afterEach(async () => {
  await live.close();
});

const gatedDeal = () =>
  live.seedDeal({ dealname: 'Acme', dealstage: 'contractsent', amount: '80000', dealgate_commitment: 'true', dealgate_commitment_summary: 'SSO', dealgate_effort_weeks: '2' });

describe('break-glass on the card and the home page', () => {
  it('the admin opens one from the card; the rep sees who, why and until when; the home page lists and counts it', async () => {
    const dealId = gatedDeal();
    const asAdmin = await openLoadedCard(live, dealId, users.admin);
    fire(asAdmin.findByTestId(LoadingButton, 'break-glass-submit'), 'onClick');
    expect(asAdmin.findByTestId(TextArea, 'break-glass-reason').props.validationMessage).toBe('is required: say why this deal may pass the gate without review');
    fire(asAdmin.findByTestId(NumberInput, 'break-glass-hours'), 'onChange', 200);
    fire(asAdmin.findByTestId(LoadingButton, 'break-glass-submit'), 'onClick');
    expect(asAdmin.findByTestId(NumberInput, 'break-glass-hours').props.validationMessage).toBe('must be at most 168 hours (7 days)');
    expect(live.calls.filter((c) => c.method === 'POST')).toEqual([]);

    fire(asAdmin.findByTestId(TextArea, 'break-glass-reason'), 'onChange', 'Signs Friday; CTO travelling');
    fire(asAdmin.findByTestId(NumberInput, 'break-glass-hours'), 'onChange', 48);
    fire(asAdmin.findByTestId(LoadingButton, 'break-glass-submit'), 'onClick');
    await asAdmin.waitFor(() => expect(asAdmin.findByTestId(Alert, 'break-glass-open')).toBeDefined(), WAIT);
    expect(asAdmin.maybeFindByTestId(LoadingButton, 'break-glass-submit')).toBeNull();

    const asRep = await openLoadedCard(live, dealId, users.rep);
    expect(says(asRep, Alert, 'break-glass-open')).toContain('user 900 let it through until 2026-11-04 09:00 UTC. Why: Signs Friday; CTO travelling.');
    expect(asRep.maybeFindByTestId(LoadingButton, 'break-glass-submit')).toBeNull();
    expect(says(asRep, TableRow, 'history-row-0')).toContain('Break-glass: let past the gate without review');
    expect(says(asRep, Text, 'glance-outlook')).toBe('A break-glass lets it move past Contract Sent until its time box ends; without a decision by then it is moved back.');

    const home = createRenderer('home');
    home.render(<DealDeskHome fetcher={live.fetcherFor(users.admin)} baseUrl={live.url} userId={users.admin} />);
    await home.waitFor(() => expect(home.findByTestId(StatisticsItem, 'stat-waiting')).toBeDefined(), WAIT);
    const rows = home.findAll(TableRow).filter((r) => String(r.props.testId ?? '').startsWith('break-glass'));
    expect(rows.map((r) => says(home, TableRow, String(r.props.testId)))).toEqual([
      expect.stringMatching(/Acme.*you \(user 900\).*Signs Friday; CTO travelling.*2026-11-04 09:00 UTC/),
      expect.stringMatching(/you \(user 900\).*1/),
    ]);
  });

  it('offers no break-glass to a rep or a reviewer', async () => {
    const dealId = gatedDeal();
    for (const user of [users.rep, users.reviewer]) {
      const card = await openLoadedCard(live, dealId, user);
      expect(card.maybeFindByTestId(LoadingButton, 'break-glass-submit')).toBeNull();
    }
  });
});

describe('the effort trigger on the settings page and the card', () => {
  it('sets the mode and the effort threshold; the service names a missing threshold; the card says which held', async () => {
    const renderer = createRenderer('settings');
    renderer.render(<SettingsPage actions={renderer.mocks.actions} fetcher={live.fetcherFor(users.admin)} baseUrl={live.url} />);
    await renderer.waitFor(() => expect(renderer.findByTestId(Select, 'settings-trigger-mode').props.value).toBe('amount'), WAIT);
    fire(renderer.findByTestId(Select, 'settings-trigger-mode'), 'onChange', 'either');
    fire(renderer.findByTestId(LoadingButton, 'settings-save'), 'onClick');
    await renderer.waitFor(() => expect(renderer.findByTestId(NumberInput, 'settings-effort-threshold').props.validationMessage).toContain('is required when triggerMode is "either"'), WAIT);

    fire(renderer.findByTestId(NumberInput, 'settings-effort-threshold'), 'onChange', 2);
    // Who else may break the glass is picked from the account's users by name, like reviewers and admins.
    const breakGlassUsers = () => renderer.findByTestId(MultiSelect, 'settings-break-glass-users');
    await renderer.waitFor(() => expect(breakGlassUsers().props.options).toContainEqual({ label: 'Alan Turing (alan.turing@example.com)', value: users.otherRep }), WAIT);
    expect(breakGlassUsers().props.value).toEqual([]);
    fire(breakGlassUsers(), 'onChange', [users.otherRep]);
    fire(renderer.findByTestId(LoadingButton, 'settings-save'), 'onClick');
    await renderer.waitFor(() => expect(renderer.findByTestId(Text, 'settings-updated').text).toContain('Last saved'), WAIT);
    const saved = await live.call<SettingsResponse>(users.rep, 'GET', '/api/v1/settings');
    expect(saved.json.settings).toMatchObject({ triggerMode: 'either', effortThreshold: 2, breakGlassUsers: [users.otherRep] });
    expect(breakGlassUsers().props.value).toEqual([users.otherRep]);

    const small = live.seedDeal({ dealname: 'Small', dealstage: 'contractsent', amount: '1000', dealgate_commitment: 'true', dealgate_commitment_summary: 'SCIM', dealgate_effort_weeks: '6' });
    const card = await openLoadedCard(live, small, users.rep);
    expect(says(card, Text, 'glance-trigger')).toBe('Review is required by the engineering effort (either measure suffices on this account).');
    expect(says(card, Text, 'glance-reason')).toContain('effort 6 engineer-weeks is at or above the 2 engineer-weeks effort threshold');
  });
});
