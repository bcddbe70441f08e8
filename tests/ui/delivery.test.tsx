import { Alert, DateInput, Input, Link, LoadingButton, Select, StatusTag, TableRow, Text, TextArea } from '@hubspot/ui-extensions';
import { createRenderer, type Renderer } from '@hubspot/ui-extensions/testing';
import type { GateResponse, SettingsResponse } from '../../extensions/contract/api';
import { DealDeskHome } from '../../extensions/home/DealDeskHome';
import { startLiveService, users, type LiveService } from './support/liveService';
import { fire, openLoadedCard, reads, says, WAIT } from './cardHarness';
import { PEOPLE_REFRESH_MS } from '../../src/server/application/people';

let live: LiveService;
beforeEach(async () => {
  live = await startLiveService();
});
afterEach(async () => {
  await live.close();
});

const DAY = 24 * 60 * 60 * 1000;

/** A deal whose commitment the reviewer approved (yes): a delivery promised effortWeeks after today. */
async function approvedDeal(name = 'Acme rollout', effortWeeks = 4): Promise<{ dealId: string; reviewId: number }> {
  const dealId = live.seedDeal({ dealname: name, dealstage: 'qualifiedtobuy', amount: '80000' });
  const requested = await live.call<GateResponse>(users.rep, 'POST', `/api/v1/deals/${dealId}/reviews`, { summary: 'SSO with Okta', effortWeeks });
  const reviewId = requested.json.review?.id ?? 0;
  expect((await live.call(users.reviewer, 'POST', `/api/v1/reviews/${reviewId}/decision`, { outcome: 'yes' })).status).toBe(200);
  return { dealId, reviewId };
}

const deliveryStatus = (renderer: Renderer<'crm.record.tab'>) => renderer.findByTestId(StatusTag, 'delivery-status').text;
const send = (renderer: Renderer<'crm.record.tab'>) => fire(renderer.findByTestId(LoadingButton, 'delivery-form-send'), 'onClick');

