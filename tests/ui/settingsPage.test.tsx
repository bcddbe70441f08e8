import { Alert, Button, ErrorState, LoadingButton, LoadingSpinner, MultiSelect, NumberInput, Select, Text, Toggle } from '@hubspot/ui-extensions';
import { createRenderer, type Renderer } from '@hubspot/ui-extensions/testing';
import { SettingsPage } from '../../extensions/settings/SettingsPage';
import type { GateResponse, SettingsResponse } from '../../extensions/contract/api';
import type { ServiceFetcher } from '../../extensions/client/serviceClient';
import { startLiveService, users, type LiveService } from './support/liveService';
import { eventually, fire, says, WAIT } from './cardHarness';

let live: LiveService;
beforeEach(async () => {
  live = await startLiveService();
});
afterEach(async () => {
  await live.close();
});

/** Opens the settings page as `userId`; `fetcher` is hubspot.fetch (by default the live service's, signed for that user). */
function openSettings(userId: string, fetcher: ServiceFetcher = live.fetcherFor(userId)): Renderer<'settings'> {
  const renderer = createRenderer('settings');
  renderer.render(<SettingsPage actions={renderer.mocks.actions} fetcher={fetcher} baseUrl={live.url} />);
  return renderer;
}

async function openLoadedSettings(userId: string, fetcher?: ServiceFetcher): Promise<Renderer<'settings'>> {
  const renderer = openSettings(userId, fetcher);
  await renderer.waitFor(() => expect(renderer.findByTestId(NumberInput, 'settings-threshold')).toBeDefined(), WAIT);
  // And the account's users, which the pickers offer by name (the rep is offered only once they are: no reviewer now).
  await renderer.waitFor(() => expect(reviewerOptions(renderer)).toContain('Grace Hopper (grace.hopper@example.com)'), WAIT);
  return renderer;
}

const reviewerOptions = (renderer: Renderer<'settings'>) => renderer.findByTestId(MultiSelect, 'settings-reviewers').props.options.map((o) => o.label);

const puts = () => live.calls.filter((c) => c.method === 'PUT');

