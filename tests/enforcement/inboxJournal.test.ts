import { startStack, type Stack } from '../support/stack';
import { JOURNAL_BATCHES_PER_SLICE, UNREADABLE_BATCH, type InboxEvent } from '../../src/server/storage/inboxStore';

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
    for (let n = 0; n < batches; n++) await stack.store.inbox.journal(batch(n), Date.now());
    const backlogSeenBetween: number[] = [];
    const watch = async () => {
      backlogSeenBetween.push(await stack.store.inbox.journalBacklog());
      if (await stack.store.inbox.journalBacklog() > 0) setImmediate(watch);
    };
    setImmediate(watch);
    await stack.background.inbox.processDue();
    expect(await stack.store.inbox.journalBacklog()).toBe(0);
    expect((await stack.store.inbox.countByStatus()).pending + (await stack.store.inbox.countByStatus()).done + (await stack.store.inbox.countByStatus()).parked).toBe(batches * 10);
    // The watcher ran after the first slice and after the second, before the expansion finished.
    // On PostgreSQL every statement is I/O, so it also runs while a slice is in progress (it then
    // sees the backlog unchanged): what it saw, each value once, is the whole backlog, then each slice's commit.
    const distinctSeen = backlogSeenBetween.filter((n, i) => n !== backlogSeenBetween[i - 1]);
    const afterSlices = distinctSeen[0] === batches ? distinctSeen.slice(1) : distinctSeen;
    expect(afterSlices.slice(0, 2)).toEqual([batches - JOURNAL_BATCHES_PER_SLICE, batches - 2 * JOURNAL_BATCHES_PER_SLICE]);
  });

  it('parks a stored batch it cannot read (never drops what was acknowledged), shows it on /ops, and reads it again when requeued', async () => {
    // The route rejects unreadable batches at the door, so only a corrupted row gets here: one is
    // written straight into the journal, beside a readable one. Before, it was dropped (logged only).
    const unreadable = Buffer.from('[{"eventId": 1, "portalId": ');
    await stack.store.inbox.journal(unreadable, 1_700_000_000_000);
    await stack.store.inbox.journal(batch(1), 1_700_000_000_001);
    await stack.background.inbox.processDue();
    expect(await stack.store.inbox.journalBacklog()).toBe(0);

    type Listed = Omit<InboxEvent, 'payload'> & { payload: { unreadableBatch?: { text: string; bytes: number } } };
    const parked = await stack.ops<{ events: Listed[] }>('/ops/inbox?status=parked');
    expect(parked.status).toBe(200);
    expect(parked.json.events).toEqual([
      expect.objectContaining({ subscriptionType: UNREADABLE_BATCH, portalId: 0, status: 'parked', lastError: expect.stringMatching(/^parked, the stored webhook batch cannot be read \(none of its events was applied\): .*JSON/s) }),
    ]);
    expect(parked.json.events[0]?.payload.unreadableBatch).toEqual(expect.objectContaining({ text: unreadable.toString('utf8'), bytes: unreadable.length }));
    const metrics = await stack.ops<{ inbox: { parked: number; pending: number } }>('/ops/metrics');
    expect(metrics.json.inbox).toEqual(expect.objectContaining({ parked: 1 }));
    // The readable batch beside it is in the inbox as usual.
    const counts = await stack.store.inbox.countByStatus();
    expect(counts.pending + counts.done + counts.parked).toBe(10 + 1);

    // A requeue puts the body back in the journal; still unreadable, it is parked again (once).
    const id = parked.json.events[0]?.id ?? 0;
    expect((await stack.ops(`/ops/inbox/${id}/retry`, 'POST')).json).toEqual({ requeued: id });
    expect(await stack.store.inbox.journalBacklog()).toBe(1);
    await stack.background.inbox.processDue();
    const again = await stack.store.inbox.list({ status: 'parked', limit: 10 });
    expect(again.map((e) => e.subscriptionType)).toEqual([UNREADABLE_BATCH]);
    expect(await stack.store.inbox.journalBacklog()).toBe(0);
  });
});
