import type { GateResponse, SettingsResponse } from '../../extensions/contract/api';
import { ManualClock } from '../../src/server/shared/clock';
import { HOUR_MS } from '../../src/server/domain/sla';
import { cardRequest } from '../support/cardClient';
import { instancesPerTest, startInstance, type Instance } from '../support/instance';
import { waitUntil } from '../support/process';
import { startStack, type Stack, type StackOptions } from '../support/stack';
import { ADMIN, decideAsReviewer, ESCALATION, REP, REVIEWER, requestReviewAsRep, seedGatedDeal } from './world';

/**
 * Two instances on one database (issue 13): the SLA escalation runs on the holder of the `sla`
 * lease only, is recorded once even when two instances escalate at the same moment, and passes to
 * the other instance at a clean stop at once and after a death once the lease has expired. What
 * one instance changes (settings, the pipelines it read) the other sees.
 */
const DAY_MS = 24 * HOUR_MS;
const OWNERS = [
  { email: 'rev.one@example.com', userId: Number(REVIEWER), id: '7001' },
  { email: 'esc.alation@example.com', userId: Number(ESCALATION), id: '7003' },
];

const running = instancesPerTest();

/** Instance `a` (the stack's, which HubSpot's webhooks reach) with its workers running, then instance `b`. */
async function twoInstances(options: { a?: StackOptions['background']; b?: StackOptions['background']; bId?: string; bSlaOnly?: boolean } = {}): Promise<{ a: Stack; b: Instance; clock: ManualClock }> {
  const clock = new ManualClock(Date.UTC(2026, 11, 1, 9, 0, 0));
  const a = await startStack({
    clock,
    env: { DEALGATE_INSTANCE_ID: 'a' },
    defaults: { valueThreshold: 50_000, reviewers: [REVIEWER], escalationReviewer: ESCALATION, slaHours: 24, admins: [String(ADMIN)] },
    simulator: { owners: OWNERS },
    background: options.a ?? {},
  });
  running.stack = a;
  await a.provision();
  // a's first SLA round took the lease: it started first.
  await waitUntil(async () => (await a.store.workerLeases.list()).some((l) => l.name === 'sla' && l.holder === 'a'), 10_000, 'instance a to take the sla lease');
  const b = await startInstance(a, { instanceId: options.bId ?? 'b', background: options.b ?? {}, startWorkers: options.bSlaOnly !== true });
  if (options.bSlaOnly === true) b.background.sla.start();
  running.other = b;
  return { a, b, clock };
}

const escalations = async (s: Stack, dealId: string) => (await s.store.audit.listForDeal(s.sim.portalId, dealId)).filter((e) => e.action === 'review_escalated');
const overdueNotes = (s: Stack, dealId: string) => s.sim.notesForDeal(dealId).filter((n) => (n.properties.hs_note_body ?? '').includes('is overdue'));
const escalationTasks = (s: Stack, dealId: string) => s.sim.tasksForDeal(dealId).filter((t) => t.properties.hubspot_owner_id === '7003');
const slaHolder = async (s: Stack) => (await s.store.workerLeases.list()).find((l) => l.name === 'sla')?.holder;

