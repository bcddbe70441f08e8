import { join } from 'node:path';
import { testStore } from '../support/testStore';
import type { Store } from '../../src/server/storage/store';
import { tempDir } from '../support/env';

/** A delayed write of a commitment property yields to a later edit of it in HubSpot (the store's part). */
describe('outbox: yielding to a later change in HubSpot', () => {
  let dir: ReturnType<typeof tempDir>;
  let store: Store;
  const PORTAL = 7;
  beforeEach(async () => {
    dir = tempDir();
    store = await testStore(join(dir.path, 'dealgate.db'));
  });
  afterEach(async () => {
    await store.close();
    dir.cleanup();
  });

  const write = async (dealId: string, properties: Record<string, string>, at: number, portalId = PORTAL) =>
    (await store.outbox.enqueue({ portalId, dealId, kind: 'update_deal', payload: { properties } }, at)) as number;

  it('drops the property from rows queued before the change, ends a row left with nothing, and leaves later rows, other deals and accounts alone', async () => {
    const mixed = await write('1', { dealgate_commitment_summary: 'A', dealgate_status: 'pending' }, 100);
    const only = await write('1', { dealgate_commitment_summary: 'A2' }, 110);
    const later = await write('1', { dealgate_commitment_summary: 'C' }, 300);
    const otherDeal = await write('2', { dealgate_commitment_summary: 'A' }, 100);
    const otherAccount = await write('1', { dealgate_commitment_summary: 'A' }, 100, PORTAL + 1);

    expect(await store.outbox.yieldToLaterChange(PORTAL, '1', 'dealgate_commitment_summary', 200, 250)).toBe(2);

    expect(await store.outbox.get(mixed)).toEqual(expect.objectContaining({ status: 'pending', payload: { properties: { dealgate_status: 'pending' } } }));
    expect(await store.outbox.get(only)).toEqual(
      expect.objectContaining({ status: 'done', completedAt: 250, lastError: expect.stringContaining('changed in HubSpot after this was queued') }),
    );
    for (const id of [later, otherDeal, otherAccount]) {
      expect(await store.outbox.get(id)).toEqual(expect.objectContaining({ status: 'pending', payload: { properties: expect.objectContaining({ dealgate_commitment_summary: expect.any(String) }) } }));
    }
    // A property the rows do not write changes nothing.
    expect(await store.outbox.yieldToLaterChange(PORTAL, '1', 'dealgate_effort_weeks', 200, 250)).toBe(0);
  });
});
