import { waitUntil } from '../support/process';
import type { Stack } from '../support/stack';
import { REP, revertNotes, seedGatedDeal, stackPerTest, stageOf } from './world';

/**
 * HubSpot's delivery is at-least-once and unordered: duplicates, retries of batches we did store,
 * reordering. Each must still give exactly one effect per event; a forged batch gives none.
 */
describe('webhook delivery', () => {
  const start = stackPerTest();

  async function expectOneRevert(s: Stack, dealId: string, backTo = 'contractsent') {
    expect(stageOf(s, dealId)).toBe(backTo);
    expect(await s.store.gateViolations.listForDeal(s.sim.portalId, dealId)).toHaveLength(1);
    expect(revertNotes(s, dealId)).toHaveLength(1);
    expect(s.sim.dealHistory(dealId, 'dealstage').filter((h) => h.sourceType === 'INTEGRATION')).toHaveLength(1);
  }

  it('gives one effect per event when every event is delivered twice', async () => {
    const s = await start({ simulator: { webhooks: { duplicateRate: 1 } } });
    const deals = [seedGatedDeal(s), seedGatedDeal(s), seedGatedDeal(s)];
    s.sim.moveDealsToStage(
      deals.map((d) => d.id),
      'closedwon',
      { userId: REP },
    );
    await s.settle();
    // The simulator did send duplicates; the inbox kept each event once.
    const sent = s.sim.webhooks.deliveries().flatMap((d) => d.events);
    expect(sent.length).toBeGreaterThan(new Set(sent.map((e) => e.eventId)).size);
    for (const deal of deals) await expectOneRevert(s, deal.id);
  });

  it('gives one effect when HubSpot retries batches the service stored but did not answer in time', async () => {
    const s = await start();
    const deal = seedGatedDeal(s);
    // The service stores each batch, but HubSpot gives up waiting first and sends it again.
    s.sim.webhooks.configure({ timeoutMs: 1, retryDelaysMs: [20] });
    s.sim.moveDealToStage(deal.id, 'closedwon', { userId: REP });
    // Until HubSpot has given up on an attempt and sent the batch again, and the service has stored
    // it (not a fixed 150 ms: a loaded machine may not have sent even the first attempt by then).
    const closedWon = () => s.sim.webhooks.deliveries().filter((d) => d.events.some((e) => e.propertyValue === 'closedwon'));
    const stored = async () => (await s.store.inbox.list({ limit: 50 })).some((e) => e.propertyValue === 'closedwon');
    await waitUntil(() => closedWon().some((d) => d.attemptNumber > 0) && stored(), 20_000, 'a stored batch sent again');
    s.sim.webhooks.configure({ timeoutMs: 5_000 });
    await s.settle();
    const attempts = s.sim.webhooks.deliveries().filter((d) => d.events.some((e) => e.propertyValue === 'closedwon'));
    expect(attempts.length).toBeGreaterThan(1);
    expect(attempts.some((d) => d.attemptNumber > 0)).toBe(true);
    await expectOneRevert(s, deal.id);
  }, 60_000);

  it('gives nothing new when an already processed batch is delivered again later', async () => {
    const s = await start();
    const deal = seedGatedDeal(s);
    s.sim.moveDealToStage(deal.id, 'closedwon', { userId: REP });
    await s.settle();
    await expectOneRevert(s, deal.id);

    // HubSpot's retry of the same events (attemptNumber + 1), correctly signed.
    const delivered = s.sim.webhooks.deliveries().filter((d) => d.outcome === 'delivered');
    for (const delivery of delivered) {
      const body = JSON.stringify(delivery.events.map((e) => ({ ...e, attemptNumber: e.attemptNumber + 1 })));
      const response = await s.postWebhook(body);
      expect(response.status).toBe(200);
    }
    await s.settle();
    await expectOneRevert(s, deal.id);
  });

  it('applies a deal’s events by when they happened, whatever order they arrive in', async () => {
    const s = await start({ simulator: { webhooks: { reorder: true, duplicateRate: 0.5, seed: 7 } } });
    const walked = seedGatedDeal(s, { dealstage: 'appointmentscheduled' });
    const lost = seedGatedDeal(s, { dealstage: 'presentationscheduled' });
    s.sim.webhooks.pause();
    for (const stage of ['qualifiedtobuy', 'presentationscheduled', 'decisionmakerboughtin', 'contractsent', 'closedwon']) {
      s.sim.moveDealToStage(walked.id, stage, { userId: REP });
    }
    s.sim.moveDealToStage(lost.id, 'closedwon', { userId: REP });
    s.sim.moveDealToStage(lost.id, 'closedlost', { userId: REP });
    s.sim.updateDealAsUser(lost.id, { amount: '90000' }, { userId: REP });
    s.sim.webhooks.resume();
    await s.settle();

    await expectOneRevert(s, walked.id);
    // The move to Closed Won was overtaken by a legitimate one (Closed Lost): nothing to revert.
    expect(stageOf(s, lost.id)).toBe('closedlost');
    expect(await s.store.gateViolations.listForDeal(s.sim.portalId, lost.id)).toEqual([]);
    expect(await s.store.deals.get(s.sim.portalId, lost.id)).toEqual(expect.objectContaining({ stage: 'closedlost', amount: 90_000 }));
  });

  it('refuses a forged batch (401) and acts on nothing in it', async () => {
    const s = await start();
    const deal = seedGatedDeal(s, { dealstage: 'closedwon' });
    const body = JSON.stringify([
      {
        eventId: 1,
        subscriptionId: 1,
        portalId: s.sim.portalId,
        appId: s.sim.appId,
        occurredAt: Date.now(),
        subscriptionType: 'deal.propertyChange',
        attemptNumber: 0,
        objectId: Number(deal.id),
        propertyName: 'dealstage',
        propertyValue: 'closedwon',
        changeSource: 'CRM_UI',
        sourceId: `userId:${REP}`,
      },
    ]);
    const response = await s.postWebhook(body, 'not-the-client-secret');
    expect(response.status).toBe(401);
    await s.settle();
    expect(await s.store.inbox.journalBacklog()).toBe(0);
    expect(await s.store.inbox.countByStatus()).toEqual({ pending: 0, done: 0, parked: 0 });
    expect(stageOf(s, deal.id)).toBe('closedwon');
    expect(s.sim.requests.count('POST /crm/v3/objects/deals/batch/update')).toBe(0);
  });
});