describe('SLA escalation across instances', () => {
  it('runs on the lease holder only: the other instance escalates nothing, and the review is escalated once', async () => {
    // Rounds by hand (a one-minute interval): which instance escalates is the test's to say.
    const lease = { ttlMs: 7 * DAY_MS, standbyPollMs: 50 };
    const { a, b, clock } = await twoInstances({ a: { slaIntervalMs: 60_000, leases: lease }, b: { slaIntervalMs: 60_000, leases: lease } });
    const deal = seedGatedDeal(a);
    const reviewId = await requestReviewAsRep(a, deal.id);
    await a.settle();
    clock.advance(25 * HOUR_MS);

    expect(await b.background.sla.escalateOverdue()).toBe(0);
    expect((await a.store.reviews.get(a.sim.portalId, reviewId))?.escalatedAt).toBeNull();
    expect(await a.background.sla.escalateOverdue()).toBe(1);
    expect(await Promise.all([a.background.sla.escalateOverdue(), b.background.sla.escalateOverdue()])).toEqual([0, 0]);
    await a.settle();

    expect(await escalations(a, deal.id)).toHaveLength(1);
    expect(overdueNotes(a, deal.id)).toHaveLength(1);
    expect(escalationTasks(a, deal.id)).toHaveLength(1);
    expect(b.background.sla.lease.holding).toBe(false);
    expect(await slaHolder(a)).toBe('a');
  });

  it('records an escalation once when two instances escalate the same review at the same moment (leases overlapping at an edge)', async () => {
    // Both take themselves for the holder: the same instance id, as two instances do for the
    // moments when one's lease has run out and it has not noticed yet.
    const lease = { ttlMs: 7 * DAY_MS };
    const { a, b, clock } = await twoInstances({ a: { slaIntervalMs: 60_000, leases: lease }, b: { slaIntervalMs: 60_000, leases: lease }, bId: 'a' });
    const deals = [seedGatedDeal(a), seedGatedDeal(a, { dealname: 'Globex' }), seedGatedDeal(a, { dealname: 'Initech' })];
    for (const deal of deals) await requestReviewAsRep(a, deal.id);
    await a.settle();
    clock.advance(25 * HOUR_MS);

    const counts = await Promise.all([a.background.sla.escalateOverdue(), b.background.sla.escalateOverdue()]);
    expect(counts[0]! + counts[1]!).toBe(deals.length);
    await a.settle();
    for (const deal of deals) {
      expect(await escalations(a, deal.id)).toHaveLength(1);
      expect((await a.store.audit.listForDeal(a.sim.portalId, deal.id)).filter((e) => e.action === 'mark_overdue' || e.toStatus === 'overdue')).toHaveLength(2);
      expect(overdueNotes(a, deal.id)).toHaveLength(1);
      expect(escalationTasks(a, deal.id)).toHaveLength(1);
    }
  });

  it('passes to the other instance at once after a clean stop, and only once the lease has expired after a death', async () => {
    const lease = { ttlMs: 2 * DAY_MS, standbyPollMs: 20 };
    const { a, b, clock } = await twoInstances({ a: { leases: lease }, b: { leases: lease } });

    // A clean stop (SIGTERM) releases the lease: b takes it at its next ask, with no time passing.
    await a.background.sla.stop();
    await waitUntil(async () => (await slaHolder(a)) === 'b', 10_000, 'instance b to take the released lease');
    expect(b.background.sla.lease.holding).toBe(true);

    // b dies (SIGKILL): its lease stays until it expires, and a (running again) waits for that.
    const diedAt = clock.now();
    await b.kill();
    a.background.sla.start();
    const deal = seedGatedDeal(a);
    const reviewId = await requestReviewAsRep(a, deal.id);
    await a.settle();
    clock.advance(25 * HOUR_MS);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await a.store.reviews.get(a.sim.portalId, reviewId))?.escalatedAt).toBeNull();
    expect(await slaHolder(a)).toBe('b');
    expect(a.background.sla.lease.holding).toBe(false);

    // The lease ends: a takes over and escalates.
    clock.set(diedAt + lease.ttlMs);
    await waitUntil(async () => (await a.store.reviews.get(a.sim.portalId, reviewId))?.escalatedAt !== null, 10_000, 'instance a to escalate once b\'s lease expired');
    await a.settle();
    expect(await slaHolder(a)).toBe('a');
    expect(await escalations(a, deal.id)).toHaveLength(1);
    expect(overdueNotes(a, deal.id)).toHaveLength(1);
  });
});

describe('overdue deliveries across instances', () => {
  it('are noted by the sla lease holder only, once', async () => {
    const lease = { ttlMs: 365 * DAY_MS, standbyPollMs: 20 };
    // b runs its SLA worker only: two outboxes on one database are the outbox claims' matter, not this test's.
    const { a, b, clock } = await twoInstances({ a: { leases: lease }, b: { leases: lease }, bSlaOnly: true });
    const deal = seedGatedDeal(a);
    const reviewId = await requestReviewAsRep(a, deal.id);
    await decideAsReviewer(a, reviewId, { outcome: 'yes' });
    await a.settle();
    expect((await a.store.deliveries.get(a.sim.portalId, reviewId))?.overdueNotedAt).toBeNull();

    // A third instance, z, holds the lease: a and b are both standbys.
    // Handed to z in one transaction (from whichever of a and b holds it): the other, a standby asking every 20 ms, must not take it in between.
    const taken = await a.store.transaction(async (tx) => {
      await tx.workerLeases.release('sla', 'a');
      await tx.workerLeases.release('sla', 'b');
      return await tx.workerLeases.acquire('sla', 'z', clock.now(), clock.now() + lease.ttlMs);
    });
    expect(taken?.holder).toBe('z');
    await waitUntil(() => !a.background.sla.lease.holding, 10_000, 'instance a to see it is a standby');
    clock.advance(60 * DAY_MS);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await a.store.deliveries.get(a.sim.portalId, reviewId))?.overdueNotedAt).toBeNull();
    expect(b.background.sla.lease.holding).toBe(false);

    // z stops cleanly: a or b takes the lease and notes the missed promise, once.
    await a.store.workerLeases.release('sla', 'z');
    await waitUntil(async () => (await a.store.deliveries.get(a.sim.portalId, reviewId))?.overdueNotedAt !== null, 10_000, 'the overdue note');
    await a.settle();
    expect(['a', 'b']).toContain(await slaHolder(a));
    expect((await a.store.audit.listForDeal(a.sim.portalId, deal.id)).filter((e) => e.action === 'delivery_overdue')).toHaveLength(1);
  });
});

