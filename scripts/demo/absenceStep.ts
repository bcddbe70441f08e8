import type { AbsenceView, AbsencesResponse, GateResponse } from '../../extensions/contract/api';
import { HOUR_MS } from '../../src/server/domain/sla';
import { people, SLA_HOURS } from './demoWorld';
import { noteText } from './narrator';
import type { Story } from './story';

/**
 * Issue 15 in the story: the reviewer goes on holiday and names a delegate; a request made
 * meanwhile goes to the delegate (with HubSpot's reminder on the task), the card says who covers,
 * and the delegate's answer says "covering for" in the note and the audit; then the reviewer is
 * back. A no, so the capacity and deliveries the later steps count stay as they are.
 */
export async function stepAbsenceDelegated(story: Story): Promise<void> {
  const { world, say } = story;
  const { reviewer, escalation } = people;
  say.step(`The reviewer is away: ${escalation.name} covers, is asked, and decides for them`);
  const now = world.clock.now();
  const until = new Date(now + 7 * 24 * HOUR_MS).toISOString();
  const recorded = await world.call<AbsenceView>('reviewer', 'POST', '/absences', { delegateUserId: escalation.userId, from: new Date(now).toISOString(), until });
  say.expectEqual(`POST /api/v1/absences as ${reviewer.name} (away for a week, ${escalation.name} covers) answers 201`, [recorded.status, recorded.json.current], [201, true]);

  const umbrella = world.stack.sim.seedDeal({
    properties: { dealname: 'Umbrella: audit export', dealstage: 'contractsent', pipeline: 'default', amount: '70000', hubspot_owner_id: people.rep.ownerId },
    userId: Number(people.rep.userId),
  }).id;
  const summary = 'Nightly export of the audit log to the customer SIEM in their own schema';
  say.say(`Deal ${umbrella} "Umbrella: audit export" (70,000): the rep requests a review while ${reviewer.name} is away.`);
  const requested = await world.call<GateResponse>('rep', 'POST', `/deals/${umbrella}/reviews`, { summary, effortWeeks: 3 });
  say.expectEqual('the review is pending', [requested.status, requested.json.review?.status], [201, 'pending']);
  await world.stack.settle();
  const tasks = world.stack.sim.tasksForDeal(umbrella).map((t) => t.properties);
  say.expectEqual(`HubSpot: the task goes to ${escalation.name}, not to ${reviewer.name}`, tasks.map((t) => t.hubspot_owner_id), [escalation.ownerId]);
  const halfSla = requested.json.sla ? Date.parse(requested.json.sla.dueAt) - (SLA_HOURS / 2) * HOUR_MS : Number.NaN;
  say.expectEqual('HubSpot: the task carries its own reminder at half the SLA (hs_task_reminders, epoch ms)', tasks[0]?.hs_task_reminders, String(halfSla));
  const card = await world.gate('escalation', umbrella);
  say.expectEqual(
    'the API: the card says who covers, by name',
    card.covering?.map((c) => ({ absentUserId: c.absentUserId, absent: c.absent.name, delegateUserId: c.delegateUserId, delegate: c.delegate.name, until: c.until })),
    [{ absentUserId: reviewer.userId, absent: reviewer.fullName, delegateUserId: escalation.userId, delegate: escalation.fullName, until }],
  );
  world.showCard('escalation', card);

  const answered = await world.call<GateResponse>('escalation', 'POST', `/reviews/${card.review?.id ?? 0}/decision`, {
    outcome: 'no',
    note: 'The SIEM schema changes every release; we would own a moving target',
  });
  say.expectEqual(`POST /api/v1/reviews/${card.review?.id}/decision as ${escalation.name} answers 200`, [answered.status, answered.json.review?.status], [200, 'rejected']);
  story.ledger.decisions.push({ outcome: 'no', at: world.clock.now() });
  await world.stack.settle();
  const note = world.notesOf(umbrella, 'covering for');
  say.check(`HubSpot: the decision's note says "Decided by ${escalation.fullName}, covering for ${reviewer.fullName}"`, note.length === 1 && (note[0]?.properties.hs_note_body ?? '').includes(`Decided by ${escalation.fullName}, covering for ${reviewer.fullName}`));
  say.show('The note in HubSpot:', noteText(note[0]?.properties.hs_note_body));

  const back = await world.call<AbsencesResponse>('reviewer', 'DELETE', `/absences/${recorded.json.id}`);
  say.expectEqual(`DELETE /api/v1/absences/${recorded.json.id}: ${reviewer.name} is back early, nobody is away`, [back.status, back.json.absences], [200, []]);
}