describe('the deal card: the delivery engineering owns', () => {
  it('shows the rep the owner, the promised date and the status, and no form to change them', async () => {
    const { dealId } = await approvedDeal();
    const renderer = await openLoadedCard(live, dealId, users.rep);
    expect(deliveryStatus(renderer)).toBe('Planned');
    expect(says(renderer, Text, 'delivery-promise')).toBe('Owned by Ada Lovelace; promised for 2026-11-30.');
    expect(renderer.maybeFindByTestId(LoadingButton, 'delivery-form-send')).toBeNull();
    expect(says(renderer, Text, 'delivery-update-denied')).toContain('a later date comes with a task for the deal owner to tell the customer');
    expect(reads(renderer, TableRow, 'delivery-history-0')).toBe('2026-11-02 09:00 UTC | Ada Lovelace | Planned | Ada Lovelace | 2026-11-30 |');
  });

  it('lets the owner slip it (the reason required, as the service says), link the work item, then deliver it; HubSpot follows', async () => {
    const { dealId } = await approvedDeal();
    const renderer = await openLoadedCard(live, dealId, users.reviewer);
    expect(says(renderer, Text, 'delivery-promise')).toBe('Owned by you (Ada Lovelace); promised for 2026-11-30.');
    fire(renderer.findByTestId(DateInput, 'delivery-form-date'), 'onChange', { year: 2026, month: 11, date: 14 });
    send(renderer);
    await renderer.waitFor(() => expect(renderer.findByTestId(TextArea, 'delivery-form-reason').props.error).toBe(true), WAIT);
    expect(renderer.findByTestId(TextArea, 'delivery-form-reason').props.validationMessage).toBe(
      'moving the promised date from 2026-11-30 to 2026-12-14 is a slip: say why (the rep tells the customer)',
    );
    expect(deliveryStatus(renderer)).toBe('Planned');

    fire(renderer.findByTestId(TextArea, 'delivery-form-reason'), 'onChange', 'the IdP vendor changed its API');
    fire(renderer.findByTestId(Input, 'delivery-form-link'), 'onChange', 'https://tracker.example.com/ENG-42');
    send(renderer);
    await renderer.waitFor(() => expect(deliveryStatus(renderer)).toBe('Slipped'), WAIT);
    expect(says(renderer, Text, 'delivery-promise')).toBe('Owned by you (Ada Lovelace); promised for 2026-12-14 (first promised for 2026-11-30).');
    expect(says(renderer, Text, 'delivery-slip-reason')).toBe('Why it slipped: the IdP vendor changed its API');
    expect(renderer.findByTestId(Link, 'delivery-work-item').props.href).toEqual({ url: 'https://tracker.example.com/ENG-42', external: true });
    await live.stack.settle();
    expect(live.stack.sim.getDeal(dealId)?.properties).toMatchObject({ dealgate_delivery_status: 'slipped', dealgate_promised_date: '2026-12-14' });
    expect(live.stack.sim.notesForDeal(dealId).filter((n) => (n.properties.hs_note_body ?? '').includes('slipped'))).toHaveLength(1);

    live.clock.advance(10 * DAY);
    fire(renderer.findByTestId(Select, 'delivery-form-status'), 'onChange', 'delivered');
    send(renderer);
    await renderer.waitFor(() => expect(deliveryStatus(renderer)).toBe('Delivered'), WAIT);
    expect(says(renderer, Text, 'delivery-delivered')).toBe('Delivered on 2026-11-12 09:00 UTC.');
    expect(says(renderer, Text, 'delivery-update-denied')).toBe('This commitment is delivered; nothing more is expected of it.');
    await live.stack.settle();
    expect(live.stack.sim.getDeal(dealId)?.properties.dealgate_delivery_status).toBe('delivered');
  });

  it('lets the owner hand it to another engineer, picked by name; the new owner then sees it as theirs', async () => {
    const { dealId, reviewId } = await approvedDeal();
    const renderer = await openLoadedCard(live, dealId, users.reviewer);
    const owner = renderer.findByTestId(Select, 'delivery-form-owner');
    // The engineers of the account who may own it, the current owner first, named.
    expect(owner.props.options).toEqual([
      { value: users.reviewer, label: 'you (Ada Lovelace)' },
      { value: users.secondReviewer, label: 'Edsger Dijkstra' },
    ]);
    expect(owner.props.value).toBe(users.reviewer);
    fire(owner, 'onChange', users.secondReviewer);
    send(renderer);
    await renderer.waitFor(() => expect(says(renderer, Text, 'delivery-promise')).toBe('Owned by Edsger Dijkstra; promised for 2026-11-30.'), WAIT);
    expect((await live.stack.store.deliveries.get(live.stack.sim.portalId, reviewId))?.ownerUserId).toBe(users.secondReviewer);
    // The history says who handed it to whom.
    expect(reads(renderer, TableRow, 'delivery-history-0')).toBe('2026-11-02 09:00 UTC | you (Ada Lovelace) | Planned | Edsger Dijkstra | 2026-11-30 |');
    const theirs = await openLoadedCard(live, dealId, users.secondReviewer);
    expect(says(theirs, Text, 'delivery-promise')).toBe('Owned by you (Edsger Dijkstra); promised for 2026-11-30.');
  });

  it('says so when the owner has left (deactivated in HubSpot): the card asks for a new owner, the picker marks them, the home page flags the row', async () => {
    const { dealId, reviewId } = await approvedDeal();
    live.stack.sim.deactivateOwner(Number(users.reviewer));
    live.clock.advance(PEOPLE_REFRESH_MS);
    const asReviewer = await openLoadedCard(live, dealId, users.secondReviewer);
    expect(asReviewer.findByTestId(Alert, 'delivery-owner-deactivated').props.title).toBe('This commitment has no owner who can deliver it');
    expect(says(asReviewer, Alert, 'delivery-owner-deactivated')).toBe('Ada Lovelace has been deactivated in HubSpot: hand this delivery to an engineer below.');
    expect(asReviewer.findByTestId(Select, 'delivery-form-owner').props.options).toEqual([
      { value: users.reviewer, label: 'Ada Lovelace (deactivated in HubSpot)' },
      { value: users.secondReviewer, label: 'you (Edsger Dijkstra)' },
    ]);
    const asRep = await openLoadedCard(live, dealId, users.rep);
    expect(says(asRep, Alert, 'delivery-owner-deactivated')).toBe('Ada Lovelace has been deactivated in HubSpot: it needs a new owner.');

    const home = createRenderer('home');
    home.render(<DealDeskHome fetcher={live.fetcherFor(users.admin)} baseUrl={live.url} userId={users.admin} />);
    await home.waitFor(() => expect(home.findByTestId(Text, 'deliveries-counts')).toBeDefined(), WAIT);
    expect(reads(home, TableRow, `delivery-${reviewId}`)).toBe('Acme rollout | Ada Lovelace (deactivated in HubSpot: needs a new owner) | [Planned] | 2026-11-30');

    // Handed over, the warning is gone.
    fire(asReviewer.findByTestId(Select, 'delivery-form-owner'), 'onChange', users.secondReviewer);
    send(asReviewer);
    await asReviewer.waitFor(() => expect(says(asReviewer, Text, 'delivery-promise')).toBe('Owned by you (Edsger Dijkstra); promised for 2026-11-30.'), WAIT);
    expect(asReviewer.maybeFindByTestId(Alert, 'delivery-owner-deactivated')).toBeNull();
  });

  it('sends an admin to the settings when the owner has left and no other engineer is a user to hand it to', async () => {
    const { dealId } = await approvedDeal();
    live.stack.sim.deactivateOwner(Number(users.reviewer));
    live.stack.sim.deactivateOwner(Number(users.secondReviewer));
    live.clock.advance(PEOPLE_REFRESH_MS);
    const asAdmin = await openLoadedCard(live, dealId, users.admin);
    expect(says(asAdmin, Alert, 'delivery-owner-deactivated')).toBe(
      'Ada Lovelace has been deactivated in HubSpot: no other engineer of the account is a user now; an admin adds one to the reviewers in the settings, then it can be handed over here.',
    );
    expect(asAdmin.maybeFindByTestId(Select, 'delivery-form-owner')).toBeNull();
  });

  it('names the owner by name when the service refuses a reviewer who lost the role while the card was open', async () => {
    const { dealId } = await approvedDeal();
    const renderer = await openLoadedCard(live, dealId, users.secondReviewer);
    const current = await live.call<SettingsResponse>(users.admin, 'GET', '/api/v1/settings');
    expect((await live.call(users.admin, 'PUT', '/api/v1/settings', { ...current.json.settings, reviewers: [users.reviewer] })).status).toBe(200);
    fire(renderer.findByTestId(Select, 'delivery-form-status'), 'onChange', 'in_progress');
    send(renderer);
    await renderer.waitFor(() => expect(renderer.findByTestId(Alert, 'action-error').props.title).toBe('You are not allowed to do that'), WAIT);
    expect(says(renderer, Alert, 'action-error')).toContain("only its owner (Ada Lovelace), the account's reviewers and its admins may update this delivery");
    expect(deliveryStatus(renderer)).toBe('Planned');
  });
});

