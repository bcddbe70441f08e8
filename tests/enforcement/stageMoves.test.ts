import { startStack, type Stack } from '../support/stack';

/**
 * The gate enforced end to end: the simulator moves deals as HubSpot users, admins and workflows
 * would; its webhooks reach the real service; the service reverts what the gate does not allow.
 */
const REP = 42;
const ADMIN = 900;

describe('moves past the gate', () => {
  let stack: Stack;

  beforeEach(async () => {
    stack = await startStack({ defaults: { valueThreshold: 50_000, reviewers: ['200'], admins: [String(ADMIN)] } });
    await stack.provision();
  });
  afterEach(async () => {
    await stack.stop();
  });

  function seedGatedDeal(overrides: Record<string, string> = {}) {
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

  const stageOf = (dealId: string) => stack.sim.getDeal(dealId)?.properties.dealstage;
  const dealgateNotes = (dealId: string) =>
    stack.sim.notesForDeal(dealId).filter((n) => (n.properties.hs_note_body ?? '').includes('Dealgate moved this deal back'));

  it('moves a gated deal a user pushed to Closed Won back to the stage it came from, with a note, a violation and the status', async () => {
    const deal = seedGatedDeal();
    const before = Date.now();
    stack.sim.moveDealToStage(deal.id, 'closedwon', { userId: REP });
    await stack.settle();

    expect(stageOf(deal.id)).toBe('contractsent');
    expect(stack.sim.getDeal(deal.id)?.properties.dealgate_status).toBe('required');
    const notes = dealgateNotes(deal.id);
    expect(notes).toHaveLength(1);
    const body = notes[0]?.properties.hs_note_body ?? '';
    expect(body).toContain('back to Contract Sent');
    expect(body).toContain('Closed Won by user 42');
    expect(body).toContain('Request a technical review from the Dealgate card');

    const violations = stack.store.gateViolations.listForDeal(stack.sim.portalId, deal.id);
    expect(violations).toEqual([
      expect.objectContaining({ movedByUserId: String(REP), fromStage: 'contractsent', toStage: 'closedwon', sourceType: 'CRM_UI' }),
    ]);
    expect(violations[0]?.occurredAt).toBeGreaterThanOrEqual(before - 1);
    // The history shows the user's move, then Dealgate's own (as the app) back.
    const history = stack.sim.dealHistory(deal.id, 'dealstage');
    expect(history.slice(0, 2).map((h) => [h.value, h.sourceType])).toEqual([
      ['contractsent', 'INTEGRATION'],
      ['closedwon', 'CRM_UI'],
    ]);
  });
});
