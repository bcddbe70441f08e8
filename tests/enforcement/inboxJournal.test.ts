import { startStack, type Stack } from '../support/stack';
import { JOURNAL_BATCHES_PER_SLICE } from '../../src/server/webhooks/inboxStore';

/**
 * The inbox worker's first step under a backlog: the journal is expanded a slice at a time, and
 * the event loop runs between two slices (a webhook that arrives meanwhile is answered after one
 * slice, not after the whole backlog).
 */
describe('inbox worker: journal expansion', () => {
  let stack: Stack;

  beforeEach(async () => {
    stack = await startStack({ startWorkers: false });
  });
  afterEach(async () => {
    await stack.stop();
  });

  const batch = (n: number) =>
    Buffer.from(
      JSON.stringify(
        Array.from({ length: 10 }, (_, i) => ({
          eventId: n * 100 + i,
          portalId: stack.sim.portalId,
          occurredAt: 1_700_000_000_000 + n,
          subscriptionType: 'deal.propertyChange',
          objectId: 999_000 + n,
          propertyName: 'hs_lastmodifieddate',
          propertyValue: String(n),
        })),
      ),
    );

  it('expands a backlog of several slices completely, letting other work run between slices', async () => {
    const batches = JOURNAL_BATCHES_PER_SLICE * 2 + 3;
    for (let n = 0; n < batches; n++) stack.store.inbox.journal(batch(n), Date.now());
    const backlogSeenBetween: number[] = [];
    const watch = () => {
      backlogSeenBetween.push(stack.store.inbox.journalBacklog());
      if (stack.store.inbox.journalBacklog() > 0) setImmediate(watch);
    };
    setImmediate(watch);
    await stack.background.inbox.processDue();
    expect(stack.store.inbox.journalBacklog()).toBe(0);
    expect(stack.store.inbox.countByStatus().pending + stack.store.inbox.countByStatus().done + stack.store.inbox.countByStatus().parked).toBe(batches * 10);
    // The watcher ran after the first slice and after the second, before the expansion finished.
    expect(backlogSeenBetween.slice(0, 2)).toEqual([batches - JOURNAL_BATCHES_PER_SLICE, batches - 2 * JOURNAL_BATCHES_PER_SLICE]);
  });
});
