import { z } from 'zod';
import type { ApiErrorBody, DashboardResponse, DecisionOutcome, GateResponse, SettingsResponse } from '../../extensions/contract/api';
import { renderDashboardAsText } from '../../extensions/text/renderText';
import { quarterOf } from '../../src/server/domain/capacityLedger';
import { HOUR_MS } from '../../src/server/domain/sla';
import type { Stack } from '../../tests/support/stack';
import { waitUntil } from '../../tests/support/process';
import { people, SLA_HOURS, THRESHOLD, startDemoWorld, whoIsWho, type DemoWorld } from './demoWorld';
import { Narrator, noteText, StepFailure, type Write } from './narrator';
import { stepCapacitySalesCanSee } from './capacitySalesCanSee';
import { stepRevenueGoal } from './revenueGoalStep';
import { stepTriad } from './triadStep';
import { stepBreakGlassExpired, stepBreakGlassOpened } from './breakGlassStep';
import { stepAbsenceDelegated } from './absenceStep';
import { stepPeopleByName } from './peopleStep';

/**
 * The story `npm run demo` tells, step by step, checking at each step what HubSpot (the
 * simulator) recorded and what the card API answered. See README.md, section "Demo".
 */

const GATE_STAGE = 'contractsent';
const GATE_STAGE_LABEL = 'Contract Sent';
const WON = 'closedwon';
const REVERT_NOTE = 'Dealgate moved this deal back';

/** The details of a 409 for an approval over the allocation: what the reviewer chooses from. */
const capacityRefusal = z.object({
  allocationWeeks: z.number(),
  usedWeeks: z.number(),
  remainingWeeks: z.number(),
  requestedWeeks: z.number(),
  candidates: z.array(z.object({ reviewId: z.number(), summary: z.string(), weeks: z.number() })),
});

export interface DemoOptions {
  write?: Write;
  /** Runs once the stack is up, before the story: a test breaks something here to see the demo notice. */
  beforeStory?: (stack: Stack) => void;
}

export interface DemoRun {
  /** Every step behaved as told. */
  ok: boolean;
  /** What went wrong, naming the step; null when ok. */
  failure: StepFailure | null;
  world: DemoWorld;
  checksPassed: number;
}

/** What the dashboard must count, recorded as the story goes (the story starts a day back, possibly in the previous quarter). */
interface Ledger {
  decisions: { outcome: DecisionOutcome; at: number }[];
  violations: number[];
}

export interface Story {
  world: DemoWorld;
  say: Narrator;
  ledger: Ledger;
}

/** Starts the stack and plays the story. The caller stops `run.world` (or keeps it running). */
export async function runDemo(options: DemoOptions = {}): Promise<DemoRun> {
  const write = options.write ?? ((text: string) => void process.stdout.write(text));
  const say = new Narrator(write);
  const world = await startDemoWorld(say);
  options.beforeStory?.(world.stack);
  const story: Story = { world, say, ledger: { decisions: [], violations: [] } };
  try {
    intro(story);
    const acme = await stepOneMoveBlocked(story);
    const acmeReview = await stepTwoRequestReview(story, acme);
    await stepThreeYesBut(story, acme, acmeReview);
    await stepFourNoUntilRemoved(story);
    const globex = await stepBreakGlassOpened(story);
    await stepFiveOverdue(story);
    await stepBreakGlassExpired(story, globex);
    const hooli = await stepSixCapacity(story, acme);
    await stepSevenDelivery(story, { dealId: acme, reviewId: acmeReview }, hooli);
    await stepCapacitySalesCanSee(story, acme);
    await stepRevenueGoal(story, hooli.dealId);
    await stepTriad(story, GATE_STAGE);
    await stepAbsenceDelegated(story);
    await stepPeopleByName(world, say, acme);
    await finaleDashboard(story);
    write(`\nEvery step behaved as told (${say.checksPassed} checks passed).\n`);
    return { ok: true, failure: null, world, checksPassed: say.checksPassed };
  } catch (error) {
    const failure = error instanceof StepFailure ? error : new StepFailure(say.stepName, error instanceof Error ? error.message : String(error));
    write(`\n✗ ${failure.message}\n`);
    return { ok: false, failure, world, checksPassed: say.checksPassed };
  }
}

