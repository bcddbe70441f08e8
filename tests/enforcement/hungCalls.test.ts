import { waitUntil } from '../support/process';
import { REP, revertNotes, seedGatedDeal, stackPerTest, stageOf } from './world';

/**
 * HubSpot calls that do not answer in time. @hubspot/api-client has no timeout of its own, so the
 * workers bound each call (callTimeoutMs); a call that timed out may still be applied by HubSpot
 * afterwards, and the outbox must not create its note a second time.
 */
describe('HubSpot calls that hang', () => {
  const start = stackPerTest({ background: { callTimeoutMs: 200 } });

  it('a deal read HubSpot never answers does not stall enforcement: the read is given up and retried', async () => {
    const s = await start();
    const deals = [seedGatedDeal(s), seedGatedDeal(s)];
    // Held until the simulator stops: without a timeout the inbox worker would wait on it for good.
    s.sim.faults.hangNext(1, { match: 'POST /crm/v3/objects/deals/batch/read' });
    s.sim.moveDealsToStage(deals.map((d) => d.id), 'closedwon', { userId: REP });
    await s.settle();
    for (const deal of deals) {
      expect(stageOf(s, deal.id)).toBe('contractsent');
      expect(revertNotes(s, deal.id)).toHaveLength(1);
    }
    expect((await s.store.inbox.countByStatus()).parked).toBe(0);
  });

  it('a note HubSpot creates after the call timed out is not created again', async () => {
    const s = await start();
    const deals = [seedGatedDeal(s), seedGatedDeal(s), seedGatedDeal(s)];
    // HubSpot holds the answer for 1.2 s, then creates the notes: Dealgate gave up at 200 ms.
    s.sim.faults.hangNext(1, { ms: 1_200, match: 'POST /crm/v3/objects/notes' });
    s.sim.moveDealsToStage(deals.map((d) => d.id), 'closedwon', { userId: REP });
    await s.settle();
    // The held create has landed (however late the machine let it): a duplicate would show now.
    await waitUntil(() => s.sim.faults.hangsFinished() === 1, 30_000, 'the held note create to be done');
    await s.settle({ timeoutMs: 20_000 });
    for (const deal of deals) {
      expect(stageOf(s, deal.id)).toBe('contractsent');
      expect(s.sim.notesForDeal(deal.id)).toHaveLength(1);
    }
    expect((await s.store.outbox.countByStatus()).failed).toBe(0);
  }, 60_000);
});
