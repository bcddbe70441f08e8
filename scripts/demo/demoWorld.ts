import type { GateResponse } from '../../extensions/contract/api';
import { renderCardAsText } from '../../extensions/text/renderText';
import type { Clock } from '../../src/server/shared/clock';
import { HOUR_MS } from '../../src/server/domain/sla';
import type { SimEngagement } from '../../src/simulator';
import { cardRequest, type CardRequest, type CardResponse } from '../../tests/support/cardClient';
import { startStack, type Stack } from '../../tests/support/stack';
import type { Narrator } from './narrator';

/**
 * The demo's world: the whole stack in one process (local HubSpot simulator + the service on a
 * temp SQLite file, wired as main() wires it, from tests/support/stack.ts), the people of the
 * story, and the card API called the way a card's `hubspot.fetch` calls it (signed, the caller in
 * the query string), so every card shown is a real answer of the service.
 */

/**
 * The people of the story (HubSpot user ids) and their HubSpot owners, so tasks land on someone.
 * `fullName` is the name HubSpot's owners list gives them, which Dealgate shows (issue 15); `name`
 * is how the narration introduces them.
 */
export const people = {
  rep: { userId: '100', fullName: 'Riley Rivera', name: 'Riley Rivera (sales rep)', ownerId: '7100', email: 'riley.rivera@example.com' },
  reviewer: { userId: '200', fullName: 'Casey Chen', name: 'Casey Chen (engineering reviewer)', ownerId: '7200', email: 'casey.chen@example.com' },
  escalation: { userId: '300', fullName: 'Morgan Moss', name: 'Morgan Moss (VP engineering, escalations)', ownerId: '7300', email: 'morgan.moss@example.com' },
  admin: { userId: '900', fullName: 'Jordan Diaz', name: 'Jordan Diaz (deal desk admin)', ownerId: '7900', email: 'jordan.diaz@example.com' },
  techLead: { userId: '400', fullName: 'Sam Singh', name: 'Sam Singh (tech lead)', ownerId: '7400', email: 'sam.singh@example.com' },
  productManager: { userId: '500', fullName: 'Avery Adams', name: 'Avery Adams (product manager)', ownerId: '7500', email: 'avery.adams@example.com' },
  marketing: { userId: '600', fullName: 'Quinn Quigley', name: 'Quinn Quigley (product marketing)', ownerId: '7600', email: 'quinn.quigley@example.com' },
} as const;
export type Person = keyof typeof people;

/** "Riley Rivera (sales rep) = user 100; ...": who is who, as the intro and the --keep help print it. */
export function whoIsWho(): string {
  return Object.values(people)
    .map((p) => `${p.name} = user ${p.userId}`)
    .join('; ');
}

export const THRESHOLD = 50_000;
export const SLA_HOURS = 24;

/**
 * Real time plus an offset that only ever moves forward. The story starts SLA_HOURS + 1 hours in
 * the past; when a review must go overdue the clock jumps to the present (no real waiting, as
 * with the ManualClock of the SLA tests), and from then on the service runs on real time, so
 * whoever pokes at it with `--keep` signs requests with their own clock.
 */
export class DemoClock implements Clock {
  private offsetMs = -(SLA_HOURS + 1) * HOUR_MS;
  now(): number {
    return Date.now() + this.offsetMs;
  }
  /** Jumps to the present; answers how far it jumped (ms). */
  catchUp(): number {
    const jumped = -this.offsetMs;
    this.offsetMs = 0;
    return jumped;
  }
}

export interface DemoWorld {
  stack: Stack;
  clock: DemoClock;
  portalId: number;
  /** Calls the card API as `who`, signed as hubspot.fetch signs. */
  call<T = unknown>(who: Person, method: CardRequest['method'], path: string, body?: unknown): Promise<CardResponse<T>>;
  /** The deal's gate as `who` sees it (checked to be a 200). */
  gate(who: Person, dealId: string): Promise<GateResponse>;
  /** Prints what the card shows `who` for this answer of the service. */
  showCard(who: Person, gate: GateResponse): void;
  /** A user in HubSpot's UI moves the deal; resolves once Dealgate has reacted (or not). */
  moveAs(who: Person, dealId: string, stage: string): Promise<void>;
  /** A user edits the deal's properties in HubSpot; resolves once Dealgate has reacted. */
  editAs(who: Person, dealId: string, properties: Record<string, string>): Promise<void>;
  stageOf(dealId: string): string | undefined;
  propertyOf(dealId: string, name: string): string | undefined;
  notesOf(dealId: string, containing: string): SimEngagement[];
  stop(): Promise<void>;
}

export async function startDemoWorld(narrator: Narrator): Promise<DemoWorld> {
  const clock = new DemoClock();
  const stack = await startStack({
    clock,
    defaults: {
      valueThreshold: THRESHOLD,
      slaHours: SLA_HOURS,
      reviewers: [people.reviewer.userId],
      admins: [people.admin.userId],
      escalationReviewer: people.escalation.userId,
    },
    simulator: {
      owners: Object.values(people).map((p) => {
        const [firstName, lastName] = p.fullName.split(' ');
        return { id: p.ownerId, userId: Number(p.userId), email: p.email, firstName, lastName };
      }),
    },
  });
  // What the first webhook of a new account would do: Dealgate's deal properties and the pipelines.
  await stack.provision();
  const portalId = stack.sim.portalId;

  const call = <T,>(who: Person, method: CardRequest['method'], path: string, body?: unknown) =>
    cardRequest<T>(stack.url, stack.clientSecret, { method, path: `/api/v1${path}`, userId: people[who].userId, portalId, body, timestamp: clock.now() });

  return {
    stack,
    clock,
    portalId,
    call,
    async gate(who, dealId) {
      const response = await call<GateResponse>(who, 'GET', `/deals/${dealId}/gate`);
      narrator.check(`the card API answers ${people[who].name} (GET /api/v1/deals/${dealId}/gate, signed)`, response.status === 200, `status ${response.status}`);
      return response.json;
    },
    showCard(who, gate) {
      narrator.show(`The Dealgate card, as ${people[who].name} sees it:`, renderCardAsText(gate, people[who].userId));
    },
    async moveAs(who, dealId, stage) {
      stack.sim.moveDealToStage(dealId, stage, { userId: Number(people[who].userId) });
      await stack.settle();
    },
    async editAs(who, dealId, properties) {
      stack.sim.updateDealAsUser(dealId, properties, { userId: Number(people[who].userId) });
      await stack.settle();
    },
    stageOf: (dealId) => stack.sim.getDeal(dealId)?.properties.dealstage,
    propertyOf: (dealId, name) => stack.sim.getDeal(dealId)?.properties[name],
    notesOf: (dealId, containing) => stack.sim.notesForDeal(dealId).filter((n) => (n.properties.hs_note_body ?? '').includes(containing)),
    stop: () => stack.stop(),
  };
}
