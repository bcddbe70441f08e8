import { waitUntil } from '../support/process';
import { startStack, type Stack, type StackOptions } from '../support/stack';
import { opsSweeps, searches, sweepEvents } from './sweepWorld';

/**
 * The reconciliation: every interval, each account's deals modified since its last pass (less an
 * overlap) become 'reconcile' inbox events, so a change HubSpot never sent a webhook for (a
 * delivery it gave up on, an outage, a subscription switched off) still reaches enforcement, once.
 */
const REP = 100;
const TEN_MINUTES = 10 * 60_000;

let stack: Stack | undefined;
afterEach(async () => {
  await stack?.stop();
  stack = undefined;
});

async function startAccount(options: StackOptions = {}): Promise<Stack> {
  stack = await startStack({
    defaults: { valueThreshold: 50_000 },
    ...options,
    background: { sweeps: true, reconcileIntervalMs: 200, ...options.background },
  });
  await stack.provision();
  return stack;
}

/** A deal created silently ten minutes ago: older than any pass's overlap, so no sweep has reason to find it yet. */
function existingDeal(s: Stack, stage: string, properties: Record<string, string> = {}): string {
  const [id] = s.sim.createDeals({ count: 1, stages: [stage], properties: { dealname: 'Acme rollout', amount: '80000', ...properties }, at: Date.now() - TEN_MINUTES });
  return id as string;
}

/** Waits for `passes` more reconciliation passes of the account to finish. */
async function reconcilePasses(s: Stack, passes: number): Promise<void> {
  const runOf = async () => Number((await opsSweeps(s)).reconcile?.sweepId?.replace('reconcile-', '') ?? 0);
  const target = (await runOf()) + passes;
  await waitUntil(async () => (await runOf()) > target || ((await runOf()) === target && (await opsSweeps(s)).reconcile?.status === 'finished'), 20_000, `${passes} reconciliation passes`);
}

const lastModifiedOf = (s: Stack, dealId: string): number => Date.parse(s.sim.getDeal(dealId)?.properties.hs_lastmodifieddate ?? '');