function intro({ world, say }: Story): void {
  say.section('Dealgate demo');
  say.say(
    [
      'Dealgate stops HubSpot deals that promise the customer custom engineering work from closing',
      'before engineering has said yes. A local HubSpot simulator plays HubSpot; the service runs as',
      'in production (real HubSpot client, webhooks, SQLite in a temp file, background workers).',
      `HubSpot simulator: ${world.stack.sim.url} (portal ${world.portalId})`,
      `Dealgate service:  ${world.stack.url}`,
      `Rules: a deal with a commitment and an amount of ${THRESHOLD.toLocaleString('en-US')} or more needs a yes from engineering`,
      `before it moves past "${GATE_STAGE_LABEL}"; reviews are due within ${SLA_HOURS} h.`,
      `People: ${whoIsWho()}.`,
      `The story starts ${SLA_HOURS + 1} h in the past; in step 6 the clock jumps to now.`,
    ].join('\n'),
  );
}

export function seedGatedDeal(world: DemoWorld, name: string, amount: number, summary: string, effortWeeks: number): string {
  return world.stack.sim.seedDeal({
    properties: {
      dealname: name,
      dealstage: GATE_STAGE,
      pipeline: 'default',
      amount: String(amount),
      hubspot_owner_id: people.rep.ownerId,
      dealgate_commitment: 'true',
      dealgate_commitment_summary: summary,
      dealgate_effort_weeks: String(effortWeeks),
    },
    userId: Number(people.rep.userId),
  }).id;
}

/** A rep's move past the gate that Dealgate must undo, with a note saying why. */
async function expectMoveReverted(story: Story, dealId: string): Promise<void> {
  const { world, say } = story;
  const notesBefore = world.notesOf(dealId, REVERT_NOTE).length;
  story.ledger.violations.push(world.clock.now());
  await world.moveAs('rep', dealId, WON);
  const history = world.stack.sim.dealHistory(dealId, 'dealstage').map((h) => h.value);
  say.expectEqual(`HubSpot's stage history (newest first): ${WON} by user ${people.rep.userId}, then back`, history.slice(0, 2), [GATE_STAGE, WON]);
  say.expectEqual(`HubSpot: the deal is back in ${GATE_STAGE_LABEL}`, world.stageOf(dealId), GATE_STAGE);
  const notes = world.notesOf(dealId, REVERT_NOTE);
  say.expectEqual('HubSpot: one new note on the deal explains why', notes.length, notesBefore + 1);
  say.show('The note in HubSpot:', noteText(notes[0]?.properties.hs_note_body));
}

async function expectMoveStays(story: Story, dealId: string): Promise<void> {
  const { world, say } = story;
  const notesBefore = world.notesOf(dealId, REVERT_NOTE).length;
  await world.moveAs('rep', dealId, WON);
  say.expectEqual('HubSpot: the deal stays in Closed Won', world.stageOf(dealId), WON);
  say.expectEqual('HubSpot: no new "moved back" note', world.notesOf(dealId, REVERT_NOTE).length, notesBefore);
}

async function decideAs(story: Story, reviewId: number, body: Record<string, unknown>): Promise<GateResponse> {
  const { world, say } = story;
  const answered = await world.call<GateResponse>('reviewer', 'POST', `/reviews/${reviewId}/decision`, body);
  say.expectEqual(`POST /api/v1/reviews/${reviewId}/decision as the reviewer answers 200`, answered.status, 200);
  const outcome = answered.json.review?.decision?.outcome;
  if (outcome !== undefined) story.ledger.decisions.push({ outcome, at: world.clock.now() });
  await world.stack.settle();
  return answered.json;
}

