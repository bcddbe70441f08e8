import type { DecisionBody } from '../../extensions/contract/api';
import type { GateContext } from '../../src/server/application/context';
import { decide, requestReview } from '../../src/server/application/gateService';
import { silentLogger } from '../../src/server/shared/logger';
import type { SimRecord } from '../../src/simulator';
import { sweepEvent, type SweepMode } from '../../src/server/application/sweepEvents';
import type { NewInboxEvent } from '../../src/server/storage/inboxStore';
import { startStack, type Stack, type StackOptions } from '../support/stack';

/** People of the enforcement suites (HubSpot user ids). */
export const REP = 42;
export const REVIEWER = '200';
export const ADMIN = 900;
export const ESCALATION = '300';

/**
 * For a describe block whose tests each start their own stack: registers an afterEach that stops
 * it, and returns `start(options)`, which starts one with the 50k threshold (`base`, then
 * `options`, over that) and provisions it.
 */
export function stackPerTest(base: StackOptions = {}): (options?: StackOptions) => Promise<Stack> {
  let stack: Stack | undefined;
  afterEach(async () => {
    await stack?.stop();
    stack = undefined;
  });
  return async (options = {}) => {
    stack = await startStack({ defaults: { valueThreshold: 50_000 }, ...base, ...options });
    await stack.provision();
    return stack;
  };
}

/** A deal that needs review: in the gate stage (Contract Sent), a commitment, the amount above the 50k threshold. */
export function seedGatedDeal(stack: Stack, overrides: Record<string, string> = {}): SimRecord {
  return stack.sim.seedDeal({
    properties: {
      dealname: 'Acme platform',
      dealstage: 'contractsent',
      pipeline: 'default',
      amount: '80000',
      dealgate_commitment: 'true',
      dealgate_commitment_summary: 'SAML SSO with the customer IdP',
      dealgate_effort_weeks: '3',
      ...overrides,
    },
  });
}

/** The gate's card-facing functions over the stack's store (what the card API calls). */
export function gateContext(stack: Stack): GateContext {
  return { store: stack.store, clock: stack.clock, defaults: stack.config.defaults, gateway: stack.background.gateway, logger: silentLogger() };
}

/** The rep asks for a review of the deal's commitment from the card; returns the review id. */
export async function requestReviewAsRep(stack: Stack, dealId: string, body = { summary: 'SAML SSO with the customer IdP', effortWeeks: 3 }): Promise<number> {
  await requestReview(gateContext(stack), { portalId: stack.sim.portalId, userId: String(REP) }, dealId, body);
  const review = await stack.store.reviews.latestForDeal(stack.sim.portalId, dealId);
  if (!review) throw new Error('no review was stored');
  return review.id;
}

export async function decideAsReviewer(stack: Stack, reviewId: number, body: DecisionBody): Promise<void> {
  await decide(gateContext(stack), { portalId: stack.sim.portalId, userId: REVIEWER }, reviewId, body);
}

export const stageOf = (stack: Stack, dealId: string): string | undefined => stack.sim.getDeal(dealId)?.properties.dealstage;

/** Notes Dealgate left for a blocked move. */
export const revertNotes = (stack: Stack, dealId: string) =>
  stack.sim.notesForDeal(dealId).filter((n) => (n.properties.hs_note_body ?? '').includes('Dealgate moved this deal back'));

/**
 * The inbox event a sweep stores for a deal it found, built by the sweeps' own builder (keyed by
 * the deal and its modification time in the simulator).
 */
export function sweepFound(sim: Pick<Stack['sim'], 'portalId' | 'getDeal'>, dealId: string, mode: SweepMode, startedAt?: number): NewInboxEvent {
  const lastModifiedAt = Date.parse(sim.getDeal(dealId)?.properties.hs_lastmodifieddate ?? '') || Date.now();
  return sweepEvent(sim.portalId, mode, `${mode}-1`, { id: dealId, lastModifiedAt, properties: {} }, startedAt);
}
