import { DEALGATE_PROPERTIES, DEALGATE_PROPERTY_GROUP } from '../../src/server/application/dealgateProperties';
import { waitUntil } from '../support/process';
import { startStack, type Stack, type StackOptions } from '../support/stack';
import { opsSweeps, sweepEvents } from './sweepWorld';

/**
 * Where the two sweeps meet enforcement: a deal the install backfill flagged (it sat past the gate
 * before Dealgate was installed) stays where it is until an admin enforces it, however many
 * reconciliation passes find it again because something touched it (Dealgate's own status write, a
 * change of a property no rule reads); a deal moved past the gate after the install without a
 * webhook is moved back, whichever sweep finds it first.
 */
const HOUR = 3_600_000;
const REP = 100;
const commitment = { dealgate_commitment: 'true', dealgate_commitment_summary: 'SSO', dealgate_effort_weeks: '3', amount: '80000' };

let stack: Stack | undefined;
afterEach(async () => {
  await stack?.stop();
  stack = undefined;
});

async function startAccount(options: StackOptions = {}): Promise<Stack> {
  stack = await startStack({
    defaults: { valueThreshold: 50_000 },
    startWorkers: false,
    ...options,
    background: { sweeps: true, reconcileIntervalMs: 200, ...options.background },
  });
  await stack.provision();
  return stack;
}

async function reconcilePasses(s: Stack, passes: number): Promise<void> {
  const runOf = async () => Number((await opsSweeps(s)).reconcile?.sweepId?.replace('reconcile-', '') ?? 0);
  const target = (await runOf()) + passes;
  await waitUntil(async () => (await runOf()) > target || ((await runOf()) === target && (await opsSweeps(s)).reconcile?.status === 'finished'), 20_000, `${passes} reconciliation passes`);
}