async function requestAs(story: Story, dealId: string, summary: string, effortWeeks: number): Promise<GateResponse> {
  const { world, say } = story;
  const requested = await world.call<GateResponse>('rep', 'POST', `/deals/${dealId}/reviews`, { summary, effortWeeks });
  say.expectEqual(`POST /api/v1/deals/${dealId}/reviews as the rep answers 201`, requested.status, 201);
  say.expectEqual('the review is pending', requested.json.review?.status, 'pending');
  await world.stack.settle();
  return requested.json;
}

function reviewIdOf(say: Narrator, gate: GateResponse): number {
  const id = gate.review?.id;
  say.check('the answer carries the review', id !== undefined);
  return id ?? 0;
}

// ---- the steps --------------------------------------------------------------------------------

async function stepOneMoveBlocked(story: Story): Promise<string> {
  const { world, say } = story;
  say.step('A rep moves a deal with a custom commitment to Closed Won; Dealgate moves it back');
  const acme = seedGatedDeal(world, 'Acme: platform rollout', 80_000, 'SAML SSO with the customer Okta tenant', 3);
  say.say(
    `Deal ${acme} "Acme: platform rollout" (80,000) sits in ${GATE_STAGE_LABEL} with a commitment ticked:\n` +
      `"SAML SSO with the customer Okta tenant", 3 engineer-weeks. Nobody in engineering has said yes.\n` +
      `${people.rep.name} drags it to Closed Won in HubSpot.`,
  );
  await expectMoveReverted(story, acme);
  say.expectEqual('HubSpot: dealgate_status is "required"', world.propertyOf(acme, 'dealgate_status'), 'required');
  const gate = await world.gate('rep', acme);
  say.expectEqual('the API: review required, the deal may not advance', [gate.gate.status, gate.gate.mayAdvance], ['required', false]);
  say.check('the API: the blocked move is in the deal history', gate.history.some((h) => h.kind === 'violation' && h.actor === people.rep.userId));
  world.showCard('rep', gate);
  return acme;
}

async function stepTwoRequestReview(story: Story, acme: string): Promise<number> {
  const { world, say } = story;
  say.step('The rep requests a review from the card');
  say.say(`${people.rep.name} fills in the card's form and presses "Request review".`);
  const gate = await requestAs(story, acme, 'SAML SSO with the customer Okta tenant', 3);
  const reviewId = reviewIdOf(say, gate);
  const tasks = world.stack.sim.tasksForDeal(acme).map((t) => t.properties);
  say.check(
    `HubSpot: a task for the reviewer (owner ${people.reviewer.ownerId}) due in ${SLA_HOURS} h`,
    tasks.length === 1 && tasks[0]?.hubspot_owner_id === people.reviewer.ownerId && tasks[0]?.hs_timestamp === gate.review?.dueAt,
    JSON.stringify(tasks.map((t) => ({ owner: t.hubspot_owner_id, due: t.hs_timestamp }))),
  );
  say.say(`Task in HubSpot: "${tasks[0]?.hs_task_subject}", due ${tasks[0]?.hs_timestamp}`);
  say.expectEqual('HubSpot: dealgate_status is "pending"', world.propertyOf(acme, 'dealgate_status'), 'pending');
  world.showCard('rep', gate);
  return reviewId;
}

async function stepThreeYesBut(story: Story, acme: string, reviewId: number): Promise<void> {
  const { world, say } = story;
  say.step('Engineering answers "yes, but" (+2 weeks, a tradeoff); the deal moves on');
  say.say(`${people.reviewer.name} opens the card and answers: yes, but it takes 2 more weeks and Azure AD waits.`);
  const before = await world.gate('reviewer', acme);
  say.check('the reviewer sees the answer form', before.permissions.canDecide);
  const answered = await decideAs(story, reviewId, {
    outcome: 'yes_but',
    extraWeeks: 2,
    tradeoff: 'Okta only; Azure AD support moves to next quarter',
    note: 'Doable with the identity team',
  });
  say.expectEqual('the API: approved with conditions, the deal may advance', [answered.gate.status, answered.gate.mayAdvance], ['approved_with_conditions', true]);
  say.expectEqual('HubSpot: dealgate_status is "approved_with_conditions"', world.propertyOf(acme, 'dealgate_status'), 'approved_with_conditions');
  say.check('HubSpot: the conditions are written on the deal', (world.propertyOf(acme, 'dealgate_conditions') ?? '').includes('Azure AD'), world.propertyOf(acme, 'dealgate_conditions'));
  const note = world.notesOf(acme, `technical review #${reviewId}: Yes, but`);
  say.expectEqual('HubSpot: a note records the answer', note.length, 1);
  say.show('The note in HubSpot:', noteText(note[0]?.properties.hs_note_body));
  world.showCard('reviewer', answered);
  say.say(`${people.rep.name} moves the deal to Closed Won again.`);
  await expectMoveStays(story, acme);
}