describe('the home page: commitments and on-time delivery', () => {
  it('lists the open commitments by promised date, the overdue one first, and the on-time rate of the quarter', async () => {
    const early = await approvedDeal('Globex', 1); // promised 2026-11-09
    const later = await approvedDeal('Initech', 3); // 2026-11-23
    const done = await approvedDeal('Hooli', 2); // 2026-11-16
    live.clock.advance(5 * DAY);
    expect((await live.call(users.reviewer, 'POST', `/api/v1/reviews/${done.reviewId}/delivery`, { status: 'delivered' })).status).toBe(200);
    live.clock.advance(6 * DAY); // 2026-11-13: Globex's date has passed

    const renderer = createRenderer('home');
    renderer.render(<DealDeskHome fetcher={live.fetcherFor(users.admin)} baseUrl={live.url} userId={users.admin} />);
    await renderer.waitFor(() => expect(renderer.findByTestId(Text, 'deliveries-counts')).toBeDefined(), WAIT);
    expect(says(renderer, Text, 'deliveries-counts')).toBe('2 open, 1 overdue.');
    const rows = renderer.findAll(TableRow).filter((r) => /^delivery-\d+$/.test(String(r.props.testId ?? '')));
    expect(rows.map((r) => r.props.testId)).toEqual([`delivery-${early.reviewId}`, `delivery-${later.reviewId}`]);
    expect(reads(renderer, TableRow, `delivery-${early.reviewId}`)).toBe('Globex | Ada Lovelace | [Overdue (Planned)] | 2026-11-09');
    expect(reads(renderer, TableRow, `delivery-${later.reviewId}`)).toBe('Initech | Ada Lovelace | [Planned] | 2026-11-23');
    expect(reads(renderer, TableRow, 'on-time-2026-Q4')).toBe('2026-Q4 | 1 | 0 | 1 | 50% (1 of 2)');
  });
});