describe('the install backfill and the reconciliation together', () => {
  it('leave a deal flagged at install where it is: later passes that find it again (its status write, an unrelated edit) do not move it', async () => {
    const s = await startAccount();
    const [dealId] = s.sim.createDeals({ count: 1, stages: ['closedwon'], properties: { dealname: 'Old won deal', ...commitment }, at: Date.now() - HOUR }) as [string];
    s.background.start();
    await waitUntil(async () => (await s.store.dealFlags.listOpen(s.sim.portalId, { kind: 'backfill', limit: 10 })).length === 1, 20_000, 'the backfill flag');
    // Dealgate writes dealgate_status on the deal: HubSpot moves its hs_lastmodifieddate.
    await waitUntil(() => s.sim.getDeal(dealId)?.properties.dealgate_status === 'required', 20_000, 'the status write');
    await reconcilePasses(s, 2);
    // Someone edits a property no rule reads, and no webhook subscription covers: only a sweep sees it.
    s.sim.updateDealAsUser(dealId, { description: 'renewal talks in spring' }, { userId: REP, silent: true });
    await waitUntil(async () => (await sweepEvents(s, 'reconcile')).some((e) => e.objectId === dealId && e.status === 'done'), 20_000, 'a reconcile event for the deal');
    await reconcilePasses(s, 2);
    await s.settle();

    expect(s.sim.getDeal(dealId)?.properties.dealstage).toBe('closedwon');
    expect(await s.store.gateViolations.listForDeal(s.sim.portalId, dealId)).toEqual([]);
    expect((await s.store.dealFlags.listOpen(s.sim.portalId, { kind: 'backfill', limit: 10 })).map((f) => f.dealId)).toEqual([dealId]);
  }, 60_000);

  it('move back a deal moved past the gate without a webhook after the install began, though the backfill finds it first', async () => {
    // 50-deal pages at one search a second: the move lands while the backfill is under way.
    const s = await startAccount({ background: { sweeps: true, reconcileIntervalMs: 200, searchPageLimit: 50, searchRate: { requestsPerWindow: 1, windowMs: 1_000 } } });
    s.sim.createDeals({ count: 150, stages: ['closedwon'], properties: { dealname: 'Won {n}', ...commitment }, at: Date.now() - HOUR });
    const [dealId] = s.sim.createDeals({ count: 1, stages: ['contractsent'], properties: { dealname: 'Acme rollout', ...commitment }, at: Date.now() - HOUR }) as [string];
    s.background.start();
    await waitUntil(async () => ((await opsSweeps(s)).backfill?.checked ?? 0) >= 50, 20_000, 'the first page of the backfill');
    expect((await opsSweeps(s)).backfill?.status).toBe('running');

    // A rep moves it to Closed Won; HubSpot never delivers the webhook.
    s.sim.moveDealToStage(dealId, 'closedwon', { userId: REP, silent: true });
    await waitUntil(async () => (await opsSweeps(s)).backfill?.status === 'finished', 20_000, 'the backfill');
    // A reconciliation pass finds it too (and the deals Dealgate wrote to): still one action.
    await reconcilePasses(s, 1);
    await s.settle();

    expect((await sweepEvents(s, 'backfill')).some((e) => e.objectId === dealId)).toBe(true);
    expect(s.sim.getDeal(dealId)?.properties.dealstage).toBe('contractsent');
    expect(await s.store.gateViolations.listForDeal(s.sim.portalId, dealId)).toMatchObject([{ action: 'reverted', movedByUserId: String(REP), toStage: 'closedwon' }]);
    expect(await s.store.dealFlags.openForDeal(s.sim.portalId, dealId)).toEqual([]);
  }, 60_000);

  it('move back a deal moved past the gate without a webhook after the install but before the backfill began (it does not predate Dealgate)', async () => {
    const s = await startAccount();
    const [dealId] = s.sim.createDeals({ count: 1, stages: ['contractsent'], properties: { dealname: 'Acme rollout', ...commitment }, at: Date.now() - HOUR }) as [string];
    // Installed (first contact) already; the rep moves it before the backfill's pass starts, and no webhook comes.
    s.sim.moveDealToStage(dealId, 'closedwon', { userId: REP, silent: true });
    s.background.start();
    await waitUntil(async () => (await opsSweeps(s)).backfill?.status === 'finished', 20_000, 'the backfill');
    await s.settle();

    expect((await sweepEvents(s, 'backfill')).some((e) => e.objectId === dealId)).toBe(true);
    expect(s.sim.getDeal(dealId)?.properties.dealstage).toBe('contractsent');
    expect(await s.store.gateViolations.listForDeal(s.sim.portalId, dealId)).toMatchObject([{ action: 'reverted', movedByUserId: String(REP), toStage: 'closedwon' }]);
    expect(await s.store.dealFlags.openForDeal(s.sim.portalId, dealId)).toEqual([]);
  }, 60_000);

  it('move back a deal whose move webhook arrives after the install backfill flagged it: the webhook proves the move was watched', async () => {
    stack = await startStack({ defaults: { valueThreshold: 50_000 }, startWorkers: false, background: { sweeps: true, reconcileIntervalMs: 200 } });
    const s = stack;
    // The account had Dealgate's properties before Dealgate first met it (an earlier install).
    s.sim.seedPropertyGroup('deals', DEALGATE_PROPERTY_GROUP);
    for (const p of DEALGATE_PROPERTIES) {
      s.sim.seedProperty('deals', { name: p.name, label: p.label, type: p.type, fieldType: p.fieldType, groupName: DEALGATE_PROPERTY_GROUP.name, ...(p.options ? { options: p.options } : {}) });
    }
    const [dealId] = s.sim.createDeals({ count: 1, stages: ['contractsent'], properties: { dealname: 'Acme rollout', ...commitment }, at: Date.now() - HOUR }) as [string];
    // The move's webhook is held (HubSpot retrying it) while Dealgate meets the account and its backfill flags the deal.
    s.sim.webhooks.pause();
    s.sim.moveDealToStage(dealId, 'closedwon', { userId: REP });
    // Dealgate meets the account strictly after the move (a move in the install's millisecond counts as watched).
    await new Promise((resolve) => setTimeout(resolve, 5));
    await s.provision();
    s.background.start();
    await waitUntil(async () => (await sweepEvents(s, 'backfill')).some((e) => e.objectId === dealId && e.status === 'done'), 20_000, 'the backfill event');
    expect((await s.store.dealFlags.openForDeal(s.sim.portalId, dealId)).map((f) => f.kind)).toEqual(['backfill']);
    expect(s.sim.getDeal(dealId)?.properties.dealstage).toBe('closedwon');

    s.sim.webhooks.resume();
    s.sim.webhooks.flush();
    await s.sim.webhooks.idle(20_000);
    await s.settle();

    expect(s.sim.getDeal(dealId)?.properties.dealstage).toBe('contractsent');
    expect(await s.store.gateViolations.listForDeal(s.sim.portalId, dealId)).toMatchObject([{ action: 'reverted', movedByUserId: String(REP), toStage: 'closedwon' }]);
    expect(await s.store.dealFlags.openForDeal(s.sim.portalId, dealId)).toEqual([]);
  }, 60_000);
});