interface Metrics {
  instanceId: string;
  leases: Record<'sla' | 'sweeps', { holder: string; thisInstance: boolean; since: string; until: string; expired: boolean } | null>;
}

describe('what /ops/metrics says about the instances', () => {
  it('names this instance and who holds each lease until when', async () => {
    const { a, b, clock } = await twoInstances({ a: { leases: { ttlMs: 60_000 } } });
    const ofA = await a.ops<Metrics>('/ops/metrics');
    expect(ofA.status).toBe(200);
    expect(ofA.json.instanceId).toBe('a');
    expect(ofA.json.leases.sla).toEqual({ holder: 'a', thisInstance: true, since: expect.any(String), renewedAt: expect.any(String), until: new Date(clock.now() + 60_000).toISOString(), expired: false });
    // The sweeps are off in these stacks: nobody holds their lease.
    expect(ofA.json.leases.sweeps).toBeNull();
    const response = await fetch(`${b.url}/ops/metrics`, { headers: { authorization: `Bearer ${a.opsToken}` } });
    const ofB = (await response.json()) as Metrics;
    expect(ofB.instanceId).toBe('b');
    expect(ofB.leases.sla).toEqual(expect.objectContaining({ holder: 'a', thisInstance: false }));
  });
});

describe('caches across instances', () => {
  it('an instance sees the settings another instance saved, at once', async () => {
    const { a, b, clock } = await twoInstances();
    const deal = seedGatedDeal(a);
    const call = <T>(base: string, method: 'GET' | 'PUT', path: string, userId: number, body?: unknown) =>
      cardRequest<T>(base, a.clientSecret, { method, path, userId, portalId: a.sim.portalId, timestamp: clock.now(), publicBaseUrl: a.url, ...(body !== undefined ? { body } : {}) });
    const gateOnB = async () => (await call<GateResponse>(b.url, 'GET', `/api/v1/deals/${deal.id}/gate`, REP)).json.gate;
    expect((await gateOnB()).status).toBe('required');

    const before = (await call<SettingsResponse>(b.url, 'GET', '/api/v1/settings', ADMIN)).json.settings;
    const saved = await call<SettingsResponse>(a.url, 'PUT', '/api/v1/settings', ADMIN, { ...before, valueThreshold: 100_000 });
    expect(saved.status).toBe(200);

    expect((await call<SettingsResponse>(b.url, 'GET', '/api/v1/settings', ADMIN)).json.settings.valueThreshold).toBe(100_000);
    expect((await gateOnB()).status).toBe('not_required');
  });

  it('reads the pipelines from HubSpot at most once per interval between the instances, not once each', async () => {
    const interval = { pipelineRefreshIntervalMs: 60_000 };
    const { a, b, clock } = await twoInstances({ a: interval, b: interval });
    const reads = () => a.sim.requests.count('GET /crm/v3/pipelines/deals');
    clock.advance(61_000);
    const before = reads();
    expect(await a.background.provisioner.refreshPipelines(a.sim.portalId)).toBe(true);
    expect(await b.background.provisioner.refreshPipelines(a.sim.portalId)).toBe(false);
    expect(reads()).toBe(before + 1);
    clock.advance(61_000);
    expect(await b.background.provisioner.refreshPipelines(a.sim.portalId)).toBe(true);
    expect(await a.background.provisioner.refreshPipelines(a.sim.portalId)).toBe(false);
    expect(reads()).toBe(before + 2);
  });
});
