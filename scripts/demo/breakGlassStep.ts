import type { GateResponse } from '../../extensions/contract/api';
import { HOUR_MS } from '../../src/server/domain/sla';
import { waitUntil } from '../../tests/support/process';
import { people, type DemoWorld } from './demoWorld';
import { noteText, type Narrator } from './narrator';

/**
 * Break-glass in the demo (issue 15), in two steps around the clock's jump of the overdue step:
 * before it, the admin lets a deal that must close tonight pass the gate without review for 24 h,
 * and the rep's move to Closed Won stands; after it (the box has closed with no decision),
 * Dealgate moves the deal back like any other past the gate without sign-off.
 */
interface BreakGlassStory {
  world: DemoWorld;
  say: Narrator;
  ledger: { violations: number[] };
}

const GATE_STAGE = 'contractsent';
const WON = 'closedwon';
const BOX_HOURS = 24;
const REASON = 'Globex signs tonight at their board meeting; the review is booked for tomorrow';

export async function stepBreakGlassOpened({ world, say }: BreakGlassStory): Promise<{ dealId: string; movedAt: number }> {
  say.step('The admin breaks the glass: a deal that must close tonight passes the gate without review, for 24 h');
  const globex = world.stack.sim.seedDeal({
    properties: {
      dealname: 'Globex: SCIM provisioning',
      dealstage: GATE_STAGE,
      pipeline: 'default',
      amount: '70000',
      hubspot_owner_id: people.rep.ownerId,
      dealgate_commitment: 'true',
      dealgate_commitment_summary: 'SCIM user provisioning from the customer Azure AD',
      dealgate_effort_weeks: '2',
    },
    userId: Number(people.rep.userId),
  }).id;
  say.say(`Deal ${globex} "Globex: SCIM provisioning" (70,000) needs a review nobody has done. ${people.admin.name} breaks the glass: "${REASON}".`);
  const refused = await world.call('rep', 'POST', `/deals/${globex}/break-glass`, { reason: 'I want it closed' });
  say.expectEqual(`POST /api/v1/deals/${globex}/break-glass as the rep answers 403`, refused.status, 403);
  const opened = await world.call<GateResponse>('admin', 'POST', `/deals/${globex}/break-glass`, { reason: REASON, hours: BOX_HOURS });
  say.expectEqual(`POST /api/v1/deals/${globex}/break-glass as the admin answers 201`, opened.status, 201);
  say.expectEqual('the API: the deal may advance while the box is open', [opened.json.gate.mayAdvance, opened.json.breakGlass.latest?.open], [true, true]);
  await world.stack.settle();
  const note = world.notesOf(globex, 'break-glass');
  say.expectEqual('HubSpot: one note on the deal says who, why and until when', [note.length, (note[0]?.properties.hs_note_body ?? '').includes(REASON)], [1, true]);
  say.show('The note in HubSpot:', noteText(note[0]?.properties.hs_note_body));
  const movedAt = world.clock.now();
  await world.moveAs('rep', globex, WON);
  say.expectEqual('HubSpot: the rep moves it to Closed Won and it stays there', world.stageOf(globex), WON);
  world.showCard('rep', await world.gate('rep', globex));
  return { dealId: globex, movedAt };
}

export async function stepBreakGlassExpired({ world, say, ledger }: BreakGlassStory, { dealId: globex, movedAt }: { dealId: string; movedAt: number }): Promise<void> {
  say.step('The break-glass box closes with no decision: Dealgate moves the deal back');
  say.say(`The clock has jumped past Globex's ${BOX_HOURS} h box and nobody decided its review.`);
  await waitUntil(() => world.stageOf(globex) === GATE_STAGE, 20_000, 'the Globex deal to be moved back');
  await world.stack.settle();
  ledger.violations.push(movedAt);
  say.expectEqual('HubSpot: the deal is back in Contract Sent', world.stageOf(globex), GATE_STAGE);
  const ended = world.notesOf(globex, 'with no decision');
  say.expectEqual('HubSpot: a note says the break-glass ended with no decision', ended.length, 1);
  say.show('The note in HubSpot:', noteText(ended[0]?.properties.hs_note_body));
  const gate = await world.gate('admin', globex);
  say.expectEqual('the API: the break-glass is closed as expired', [gate.breakGlass.latest?.open, gate.breakGlass.latest?.closedAs], [false, 'expired']);
  say.check(`the box was ${BOX_HOURS} h`, Date.parse(gate.breakGlass.latest?.until ?? '') - Date.parse(gate.breakGlass.latest?.openedAt ?? '') === BOX_HOURS * HOUR_MS);
  world.showCard('admin', gate);
}
