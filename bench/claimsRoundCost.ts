/**
 * What the claims of issue 13 (deal claims per inbox round, fenced outbox marks) cost on SQLite,
 * in process: the inbox applies ROUNDS × 500 events (250 deals, one account) through processDue
 * with a handler that writes one outbox row and nothing else (the path's store work: due, the
 * deals' claim, which SQLite grants without a write, the apply transaction with its fenced done
 * mark), then the outbox claims and marks done 500 rows a round. Prints µs per event and per row.
 * A worst case for the claims' share: the real deal event handler does much more per event.
 *
 *   npx tsx bench/claimsRoundCost.ts
 *
 * Compare with the commit before the claims by running the same loop there (its markDone takes ids).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '../src/server/shared/clock';
import { silentLogger } from '../src/server/shared/logger';
import type { HubSpotGateway } from '../src/server/hubspot/gateway';
import { createDb } from '../src/server/storage/db';
import { createSqliteStore } from '../src/server/storage/sqliteStore';
import type { NewInboxEvent } from '../src/server/storage/inboxStore';
import { createInboxWorker } from '../src/server/workers/inboxWorker';
import type { RateGovernor } from '../src/server/hubspot/rateGovernor';

const ROUNDS = 20;
const PER_ROUND = 500;

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'dealgate-claims-cost-'));
  const store = createSqliteStore(createDb(join(dir, 'db.sqlite')));
  const governor = { acquire: async () => true, rateLimited: () => undefined, pauseRemainingMs: () => 0 } as unknown as RateGovernor;
  const worker = createInboxWorker({
    store,
    gateway: {} as HubSpotGateway,
    clock: systemClock,
    logger: silentLogger(),
    governor,
    provisioner: { ensureReady: async () => undefined, refreshPipelines: async () => false },
    handler: {
      needsFreshDeal: async () => false,
      apply: async ({ event }) => {
        await store.outbox.enqueue({ portalId: event.portalId, dealId: event.objectId, kind: 'create_note', payload: { body: event.eventKey } }, 1);
        return false;
      },
    },
  });
  let n = 0;
  const events = (): NewInboxEvent[] =>
    Array.from({ length: PER_ROUND }, () => {
      n += 1;
      return { portalId: 7, eventKey: `e${n}`, objectId: String(n % 250), subscriptionType: 'deal.propertyChange', propertyName: 'amount', propertyValue: '1', changeSource: 'CRM_UI', sourceId: null, occurredAt: n, payload: '{}' };
    });
  await store.inbox.insertBatch(events(), 1);
  await worker.processDue();
  let inboxMs = 0;
  let applied = 0;
  for (let round = 0; round < ROUNDS; round += 1) {
    await store.inbox.insertBatch(events(), 1);
    const started = performance.now();
    applied += await worker.processDue();
    inboxMs += performance.now() - started;
  }
  let outboxMs = 0;
  let claimed = 0;
  for (let round = 0; round < ROUNDS; round += 1) {
    const started = performance.now();
    const rows = await store.transaction(async () => await store.outbox.claimDue(2, PER_ROUND, 60_000));
    await store.transaction(async () => await store.outbox.markDone(rows, 3));
    outboxMs += performance.now() - started;
    claimed += rows.length;
  }
  process.stdout.write(`${JSON.stringify({ inboxUsPerEvent: Math.round((inboxMs * 1000) / applied), applied, outboxUsPerRow: Math.round((outboxMs * 1000) / claimed), claimed })}\n`);
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}

void main();