describe('the reconciliation', () => {
  it('picks up a deal changed without a webhook and inserts exactly one reconcile event for it', async () => {
    const s = await startAccount();
    const dealId = existingDeal(s, 'presentationscheduled');
    await reconcilePasses(s, 1);
    expect((await sweepEvents(s)).filter((e) => e.objectId === dealId)).toEqual([]);

    const webhooksBefore = s.sim.webhooks.events().length;
    s.sim.updateDealAsUser(dealId, { amount: '95000' }, { userId: REP, silent: true });
    expect(s.sim.webhooks.events()).toHaveLength(webhooksBefore);
    await waitUntil(async () => (await sweepEvents(s, 'reconcile')).some((e) => e.objectId === dealId), 20_000, 'the reconcile event');
    // Later passes see the same change again (their overlap) and store nothing new.
    await reconcilePasses(s, 3);

    const events = (await sweepEvents(s)).filter((e) => e.objectId === dealId);
    expect(events).toHaveLength(1);
    const [event] = events;
    expect(event).toMatchObject({
      eventKey: `sweep:${dealId}:${lastModifiedOf(s, dealId)}`,
      subscriptionType: 'dealgate.sweep',
      propertyName: null,
      propertyValue: 'reconcile',
      changeSource: 'DEALGATE_SWEEP',
      occurredAt: lastModifiedOf(s, dealId),
    });
    expect(event?.sweep).toMatchObject({ mode: 'reconcile', portalId: s.sim.portalId, objectId: dealId, sweepId: expect.stringMatching(/^reconcile-\d+$/) });
    await waitUntil(async () => (await s.store.inbox.get(event!.id))?.status === 'done', 10_000, 'the inbox worker to apply it');
    // Dealgate's copy of the deal follows the change nobody told it about.
    expect((await s.store.deals.get(s.sim.portalId, dealId))?.amount).toBe(95_000);

    // Its watermark has moved past the change (every 200 ms here, so a pass may be running).
    const { reconcile } = await opsSweeps(s);
    expect(reconcile?.lastError).toBeNull();
    expect(Date.parse(reconcile?.watermark ?? '')).toBeGreaterThan(lastModifiedOf(s, dealId));
  }, 60_000);

  it('catches a move past the gate HubSpot never sent: enforcement moves the deal back through the sweep’s event', async () => {
    const s = await startAccount();
    const dealId = existingDeal(s, 'contractsent', { dealgate_commitment: 'true', dealgate_commitment_summary: 'SSO', dealgate_effort_weeks: '3' });
    await reconcilePasses(s, 1);

    s.sim.moveDealToStage(dealId, 'closedwon', { userId: REP, silent: true });
    await waitUntil(() => s.sim.getDeal(dealId)?.properties.dealstage === 'contractsent', 20_000, 'the deal to be moved back');
    await reconcilePasses(s, 2);
    await s.settle();

    expect(s.sim.getDeal(dealId)?.properties.dealstage).toBe('contractsent');
    expect(await s.store.gateViolations.listForDeal(s.sim.portalId, dealId)).toHaveLength(1);
    expect(s.sim.webhooks.events().filter((e) => String(e.objectId) === dealId && e.changeSource !== 'INTEGRATION')).toEqual([]);
  }, 60_000);

  it('runs once per account per interval, whatever the number of rounds', async () => {
    const s = await startAccount({ background: { sweeps: true, reconcileIntervalMs: 60_000 } });
    await waitUntil(async () => (await opsSweeps(s)).backfill?.status === 'finished', 10_000, 'the backfill');
    const calls = searches(s).length;
    for (let round = 0; round < 5; round += 1) expect(await s.background.sweeps.sweepDue()).toBe(0);
    expect(searches(s)).toHaveLength(calls);
    const { reconcile } = await opsSweeps(s);
    // The first pass is an interval after the install.
    expect(reconcile).toMatchObject({ status: 'finished', sweepId: null });
    expect(Date.parse(reconcile?.nextAt ?? '')).toBeGreaterThan(Date.now() + 50_000);
  }, 30_000);

  it('is off with DEALGATE_RECONCILE_SECONDS=0: only the install backfill searches', async () => {
    stack = await startStack({ defaults: { valueThreshold: 50_000 }, env: { DEALGATE_RECONCILE_SECONDS: '0' }, background: { sweeps: true } });
    const s = stack;
    await s.provision();
    const dealId = existingDeal(s, 'presentationscheduled');
    await waitUntil(async () => (await opsSweeps(s)).backfill?.status === 'finished', 10_000, 'the backfill');
    s.sim.updateDealAsUser(dealId, { amount: '95000' }, { userId: REP, silent: true });
    const calls = searches(s).length;
    for (let round = 0; round < 5; round += 1) await s.background.sweeps.sweepDue();
    expect(searches(s)).toHaveLength(calls);
    expect(await sweepEvents(s, 'reconcile')).toEqual([]);
    expect((await opsSweeps(s)).reconcileSeconds).toBe(0);
  }, 30_000);

  it('takes a shorter interval at the next start: the next pass is due an interval after the last one, not when the old interval planned it', async () => {
    // DEALGATE_RECONCILE_SECONDS was a day; an operator lowers it and restarts the service.
    const options: StackOptions = { defaults: { valueThreshold: 50_000 }, background: { sweeps: true, reconcileIntervalMs: 24 * 60 * 60_000 } };
    stack = await startStack(options);
    const s = stack;
    await s.provision();
    const dealId = existingDeal(s, 'presentationscheduled');
    await waitUntil(async () => (await opsSweeps(s)).backfill?.status === 'finished', 10_000, 'the backfill');
    expect(Date.parse((await opsSweeps(s)).reconcile?.nextAt ?? '')).toBeGreaterThan(Date.now() + 23 * 60 * 60_000);

    options.background = { ...options.background, reconcileIntervalMs: 200 };
    await s.restart();
    s.sim.updateDealAsUser(dealId, { amount: '95000' }, { userId: REP, silent: true });
    await waitUntil(async () => (await sweepEvents(s, 'reconcile')).some((e) => e.objectId === dealId), 10_000, 'a reconcile pass under the new interval');
    expect(Date.parse((await opsSweeps(s)).reconcile?.nextAt ?? '')).toBeLessThan(Date.now() + 60_000);
  }, 30_000);

  it('goes on after an outage from its watermark: every deal changed meanwhile, once', async () => {
    const s = await startAccount();
    const ids = s.sim.createDeals({ count: 450, stages: ['qualifiedtobuy'], properties: { dealname: 'Deal {n}', amount: '1000' }, at: Date.now() - TEN_MINUTES });
    await reconcilePasses(s, 1);

    // Dealgate is down while 450 deals change, none with a webhook that reaches it.
    await s.background.stop();
    for (const id of ids) s.sim.updateDealAsUser(id, { amount: '2000' }, { userId: REP, silent: true });
    s.background.start();
    await waitUntil(async () => (await sweepEvents(s, 'reconcile')).length >= ids.length, 20_000, 'the changed deals');
    await reconcilePasses(s, 2);

    const events = await sweepEvents(s, 'reconcile');
    expect(events.map((e) => e.objectId).sort()).toEqual([...ids].sort());
  }, 60_000);
});

describe('the seam with enforcement', () => {
  it('stores no sweep event a webhook makes up: only deal.* events of a batch become inbox rows', async () => {
    const s = await startAccount({ background: { sweeps: false } });
    const forged = [
      { portalId: s.sim.portalId, objectId: 123, occurredAt: Date.now(), subscriptionType: 'dealgate.sweep', propertyValue: 'reconcile', changeSource: 'DEALGATE_SWEEP' },
    ];
    const response = await s.postWebhook(JSON.stringify(forged));
    expect(response.status).toBe(200);
    await s.settle();
    expect(await sweepEvents(s)).toEqual([]);
  });
});
