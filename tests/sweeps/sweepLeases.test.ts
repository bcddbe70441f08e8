import { instancesPerTest, startInstance, type Instance } from '../support/instance';
import { waitUntil } from '../support/process';
import { startStack, type Stack } from '../support/stack';
import { opsSweeps, searches, sweepEvents } from './sweepWorld';

/**
 * The sweeps with two instances on one database (issue 13): only the holder of the `sweeps` lease
 * searches HubSpot, and at its clean stop the other instance goes on from the stored cursor, so
 * each deal is found once and no page is searched twice.
 */
const HOUR = 3_600_000;
const PAGE = 25;
const PAST_GATE = 150;
const commitment = { dealgate_commitment: 'true', dealgate_commitment_summary: 'SSO', dealgate_effort_weeks: '3', amount: '80000' };
// 25-deal pages at one search a second: a backfill of 150 deals takes six seconds.
const background = { sweeps: true, searchPageLimit: PAGE, searchRate: { requestsPerWindow: 1, windowMs: 1_000 }, leases: { standbyPollMs: 50 } };

const running = instancesPerTest();

/** Instance `a` (the stack's) provisioned with deals that predate the install, its workers not yet started; instance `b` beside it, stopped too. */
async function twoInstances(leases: { ttlMs?: number } = {}): Promise<{ a: Stack; b: Instance; expected: string[] }> {
  const a = await startStack({ defaults: { valueThreshold: 50_000 }, startWorkers: false, env: { DEALGATE_INSTANCE_ID: 'a' }, background: { ...background, leases: { ...background.leases, ...leases } } });
  running.stack = a;
  await a.provision();
  const at = Date.now() - HOUR;
  const expected = a.sim.createDeals({ count: PAST_GATE, stages: ['closedwon'], properties: { dealname: 'Deal {n}', ...commitment }, at });
  a.sim.createDeals({ count: 50, stages: ['contractsent'], properties: { dealname: 'Deal {n} at the gate', ...commitment }, at });
  const b = await startInstance(a, { instanceId: 'b', background, startWorkers: false });
  running.other = b;
  return { a, b, expected };
}

const sweepsHolder = async (s: Stack) => (await s.store.workerLeases.list()).find((l) => l.name === 'sweeps')?.holder;

async function expectEachDealFoundOnce(a: Stack, expected: string[]): Promise<void> {
  const events = await sweepEvents(a, 'backfill');
  expect(events.map((e) => e.objectId).sort()).toEqual([...expected].sort());
  expect((await opsSweeps(a)).backfill).toMatchObject({ status: 'finished', checked: expected.length, total: expected.length });
  // One instance's worth of searches: a page each, and the empty last one at most.
  expect(searches(a).length).toBeLessThanOrEqual(PAST_GATE / PAGE + 1);
}

describe('the sweeps across instances', () => {
  it('run on the lease holder only: the other instance searches nothing', async () => {
    const { a, b, expected } = await twoInstances();
    a.background.start();
    await waitUntil(async () => (await opsSweeps(a)).backfill?.status === 'running', 10_000, 'the backfill to start on a');
    b.background.start();
    expect(await sweepsHolder(a)).toBe('a');
    // A round of b's while the backfill is due: it is a's to do.
    expect(await b.background.sweeps.sweepDue()).toBe(0);
    expect(b.background.sweeps.lease.holding).toBe(false);

    await waitUntil(async () => (await opsSweeps(a)).backfill?.status === 'finished', 30_000, 'the backfill to finish');
    await expectEachDealFoundOnce(a, expected);
    expect(await sweepsHolder(a)).toBe('a');
  }, 60_000);

  it('go on from the stored cursor on the other instance once the holder stops', async () => {
    const { a, b, expected } = await twoInstances();
    a.background.start();
    await waitUntil(async () => (await sweepsHolder(a)) === 'a', 10_000, 'instance a to take the sweeps lease');
    b.background.start();
    await waitUntil(async () => (await opsSweeps(a)).backfill!.checked >= 2 * PAGE, 30_000, 'two pages of the backfill on a');
    expect(await sweepsHolder(a)).toBe('a');

    // A clean stop (SIGTERM) of a: its sweep finishes the page in flight and releases the lease
    // (the other workers stop after); b takes it at its next ask.
    await a.background.sweeps.stop();
    const checkedByA = (await opsSweeps(a)).backfill!.checked;
    expect(checkedByA).toBeLessThan(PAST_GATE);
    await a.background.stop();
    await waitUntil(async () => (await sweepsHolder(a)) === 'b', 10_000, 'instance b to take the sweeps lease');
    await waitUntil(async () => (await opsSweeps(a)).backfill?.status === 'finished', 30_000, 'the backfill to finish on b');
    await expectEachDealFoundOnce(a, expected);
  }, 60_000);

  it('renew the lease between the pages of a long backfill, and stop before the next page once it is lost', async () => {
    // A 1.5 s lease: a page a second renews it on the way (every 0.5 s at most).
    const { a, expected } = await twoInstances({ ttlMs: 1_500 });
    a.background.start();
    await waitUntil(async () => (await opsSweeps(a)).backfill!.checked >= PAGE, 30_000, 'the first page');
    const lease = async () => (await a.store.workerLeases.list()).find((l) => l.name === 'sweeps');
    const first = (await lease())!;
    await waitUntil(async () => (await opsSweeps(a)).backfill!.checked >= 3 * PAGE, 30_000, 'the third page');
    const later = (await lease())!;
    // Still the lease of the round's start, renewed past where it would have ended.
    expect(later).toMatchObject({ holder: 'a', acquiredAt: first.acquiredAt });
    expect(later.expiresAt).toBeGreaterThan(first.expiresAt);

    // Another instance holds it now (a paused past its lease, say): a stops before its next page.
    // Handed to z in one transaction: a, renewing before each page, must not take it back in between.
    const taken = await a.store.transaction(async (tx) => {
      await tx.workerLeases.release('sweeps', 'a');
      return await tx.workerLeases.acquire('sweeps', 'z', Date.now(), Date.now() + 60 * 60_000);
    });
    expect(taken?.holder).toBe('z');
    await waitUntil(() => !a.background.sweeps.lease.holding, 10_000, 'a to notice it lost the lease');
    const sent = searches(a).length;
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    expect(searches(a).length).toBe(sent);
    const state = (await opsSweeps(a)).backfill!;
    expect(state.status).toBe('running');
    expect(state.checked).toBeLessThan(expected.length);
    expect((await lease())?.holder).toBe('z');
  }, 60_000);
});
