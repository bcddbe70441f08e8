import type { Clock } from '../../src/server/shared/clock';
import { silentLogger } from '../../src/server/shared/logger';
import type { HubSpotGateway } from '../../src/server/hubspot/gateway';
import type { AccountProvisioner } from '../../src/server/application/provisioning';
import type { Store } from '../../src/server/storage/store';
import type { NewInboxEvent } from '../../src/server/storage/inboxStore';
import { createInboxWorker, type InboxWorker } from '../../src/server/workers/inboxWorker';
import type { RateGovernor } from '../../src/server/hubspot/rateGovernor';
import { gate } from './twoInstances';

/**
 * Inbox workers as instances sharing one database, for the several-instances suites (issue 13).
 * HubSpot is never asked; the handler records each event it applies as an outbox row written in
 * the apply transaction (a rolled-back apply leaves nothing, a doubled one two rows), and can hold
 * an instance where the test chooses: at a deal's first look in a round (its claim taken, no
 * transaction open), or inside an event's apply transaction (its effect written, not committed;
 * PostgreSQL only: SQLite runs one transaction at a time, so everything else would wait for it).
 */
export const INBOX_PORTAL = 4_242;

export const inboxEvent = (objectId: string, key: string, occurredAt: number): NewInboxEvent => ({
  portalId: INBOX_PORTAL,
  eventKey: key,
  objectId,
  subscriptionType: 'deal.propertyChange',
  propertyName: 'amount',
  propertyValue: '1000',
  changeSource: 'CRM_UI',
  sourceId: null,
  occurredAt,
  payload: '{}',
});

/** HubSpot is never asked: every deal's facts are already known to the handler below. */
const noHubSpot = new Proxy({}, {
  get(_target, name) {
    throw new Error(`no HubSpot call expected in this suite (${String(name)})`);
  },
}) as HubSpotGateway;
const governor = { acquire: async () => true, rateLimited: () => undefined, pauseRemainingMs: () => 0 } as unknown as RateGovernor;
const provisioner: AccountProvisioner = { ensureReady: async () => undefined, refreshPipelines: async () => false };

export interface Instance {
  worker: InboxWorker;
  /** Deals whose first look in a round waits for the test (the instance is held there, its claim taken). */
  holdAt: Map<string, Hold>;
  /** Events (by key) whose apply waits for the test inside its transaction, its effect written. */
  holdApply: Map<string, Hold>;
}

export interface Hold {
  reached: ReturnType<typeof gate>;
  release: ReturnType<typeof gate>;
}

const hold = (): Hold => ({ reached: gate(), release: gate() });

/** Waits at `hold` once: tells the test it got there, then waits to be let go. */
async function waitAt(holds: Map<string, Hold>, key: string): Promise<void> {
  const found = holds.get(key);
  if (!found) return;
  holds.delete(key);
  found.reached.open();
  await found.release.opened;
}

export function inboxInstance(name: string, store: Store, clock: Clock, leases: { dealClaimLeaseMs?: number; dealClaimRenewMs?: number } = {}): Instance {
  const holdAt: Instance['holdAt'] = new Map();
  const holdApply: Instance['holdApply'] = new Map();
  const worker = createInboxWorker({
    store,
    gateway: noHubSpot,
    clock,
    logger: silentLogger(),
    governor,
    provisioner,
    instanceId: name,
    ...leases,
    handler: {
      async needsFreshDeal(_portalId, dealId) {
        await waitAt(holdAt, dealId);
        return false;
      },
      async apply({ event: e }) {
        await store.outbox.enqueue({ portalId: e.portalId, dealId: e.objectId, kind: 'test_effect', payload: { eventKey: e.eventKey, by: name } }, clock.now());
        await waitAt(holdApply, e.eventKey);
        return false;
      },
    },
  });
  return { worker, holdAt, holdApply };
}

/** The instance stops at this deal's first look in its next round (its claim taken). */
export function holdDeal(target: Instance, dealId: string): Hold {
  const h = hold();
  target.holdAt.set(dealId, h);
  return h;
}

/** The instance stops inside this event's apply transaction (its effect written, not committed). */
export function holdApply(target: Instance, eventKey: string): Hold {
  const h = hold();
  target.holdApply.set(eventKey, h);
  return h;
}

/** Each applied event as `key by instance`, in the order the applies committed. */
export async function effects(store: Store): Promise<string[]> {
  const rows = (await store.outbox.list({ limit: 1_000 })).sort((p, q) => p.id - q.id);
  return rows.map((row) => {
    const payload = row.payload as { eventKey: string; by: string };
    return `${payload.eventKey} by ${payload.by}`;
  });
}

