import type { ApiErrorBody, PeopleResponse, SettingsResponse } from '../../extensions/contract/api';
import { people, type DemoWorld } from './demoWorld';
import { noteText, type Narrator } from './narrator';

/**
 * Issue 15 in the story: Dealgate speaks of people by their HubSpot names. The notes it wrote say
 * who decided by name, the settings pickers list the account's users, and a typed id that is not
 * one of them is refused, naming it.
 */
export async function stepPeopleByName(world: DemoWorld, say: Narrator, acme: string): Promise<void> {
  say.step('People by name: notes and cards name people, and settings pick them from the account\'s users');
  const decision = world.notesOf(acme, 'Decided by');
  say.check(`HubSpot: the decision note on Acme says "Decided by ${people.reviewer.fullName}"`, (decision[0]?.properties.hs_note_body ?? '').includes(`Decided by ${people.reviewer.fullName}`));
  say.show('That note in HubSpot:', noteText(decision[0]?.properties.hs_note_body));

  const listed = await world.call<PeopleResponse>('admin', 'GET', '/people');
  say.expectEqual('GET /api/v1/people lists the account\'s users by name (the settings pickers)', listed.json.people.map((p) => p.name), Object.values(people).map((p) => p.fullName).sort());
  say.say(listed.json.people.map((p) => `  ${p.name} <${p.email}> = user ${p.userId}`).join('\n'));

  const settings = (await world.call<SettingsResponse>('admin', 'GET', '/settings')).json.settings;
  say.say(`${people.admin.name} tries to add a reviewer by typing an id, 4242, that is no user of the account.`);
  const refused = await world.call<ApiErrorBody>('admin', 'PUT', '/settings', { ...settings, reviewers: [...settings.reviewers, '4242'] });
  say.expectEqual('the API refuses it with 400, naming the id', [refused.status, refused.json.error.message.includes('user 4242 is not a user of this HubSpot account')], [400, true]);
  say.say(`  ${refused.json.error.message}`);
  world.showCard('rep', await world.gate('rep', acme));
}