describe('the settings page', () => {
  it('loads the account’s settings, with each pipeline’s gate stage chosen from its real stages', async () => {
    const renderer = openSettings(users.admin);
    expect(renderer.findByTestId(LoadingSpinner, 'settings-loading')).toBeDefined();
    await renderer.waitFor(() => expect(renderer.findByTestId(NumberInput, 'settings-threshold').props.value).toBe(50000), WAIT);
    expect(renderer.findByTestId(MultiSelect, 'settings-reviewers').props.value).toEqual(['200', '201']);
    expect(renderer.findByTestId(MultiSelect, 'settings-admins').props.value).toEqual(['900']);
    expect(renderer.findByTestId(NumberInput, 'settings-sla-hours').props.value).toBe(48);
    expect(renderer.findByTestId(Toggle, 'settings-capacity-enabled').props.checked).toBe(false);
    const stage = renderer.findByTestId(Select, 'settings-gate-stage-default');
    expect(stage.props.label).toBe('Gate stage in "Sales Pipeline"');
    expect(stage.props.options.map((o) => o.label)).toEqual([
      'By stage name (above)',
      'Appointment Scheduled',
      'Qualified To Buy',
      'Presentation Scheduled',
      'Decision Maker Bought-In',
      'Contract Sent',
    ]);
    expect(renderer.findByTestId(Text, 'settings-updated').text).toBe("Not saved yet: these are the service's defaults.");
    expect(renderer.maybeFindByTestId(Alert, 'settings-read-only')).toBeNull();
  });

  it('offers as a gate stage only what the service accepts: each stage it offers saves', async () => {
    const renderer = await openLoadedSettings(users.admin);
    const offered = renderer
      .findByTestId(Select, 'settings-gate-stage-default')
      .props.options.map((o) => String(o.value))
      .filter((v) => v !== '');
    expect(offered.length).toBeGreaterThan(0);
    for (const [i, stage] of offered.entries()) {
      fire(renderer.findByTestId(Select, 'settings-gate-stage-default'), 'onChange', stage);
      fire(renderer.findByTestId(LoadingButton, 'settings-save'), 'onClick');
      await renderer.waitFor(() => expect(puts()).toHaveLength(i + 1), WAIT);
      await renderer.waitFor(() => expect(renderer.findByTestId(LoadingButton, 'settings-save').props.loading).toBe(false), WAIT);
    }
    expect(puts().filter((p) => p.status !== 200)).toEqual([]);
    expect(renderer.maybeFindByTestId(Alert, 'settings-save-error')).toBeNull();
  });

  it('refuses invalid values by field, with the API’s rules, and saves nothing', async () => {
    const renderer = await openLoadedSettings(users.admin);
    fire(renderer.findByTestId(NumberInput, 'settings-threshold'), 'onChange', -1);
    fire(renderer.findByTestId(MultiSelect, 'settings-admins'), 'onChange', []);
    fire(renderer.findByTestId(NumberInput, 'settings-sla-hours'), 'onChange', 1.5);
    fire(renderer.findByTestId(Toggle, 'settings-capacity-enabled'), 'onChange', true);
    fire(renderer.findByTestId(NumberInput, 'settings-capacity-share'), 'onChange', 150);
    fire(renderer.findByTestId(LoadingButton, 'settings-save'), 'onClick');

    const errorOf = (component: 'people' | 'number', testId: string) =>
      component === 'people' ? renderer.findByTestId(MultiSelect, testId).props.validationMessage : renderer.findByTestId(NumberInput, testId).props.validationMessage;
    expect(errorOf('number', 'settings-threshold')).toBe('must be 0 or more');
    expect(errorOf('people', 'settings-admins')).toBe('needs at least one admin, or nobody could change settings again');
    expect(errorOf('number', 'settings-sla-hours')).toBe('must be whole hours');
    expect(errorOf('number', 'settings-capacity-weeks')).toBe('is required');
    expect(errorOf('number', 'settings-capacity-share')).toBe('must be at most 1 (100%)');
    expect(puts()).toEqual([]);
  });

  it('saves valid settings, which the service then applies to deals', async () => {
    const renderer = await openLoadedSettings(users.admin);
    fire(renderer.findByTestId(NumberInput, 'settings-threshold'), 'onChange', 100000);
    fire(renderer.findByTestId(MultiSelect, 'settings-reviewers'), 'onChange', ['200', '201', '101']);
    fire(renderer.findByTestId(Select, 'settings-escalation'), 'onChange', '300');
    fire(renderer.findByTestId(NumberInput, 'settings-sla-hours'), 'onChange', 24);
    fire(renderer.findByTestId(Select, 'settings-gate-stage-default'), 'onChange', 'decisionmakerboughtin');
    fire(renderer.findByTestId(Toggle, 'settings-capacity-enabled'), 'onChange', true);
    fire(renderer.findByTestId(NumberInput, 'settings-capacity-weeks'), 'onChange', 40);
    fire(renderer.findByTestId(NumberInput, 'settings-capacity-share'), 'onChange', 25);
    fire(renderer.findByTestId(NumberInput, 'settings-amount-tolerance'), 'onChange', 15);
    fire(renderer.findByTestId(Select, 'settings-after-close'), 'onChange', 'flag');
    fire(renderer.findByTestId(LoadingButton, 'settings-save'), 'onClick');
    await renderer.waitFor(() => expect(renderer.findByTestId(Text, 'settings-updated').text).toBe('Last saved 2026-11-02 09:00 UTC by Barbara Liskov.'), WAIT);
    expect(puts()).toEqual([{ method: 'PUT', path: '/api/v1/settings', userId: users.admin, status: 200 }]);
    expect(renderer.mocks.actions.addAlert.calls[0]?.[0]).toMatchObject({ type: 'success' });

    const saved = await live.call<SettingsResponse>(users.rep, 'GET', '/api/v1/settings');
    expect(saved.json.settings).toEqual({
      valueThreshold: 100000,
      slaHours: 24,
      reviewers: ['200', '201', '101'],
      admins: ['900'],
      escalationReviewer: '300',
      gateStageLabel: 'contract',
      gateStages: { default: 'decisionmakerboughtin' },
      capacity: { engineerWeeksPerQuarter: 40, commitmentShare: 0.25, maintenanceShare: 0.2 },
      amountTolerance: 0.15,
      afterClose: 'flag',
      // The page saves the reminder points it shows (issue 15), the defaults here.
      reminders: { atSlaShares: [0.5], hoursBeforeDue: [2] },
    });
    // The page lists the change it just saved, field by field.
    const changes = () => renderer.findAll(Text).filter((t) => String(t.props.testId ?? '').startsWith('settings-change-')).map((t) => t.text);
    await renderer.waitFor(() => expect(changes()[0]).toContain('Barbara Liskov (relaxed and tightened the gate)'), WAIT);
    // In the page's words, not the API's field names and stage ids.
    expect(changes()[0]).toContain('threshold 50,000 -> 100,000');
    expect(changes()[0]).toContain('gate stages by stage name -> Sales Pipeline: Decision Maker Bought-In');
    expect(changes()[0]).toContain('capacity off -> 25% of 40 weeks a quarter');
    expect(changes()[0]).toContain('amount tolerance 10% -> 15%');
    expect(changes()[0]).toContain('a won deal without sign-off moved back -> flagged, stays won');
    const dealId = live.seedDeal({ dealname: 'Acme', dealstage: 'qualifiedtobuy', amount: '80000' });
    const gate = await live.call<GateResponse>(users.rep, 'GET', `/api/v1/deals/${dealId}/gate`);
    expect(gate.json.gate).toMatchObject({ threshold: 100000, gateStage: { id: 'decisionmakerboughtin', label: 'Decision Maker Bought-In' } });
    expect(gate.json.capacity).toMatchObject({ allocationWeeks: 10 });
  });

  it('is read only for someone who is not an admin', async () => {
    const renderer = await openLoadedSettings(users.rep);
    expect(renderer.findByTestId(Alert, 'settings-read-only')).toBeDefined();
    expect(renderer.findByTestId(NumberInput, 'settings-threshold').props.readOnly).toBe(true);
    expect(renderer.maybeFindByTestId(LoadingButton, 'settings-save')).toBeNull();
  });

  it('in an account that has not installed Dealgate, says so, not that only admins may look', async () => {
    // Everyone of an installed account reads the settings; the service refuses only an account that never installed.
    const otherAccount = live.portalId + 1;
    const renderer = openSettings(users.admin, live.fetcherFor(users.admin, otherAccount));
    await renderer.waitFor(() => expect(renderer.findByTestId(ErrorState, 'settings-forbidden')).toBeDefined(), WAIT);
    expect(live.calls.at(-1)?.status).toBe(403);
    expect(renderer.findByTestId(ErrorState, 'settings-forbidden').props.title).toBe('Dealgate is not available in this HubSpot account');
    expect(says(renderer, ErrorState, 'settings-forbidden')).toContain(`account ${otherAccount} has not installed Dealgate`);
  });

  it('shows the service’s refusal with a retry, and loads on retry', async () => {
    live.signatureSkewMs = -10 * 60_000; // HubSpot's signature too old: the service answers 401
    const renderer = openSettings(users.admin);
    await renderer.waitFor(() => expect(renderer.findByTestId(ErrorState, 'settings-error')).toBeDefined(), WAIT);
    expect(live.calls.at(-1)?.status).toBe(401);
    expect(says(renderer, ErrorState, 'settings-error')).toContain('Try again');
    live.signatureSkewMs = 0;
    fire(renderer.findByTestId(Button, 'settings-retry'), 'onClick');
    await renderer.waitFor(() => expect(renderer.findByTestId(NumberInput, 'settings-threshold')).toBeDefined(), WAIT);
  });

  it('disables saving while the save is in flight, and sends it once', async () => {
    const gate = live.gatedFetcherFor(users.admin);
    const renderer = await openLoadedSettings(users.admin, gate.fetcher);
    fire(renderer.findByTestId(NumberInput, 'settings-sla-hours'), 'onChange', 12);
    gate.hold();
    fire(renderer.findByTestId(LoadingButton, 'settings-save'), 'onClick');
    await eventually(() => expect(gate.waiting()).toBe(1));
    expect(renderer.findByTestId(LoadingButton, 'settings-save').props).toMatchObject({ loading: true, disabled: true });
    fire(renderer.findByTestId(LoadingButton, 'settings-save'), 'onClick');
    gate.release();
    await renderer.waitFor(() => expect(renderer.findByTestId(NumberInput, 'settings-sla-hours').props.value).toBe(12), WAIT);
    await renderer.waitFor(() => expect(renderer.findByTestId(Text, 'settings-updated').text).toContain('by Barbara Liskov'), WAIT);
    expect(puts()).toHaveLength(1);
  });
});
