import { createDb } from '../../src/server/storage/db';
import { createSqliteStore } from '../../src/server/storage/sqliteStore';
import { createHubSpotGateway } from '../../src/server/hubspot/gateway';
import type { HubSpotClients } from '../../src/server/hubspot/clients';
import { HubSpotCallInTransactionError } from '../../src/server/storage/transactionScope';

/**
 * No HubSpot call inside a store transaction: it would hold the database (SQLite's one write lock,
 * a PostgreSQL connection and its row locks) for as long as HubSpot takes, and a rollback could not
 * take the call's effect back. The gateway refuses such a call before it asks for a client.
 */
describe('a HubSpot call inside a store transaction', () => {
  const portalId = 4242;
  let clientsAsked = 0;
  const clients: HubSpotClients = {
    forPortal: async () => {
      clientsAsked += 1;
      throw new Error('no HubSpot in this test: the call got past the transaction check');
    },
    serves: async () => true,
  };

  beforeEach(() => {
    clientsAsked = 0;
  });

  it('throws, names the rule, and rolls the transaction back', async () => {
    const store = createSqliteStore(createDb(':memory:'));
    const gateway = createHubSpotGateway(clients);
    await expect(
      store.transaction(async (tx) => {
        await tx.settings.put(portalId, { valueThreshold: 1 } as never, 1, 'user');
        await gateway.getPipelines(portalId);
      }),
    ).rejects.toThrow(HubSpotCallInTransactionError);
    expect(clientsAsked).toBe(0);
    expect(await store.settings.get(portalId)).toBeUndefined();
    await store.close();
  });

  it('also from code the transaction awaits that uses the store, not the tx handle', async () => {
    const store = createSqliteStore(createDb(':memory:'));
    const gateway = createHubSpotGateway(clients);
    const readDealThenSave = async () => {
      await store.pipelines.list(portalId);
      await gateway.getDeal(portalId, '1');
    };
    await expect(store.transaction(() => readDealThenSave())).rejects.toThrow(/inside a store transaction/);
    expect(clientsAsked).toBe(0);
    await store.close();
  });

  it('goes through outside a transaction (to the clients, here refusing)', async () => {
    const store = createSqliteStore(createDb(':memory:'));
    const gateway = createHubSpotGateway(clients);
    await store.transaction(async (tx) => tx.pipelines.list(portalId));
    await expect(gateway.getPipelines(portalId)).rejects.toThrow(/got past the transaction check/);
    expect(clientsAsked).toBe(1);
    await store.close();
  });
});
