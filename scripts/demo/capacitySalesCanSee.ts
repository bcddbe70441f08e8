import type { ApiErrorBody, GateResponse, SettingsResponse } from '../../extensions/contract/api';
import { previewLine, sharesLine } from '../../extensions/card/capacityWording';
import { people } from './demoWorld';
import { noteText } from './narrator';
import { seedGatedDeal, type Story } from './story';

/**
 * Capacity sales can see (issue 14): the quarter in three shares (customer commitments,
 * maintenance and technical debt, product work), what a request would leave before the rep asks,
 * and post-sales work on a won deal booked against the same customer share.
 */
export async function stepCapacitySalesCanSee(story: Story, wonDealId: string): Promise<void> {
  const { world, say } = story;
  say.step('Capacity sales can see: customer work next to maintenance, what a request would leave, post-sales work on a won deal');
  const current = (await world.call<SettingsResponse>('admin', 'GET', '/settings')).json.settings;
  say.say(`${people.admin.name} tries 70% for customer commitments and 40% for maintenance...`);
  const refused = await world.call<ApiErrorBody>('admin', 'PUT', '/settings', { ...current, capacity: { engineerWeeksPerQuarter: 100, commitmentShare: 0.7, maintenanceShare: 0.4 } });
  say.expectEqual('the API refuses: 400 naming both shares', [refused.status, refused.json.error?.details?.issues?.map((i) => i.path)], [400, ['capacity.commitmentShare', 'capacity.maintenanceShare']]);
  say.show('What the settings page says:', refused.json.error?.message ?? '');

  const capacity = { engineerWeeksPerQuarter: 100, commitmentShare: 0.3, maintenanceShare: 0.2 };
  say.say(`...then 30% for customer commitments, 20% kept for maintenance and technical debt, the rest product work.`);
  const saved = await world.call<SettingsResponse>('admin', 'PUT', '/settings', { ...current, capacity });
  say.expectEqual('PUT /api/v1/settings as the admin answers 200 with the shares', [saved.status, saved.json.settings.capacity], [200, capacity]);

  const stark = seedGatedDeal(world, 'Stark: SSO audit', 90_000, 'SSO session audit export', 4);
  const before = await world.gate('rep', stark);
  say.expectEqual('the card shows the three shares', before.capacity?.shares.maintenance, { share: 0.2, weeks: 20 });
  say.show('The quarter, as the card and the home page show it:', `${before.capacity ? sharesLine(before.capacity.shares) : ''}.`);
  const preview = before.capacityPreview;
  say.check('before requesting, the rep sees what this 4-week request would leave', preview !== null && preview.requestedWeeks === 4 && preview.fits, JSON.stringify(preview));
  say.show(`What ${people.rep.name} reads before asking:`, preview ? previewLine(preview) : '');

  await postSalesOnWonDeal(story, wonDealId);
}

async function postSalesOnWonDeal(story: Story, dealId: string): Promise<void> {
  const { world, say } = story;
  const usedBefore = (await world.gate('rep', dealId)).capacity?.usedWeeks ?? 0;
  const statusBefore = world.propertyOf(dealId, 'dealgate_status');
  const deliveryBefore = world.propertyOf(dealId, 'dealgate_delivery_status');
  say.say(`The Acme deal is won. ${people.rep.name} asks engineering for 2 weeks of post-sales work: importing the customer's legacy user directory.`);
  const requested = await world.call<GateResponse>('rep', 'POST', `/deals/${dealId}/reviews`, { summary: 'Import the legacy user directory', effortWeeks: 2, kind: 'post_sales' });
  const postReview = requested.json.postSales?.reviews.at(-1)?.review;
  say.expectEqual('POST /api/v1/deals/:id/reviews with kind post_sales answers 201, pending', [requested.status, postReview?.kind, postReview?.status], [201, 'post_sales', 'pending']);
  await world.stack.settle();
  const reviewId = postReview?.id ?? 0;

  const answered = await world.call<GateResponse>('reviewer', 'POST', `/reviews/${reviewId}/decision`, { outcome: 'yes', note: 'The identity team takes it' });
  say.expectEqual(`POST /api/v1/reviews/${reviewId}/decision as the reviewer answers 200`, answered.status, 200);
  story.ledger.decisions.push({ outcome: 'yes', at: world.clock.now() });
  await world.stack.settle();
  say.expectEqual('the customer share used rises by the 2 weeks', answered.json.capacity?.usedWeeks, usedBefore + 2);
  say.expectEqual(
    "HubSpot: the deal stays won, its commitment's status and delivery unchanged",
    [world.stageOf(dealId), world.propertyOf(dealId, 'dealgate_status'), world.propertyOf(dealId, 'dealgate_delivery_status')],
    ['closedwon', statusBefore, deliveryBefore],
  );
  const note = world.notesOf(dealId, `post-sales review #${reviewId}`);
  say.expectEqual('HubSpot: a note records the post-sales answer', note.length, 1);
  say.show('The note in HubSpot:', noteText(note[0]?.properties.hs_note_body));
  world.showCard('rep', await world.gate('rep', dealId));
}