async function stepFourNoUntilRemoved(story: Story): Promise<void> {
  const { world, say } = story;
  say.step('A second deal gets a no and stays blocked until the commitment is removed');
  const globex = seedGatedDeal(world, 'Globex: data platform', 120_000, 'On-premises deployment in the customer data centre', 12);
  say.say(`Deal ${globex} "Globex: data platform" (120,000) promises an on-premises deployment (12 engineer-weeks).`);
  const requested = await requestAs(story, globex, 'On-premises deployment in the customer data centre', 12);
  const reviewId = reviewIdOf(say, requested);
  say.say(`${people.reviewer.name} answers no.`);
  const answered = await decideAs(story, reviewId, { outcome: 'no', note: 'We have no on-premises build and none on the roadmap' });
  say.expectEqual('the API: rejected, the deal may not advance', [answered.gate.status, answered.gate.mayAdvance], ['rejected', false]);
  say.expectEqual('HubSpot: dealgate_status is "rejected"', world.propertyOf(globex, 'dealgate_status'), 'rejected');
  say.say(`${people.rep.name} tries Closed Won anyway.`);
  await expectMoveReverted(story, globex);
  world.showCard('rep', await world.gate('rep', globex));

  say.say(`${people.rep.name} renegotiates: the customer takes the cloud edition, so the commitment is unticked in HubSpot.`);
  await world.editAs('rep', globex, { dealgate_commitment: 'false' });
  const after = await world.gate('rep', globex);
  say.expectEqual('the API: no review required any more, the deal may advance', [after.gate.status, after.gate.mayAdvance], ['not_required', true]);
  say.expectEqual('HubSpot: dealgate_status is "not_required"', world.propertyOf(globex, 'dealgate_status'), 'not_required');
  say.say(`${people.rep.name} moves it to Closed Won.`);
  await expectMoveStays(story, globex);
  world.showCard('rep', await world.gate('rep', globex));
}

async function stepFiveOverdue(story: Story): Promise<void> {
  const { world, say } = story;
  say.step('An unanswered review goes overdue and escalates');
  const initech = seedGatedDeal(world, 'Initech: reporting suite', 95_000, 'Custom quarterly revenue report with the customer fiscal calendar', 4);
  say.say(`Deal ${initech} "Initech: reporting suite" (95,000): the rep requests a review; nobody answers.`);
  const requested = await requestAs(story, initech, 'Custom quarterly revenue report with the customer fiscal calendar', 4);
  const reviewId = reviewIdOf(say, requested);
  say.expectEqual('HubSpot: one task, for the reviewer', world.stack.sim.tasksForDeal(initech).map((t) => t.properties.hubspot_owner_id), [people.reviewer.ownerId]);

  const jumped = world.clock.catchUp();
  say.say(`The clock jumps ${(jumped / HOUR_MS).toFixed(0)} h ahead (no real waiting): the ${SLA_HOURS} h SLA has passed.`);
  await waitUntil(
    async () => {
      const review = (await world.call<GateResponse>('rep', 'GET', `/deals/${initech}/gate`)).json.review;
      return review?.status === 'overdue' && review.escalatedAt !== null;
    },
    10_000,
    `review #${reviewId} to be escalated`,
  );
  await world.stack.settle();
  const gate = await world.gate('rep', initech);
  say.expectEqual('the API: the review is overdue and escalated', [gate.review?.status, gate.review?.escalatedAt !== null, gate.sla?.overdue], ['overdue', true, true]);
  const escalation = world.stack.sim.tasksForDeal(initech).filter((t) => t.properties.hubspot_owner_id === people.escalation.ownerId);
  say.check(
    `HubSpot: an escalation task for ${people.escalation.name}`,
    escalation.length === 1 && (escalation[0]?.properties.hs_task_subject ?? '').includes(`Overdue technical review #${reviewId}`),
    JSON.stringify(escalation.map((t) => t.properties.hs_task_subject)),
  );
  const overdue = world.notesOf(initech, 'is overdue');
  say.check('HubSpot: a note says the review is overdue and escalated', overdue.length === 1 && (overdue[0]?.properties.hs_note_body ?? '').includes(`escalated to ${people.escalation.fullName}`));
  say.show('The note in HubSpot:', noteText(overdue[0]?.properties.hs_note_body));
  say.expectEqual('HubSpot: dealgate_status is "overdue"', world.propertyOf(initech, 'dealgate_status'), 'overdue');
  world.showCard('rep', gate);
}

