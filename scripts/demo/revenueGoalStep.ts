import type { DashboardResponse, SettingsResponse } from '../../extensions/contract/api';
import { people, type DemoWorld } from './demoWorld';
import { noteText, type Narrator } from './narrator';

const GOAL_NOTE = "engineering's revenue goal";

/**
 * Issue 14, shared metrics: engineering's revenue goal. The admin sets a goal the quarter's
 * approved wins fall just short of; winning Hooli (approved in step 6, delivered in step 7) reaches
 * it: one note on Hooli, and the dashboard says the goal is reached and by which deal.
 */
export async function stepRevenueGoal({ world, say }: { world: DemoWorld; say: Narrator }, hooliDealId: string): Promise<void> {
  say.step("Engineering's revenue goal is reached when a deal it approved is won");
  const before = await world.call<DashboardResponse>('admin', 'GET', '/dashboard');
  say.expectEqual('GET /api/v1/dashboard as the admin answers 200', before.status, 200);
  const wonSoFar = before.json.sharedMetrics.revenue.approvedAmount;
  const goal = wonSoFar + 100_000;
  say.say(
    `Won so far this quarter with approved commitments: ${wonSoFar.toLocaleString('en-US')}. ${people.admin.name} sets engineering's ` +
      `revenue goal to ${goal.toLocaleString('en-US')} in the settings page; Hooli (150,000, approved and delivered) is still open.`,
  );
  const current = await world.call<SettingsResponse>('admin', 'GET', '/settings');
  const saved = await world.call<SettingsResponse>('admin', 'PUT', '/settings', { ...current.json.settings, revenueGoal: goal });
  say.expectEqual('PUT /api/v1/settings as the admin answers 200 with the goal', [saved.status, saved.json.settings?.revenueGoal], [200, goal]);

  say.say(`${people.rep.name} moves Hooli to Closed Won.`);
  await world.moveAs('rep', hooliDealId, 'closedwon');
  say.expectEqual('HubSpot: Hooli stays in Closed Won (engineering approved it)', world.stageOf(hooliDealId), 'closedwon');
  const notes = world.notesOf(hooliDealId, GOAL_NOTE);
  say.expectEqual('HubSpot: one note on Hooli says the goal is reached', notes.length, 1);
  say.show('The note in HubSpot:', noteText(notes[0]?.properties.hs_note_body));

  const after = (await world.call<DashboardResponse>('admin', 'GET', '/dashboard')).json.sharedMetrics.revenue;
  say.expectEqual('the dashboard: the goal is reached by Hooli', [after.approvedAmount, after.reachedBy?.dealId], [wonSoFar + 150_000, hooliDealId]);
  say.check('the dashboard: Hooli counts as delivered too', after.deliveredAmount >= 150_000, JSON.stringify(after));
}
