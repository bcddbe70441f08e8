import type { GateResponse, SettingsResponse } from '../../extensions/contract/api';
import { people, type DemoWorld } from './demoWorld';
import { noteText, type Narrator } from './narrator';

/**
 * The demo's Triad step (issue 14, disagree and commit): the admin turns the Triad on, the tech
 * lead and product marketing give their views, the product manager makes the call against both,
 * the note on the deal says who decided and who disagreed, and the admin turns the Triad off
 * again (one designated reviewer decides, as in the rest of the story).
 */
export interface TriadStepStory {
  world: DemoWorld;
  say: Narrator;
  /** The story's decisions, for the dashboard's counts. */
  ledger: { decisions: { outcome: 'yes' | 'yes_but' | 'no'; at: number }[] };
}

async function setTriad(story: TriadStepStory, enabled: boolean): Promise<void> {
  const { world, say } = story;
  const current = (await world.call<SettingsResponse>('admin', 'GET', '/settings')).json.settings;
  const members = { tech_lead: [people.techLead.userId], product_manager: [people.productManager.userId], product_marketing: [people.marketing.userId] };
  const saved = await world.call<SettingsResponse>('admin', 'PUT', '/settings', { ...current, triad: { enabled, members, decisionMaker: 'product_manager' } });
  say.expectEqual(`PUT /api/v1/settings as the admin (the Triad ${enabled ? 'on' : 'off'}) answers 200`, [saved.status, saved.json.settings.triad?.enabled], [200, enabled]);
}

async function giveView(story: TriadStepStory, who: 'techLead' | 'marketing', reviewId: number, body: Record<string, unknown>): Promise<GateResponse> {
  const given = await story.world.call<GateResponse>(who, 'POST', `/reviews/${reviewId}/perspective`, body);
  story.say.expectEqual(`POST /api/v1/reviews/${reviewId}/perspective as ${people[who].name} answers 200`, given.status, 200);
  return given.json;
}

export async function stepTriad(story: TriadStepStory, gateStage: string): Promise<void> {
  const { world, say } = story;
  say.step('The Triad: every view heard, the product manager makes the call against a dissent (disagree and commit)');
  await setTriad(story, true);
  const summary = "Two-way sync with the customer's Salesforce org";
  const wayne = world.stack.sim.seedDeal({
    properties: { dealname: 'Wayne Enterprises: CRM sync', dealstage: gateStage, pipeline: 'default', amount: '95000', hubspot_owner_id: people.rep.ownerId },
    userId: Number(people.rep.userId),
  }).id;
  const requested = await world.call<GateResponse>('rep', 'POST', `/deals/${wayne}/reviews`, { summary, effortWeeks: 5 });
  say.expectEqual(`POST /api/v1/deals/${wayne}/reviews as the rep answers 201`, requested.status, 201);
  const reviewId = requested.json.review?.id ?? 0;
  await giveView(story, 'techLead', reviewId, { stance: 'yes_but', weeks: 2, note: 'the sync needs a conflict queue first' });
  const heard = await giveView(story, 'marketing', reviewId, { stance: 'can_sell', value: 250_000, note: 'four other prospects asked for it' });
  say.expectEqual('the API: two views heard, nobody left to weigh in', [heard.triad?.views.length, heard.triad?.notWeighedIn], [2, []]);

  say.say(`${people.productManager.name} makes the call: no, it does not fit the roadmap this quarter.`);
  const decided = await world.call<GateResponse>('productManager', 'POST', `/reviews/${reviewId}/decision`, { outcome: 'no', note: 'the integrations platform ships next quarter; sell it on that' });
  say.expectEqual(`POST /api/v1/reviews/${reviewId}/decision as ${people.productManager.name} answers 200`, decided.status, 200);
  story.ledger.decisions.push({ outcome: 'no', at: world.clock.now() });
  await world.stack.settle();
  const call = decided.json.triad?.call;
  say.expectEqual('the API: disagree and commit, against the tech lead and product marketing', [call?.disagreeAndCommit, call?.dissent.map((v) => v.role)], [true, ['tech_lead', 'product_marketing']]);
  const note = world.notesOf(wayne, 'Disagree and commit')[0]?.properties.hs_note_body ?? '';
  say.check(
    'HubSpot: the note on the deal names who decided and who disagreed, by name',
    [people.productManager.fullName, people.techLead.fullName, people.marketing.fullName].every((name) => note.includes(name)),
    noteText(note),
  );
  say.show('The note in HubSpot:', noteText(note));
  world.showCard('rep', await world.gate('rep', wayne));
  await setTriad(story, false);
}