/** A deal and its review. */
interface Reviewed {
  dealId: string;
  reviewId: number;
}

async function stepSixCapacity(story: Story, acme: string): Promise<Reviewed> {
  const { world, say } = story;
  say.step('The capacity ledger fills; a new approval must deprioritize an older one');
  const current = await world.call<SettingsResponse>('admin', 'GET', '/settings');
  say.expectEqual('GET /api/v1/settings as the admin answers 200', current.status, 200);
  const capacity = { engineerWeeksPerQuarter: 100, commitmentShare: 0.1, maintenanceShare: 0.2 };
  say.say(`${people.admin.name} sets capacity in the settings page: 100 engineer-weeks a quarter, 10% for customer commitments = 10 weeks (20% kept for maintenance).`);
  const saved = await world.call<SettingsResponse>('admin', 'PUT', '/settings', { ...current.json.settings, capacity });
  say.expectEqual('PUT /api/v1/settings as the admin answers 200 with the capacity', [saved.status, saved.json.settings?.capacity], [200, capacity]);

  const ledger = (await world.gate('reviewer', acme)).capacity;
  say.check('the card shows the quarter allocation of 10 weeks', ledger?.allocationWeeks === 10, JSON.stringify(ledger));
  say.say(`Already used this quarter: ${ledger?.usedWeeks} weeks (${ledger?.commitments.map((c) => `#${c.reviewId} ${c.summary}`).join('; ') || 'nothing'}).`);
  // What earlier steps approved in this quarter uses part of it; the next deal fills all but one week.
  const fill = (ledger?.remainingWeeks ?? 0) - 1;
  say.check('at least 2 weeks remain to fill', fill >= 1, `${ledger?.remainingWeeks} remain`);

  const umbrella = seedGatedDeal(world, 'Umbrella: audit trail', 70_000, 'Audit log export to the customer SIEM', fill);
  say.say(`Deal ${umbrella} "Umbrella: audit trail" (70,000) asks for ${fill} weeks of work; ${people.reviewer.name} says yes.`);
  const umbrellaReview = reviewIdOf(say, await requestAs(story, umbrella, 'Audit log export to the customer SIEM', fill));
  const approved = await decideAs(story, umbrellaReview, { outcome: 'yes' });
  say.expectEqual('the ledger: 1 week remains', approved.capacity?.remainingWeeks, 1);

  const hooli = seedGatedDeal(world, 'Hooli: EU data residency', 150_000, 'EU-only data residency', 3);
  say.say(`Deal ${hooli} "Hooli: EU data residency" (150,000) needs 3 weeks. ${people.reviewer.name} says yes...`);
  const hooliReview = reviewIdOf(say, await requestAs(story, hooli, 'EU-only data residency', 3));
  const refused = await world.call<ApiErrorBody>('reviewer', 'POST', `/reviews/${hooliReview}/decision`, { outcome: 'yes' });
  say.expectEqual('the API refuses: 409 conflict', [refused.status, refused.json.error?.code], [409, 'conflict']);
  const details = capacityRefusal.safeParse(refused.json.error?.details);
  say.check('the refusal details the ledger', details.success, details.error?.message);
  const { allocationWeeks, remainingWeeks, requestedWeeks, candidates } = details.data ?? { candidates: [] };
  say.expectEqual('the refusal shows the allocation', [allocationWeeks, remainingWeeks, requestedWeeks], [10, 1, 3]);
  say.check(`the refusal offers review #${umbrellaReview} (Umbrella) to deprioritize`, candidates.some((c) => c.reviewId === umbrellaReview));
  say.show(
    'What the reviewer is told (409):',
    `${refused.json.error?.message}\nCandidates: ${candidates.map((c) => `#${c.reviewId} ${c.summary} (${c.weeks} weeks)`).join('; ')}`,
  );
  say.expectEqual('HubSpot: nothing written for the refused approval (status still "pending")', world.propertyOf(hooli, 'dealgate_status'), 'pending');

  say.say(`${people.reviewer.name} approves again, naming review #${umbrellaReview} (Umbrella) to deprioritize.`);
  const chosen = await decideAs(story, hooliReview, { outcome: 'yes', deprioritizeReviewId: umbrellaReview });
  say.expectEqual('the API: approved, Umbrella deprioritized', [chosen.gate.status, chosen.review?.decision?.deprioritizedReviewId], ['approved', umbrellaReview]);
  say.check('the ledger: Hooli is in, Umbrella is out', chosen.capacity?.commitments.some((c) => c.reviewId === hooliReview) === true && !chosen.capacity.commitments.some((c) => c.reviewId === umbrellaReview));
  const umbrellaNote = world.notesOf(umbrella, 'was deprioritized');
  say.expectEqual('HubSpot: a note on the Umbrella deal tells its rep', umbrellaNote.length, 1);
  say.show('The note in HubSpot:', noteText(umbrellaNote[0]?.properties.hs_note_body));
  world.showCard('reviewer', chosen);
  const umbrellaGate = await world.gate('rep', umbrella);
  say.expectEqual("the API: Umbrella's card says it was deprioritized for Hooli", umbrellaGate.review?.deprioritized?.forReviewId, hooliReview);
  say.expectEqual("HubSpot: Umbrella's dealgate_delivery_status is \"deprioritized\"", world.propertyOf(umbrella, 'dealgate_delivery_status'), 'deprioritized');
  world.showCard('rep', umbrellaGate);
  return { dealId: hooli, reviewId: hooliReview };
}

const DAY_MS = 24 * HOUR_MS;

async function updateDeliveryAs(story: Story, reviewId: number, body: Record<string, unknown>): Promise<GateResponse> {
  const { world, say } = story;
  const updated = await world.call<GateResponse>('reviewer', 'POST', `/reviews/${reviewId}/delivery`, body);
  say.expectEqual(`POST /api/v1/reviews/${reviewId}/delivery as the reviewer answers 200`, updated.status, 200);
  await world.stack.settle();
  return updated.json;
}

async function stepSevenDelivery(story: Story, acme: Reviewed, hooli: Reviewed): Promise<void> {
  const { world, say } = story;
  say.step('Engineering owns what it said yes to: one delivery slips and the rep is told, one is delivered on time');
  const promise = (await world.gate('reviewer', acme.dealId)).review?.delivery;
  say.expectEqual("the API: Acme's yes-but is a planned delivery owned by the reviewer", [promise?.status, promise?.ownerUserId], ['planned', people.reviewer.userId]);
  const promised = promise?.promisedDate ?? '';
  say.expectEqual('HubSpot: dealgate_promised_date is the promised day', world.propertyOf(acme.dealId, 'dealgate_promised_date'), promised);
  const later = new Date(Date.parse(`${promised}T00:00:00Z`) + 7 * DAY_MS).toISOString().slice(0, 10);
  const reason = 'the Okta SCIM API changed; provisioning needs another week';
  say.say(`${people.reviewer.name} moves Acme's date from ${promised} to ${later}: "${reason}".`);
  const slipped = await updateDeliveryAs(story, acme.reviewId, { status: 'in_progress', promisedDate: later, reason });
  say.expectEqual('the API: the delivery slipped to the new date', [slipped.review?.delivery?.status, slipped.review?.delivery?.promisedDate], ['slipped', later]);
  say.expectEqual('HubSpot: dealgate_delivery_status is "slipped"', world.propertyOf(acme.dealId, 'dealgate_delivery_status'), 'slipped');
  const note = world.notesOf(acme.dealId, 'slipped');
  say.expectEqual('HubSpot: one note on the deal says it slipped, and why', [note.length, (note[0]?.properties.hs_note_body ?? '').includes(reason)], [1, true]);
  const tell = world.stack.sim.tasksForDeal(acme.dealId).filter((t) => (t.properties.hs_task_subject ?? '').startsWith('Tell the customer'));
  say.expectEqual(`HubSpot: the deal owner (${people.rep.name}) has a task to tell the customer`, tell.map((t) => t.properties.hubspot_owner_id), [people.rep.ownerId]);
  say.show('The task in HubSpot:', tell[0]?.properties.hs_task_subject ?? '');
  world.showCard('rep', await world.gate('rep', acme.dealId));

  say.say(`Hooli's EU data residency ships: ${people.reviewer.name} marks it delivered.`);
  const delivered = await updateDeliveryAs(story, hooli.reviewId, { status: 'delivered' });
  say.expectEqual('the API: delivered', delivered.review?.delivery?.status, 'delivered');
  const deliveredNote = world.notesOf(hooli.dealId, 'was delivered');
  say.expectEqual('HubSpot: one note says it was delivered on time', [deliveredNote.length, (deliveredNote[0]?.properties.hs_note_body ?? '').includes('on time')], [1, true]);
}

async function finaleDashboard(story: Story): Promise<void> {
  const { world, say, ledger } = story;
  say.step('The deal desk dashboard');
  const response = await world.call<DashboardResponse>('admin', 'GET', '/dashboard');
  say.expectEqual('GET /api/v1/dashboard as the admin answers 200', response.status, 200);
  const dashboard = response.json;
  const inQuarter = (at: number) => quarterOf(at) === dashboard.quarter;
  const count = (outcome: DecisionOutcome) => ledger.decisions.filter((d) => d.outcome === outcome && inQuarter(d.at)).length;
  say.expectEqual(
    `decisions this quarter: ${count('yes')} yes, ${count('yes_but')} yes-but, ${count('no')} no`,
    dashboard.decisionsThisQuarter,
    { yes: count('yes'), yes_but: count('yes_but'), no: count('no') },
  );
  say.expectEqual('the queue: the overdue Initech review, nothing else', [dashboard.overdueCount, dashboard.queue.map((q) => q.status)], [1, ['overdue']]);
  const blocked = ledger.violations.filter(inQuarter).length;
  say.expectEqual(`blocked moves this quarter: ${blocked} by ${people.rep.fullName}`, dashboard.violationsByUser.map(({ person, count }) => ({ userId: person.userId, name: person.name, count })), blocked === 0 ? [] : [{ userId: people.rep.userId, name: people.rep.fullName, count: blocked }]);
  say.expectEqual(
    "open commitments: Acme's post-sales import (planned), Acme (slipped), nothing overdue",
    [dashboard.deliveries.open.map((d) => d.status), dashboard.deliveries.overdueCount],
    [['planned', 'slipped'], 0],
  );
  say.check('the capacity used fits the allocation', dashboard.capacity !== null && dashboard.capacity.usedWeeks <= dashboard.capacity.allocationWeeks, JSON.stringify(dashboard.capacity));
  say.show(`The deal-desk home page, as ${people.admin.name} sees it:`, renderDashboardAsText(dashboard, people.admin.userId));
}
