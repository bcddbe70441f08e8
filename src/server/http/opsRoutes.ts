import { timingSafeEqual } from 'node:crypto';
import { Router, type RequestHandler } from 'express';
import { z } from 'zod';
import type { Clock } from '../shared/clock';
import { forbidden, notFound, unauthorized } from '../shared/errors';
import { validate } from '../shared/validation';
import type { Store } from '../storage/store';
import { accountSweeps } from '../application/sweepProgress';
import type { AccountOutage, WorkerOutages } from '../hubspot/accountOutages';
import { SLA_LEASE, SWEEPS_LEASE } from '../storage/workerLeaseStore';

/**
 * What operators need to see about the background work: parked inbox events, failed outbox rows,
 * counts (inbox payloads included), and the accounts the inbox and the outbox wait on because
 * HubSpot fails for them (`waitingForHubSpot` on /ops/metrics: since when, what waits, the next probe),
 * and which instance this is and which one holds the `sla` and `sweeps` leases. Guarded by DEALGATE_OPS_TOKEN (`Authorization: Bearer
 * <token>`) when it is set. Without it they are closed (403, nothing read) unless the operator set
 * DEALGATE_OPS_LOOPBACK=true: then direct loopback callers get in, and a request carrying
 * X-Forwarded-For, Forwarded, X-Real-IP or Via is refused. Closed is the default because a reverse proxy on the
 * same host that adds no forwarding header makes every outside caller look like loopback.
 */
export interface OpsRouteDeps {
  config: { opsToken: string | undefined; opsLoopback?: boolean; reconcileSeconds?: number; instanceId?: string };
  store: Store;
  clock: Clock;
  /** The workers' view of the accounts HubSpot fails for (absent: no workers in this process). */
  outages?: () => WorkerOutages;
}

/** One account a worker waits on, as /ops/metrics shows it. */
async function waitingAccounts(outages: readonly AccountOutage[], pendingOf: (portalIds: number[]) => Promise<Map<number, number>>, now: number) {
  const pending = await pendingOf(outages.map((o) => o.portalId));
  return outages.map((o) => ({
    portalId: o.portalId,
    since: new Date(o.since).toISOString(),
    forMs: Math.max(0, now - o.since),
    pending: pending.get(o.portalId) ?? 0,
    failures: o.failures,
    nextProbeAt: new Date(o.nextProbeAt).toISOString(),
    nextProbeInMs: Math.max(0, o.nextProbeAt - now),
    lastError: o.lastError,
  }));
}

/**
 * Who runs the work that runs once across instances (the `sla` and `sweeps` leases): the holder,
 * whether that is this instance, since and until when. null: free (released at a clean stop, or
 * never taken); `expired`: its holder stopped renewing (died) and no instance has taken it yet.
 */
async function leaseViews(store: Store, instanceId: string | undefined, now: number) {
  const byName = new Map((await store.workerLeases.list()).map((lease) => [lease.name, lease]));
  const view = (name: string) => {
    const lease = byName.get(name);
    if (!lease) return null;
    return {
      holder: lease.holder,
      thisInstance: lease.holder === instanceId,
      since: new Date(lease.acquiredAt).toISOString(),
      renewedAt: new Date(lease.renewedAt).toISOString(),
      until: new Date(lease.expiresAt).toISOString(),
      expired: lease.expiresAt <= now,
    };
  };
  return { [SLA_LEASE]: view(SLA_LEASE), [SWEEPS_LEASE]: view(SWEEPS_LEASE) };
}

const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);
/** Headers a proxy adds (any one of them means the caller may be anywhere). */
const PROXY_HEADERS = ['x-forwarded-for', 'forwarded', 'x-real-ip', 'via'];

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given, 'utf8');
  const b = Buffer.from(expected, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}

export function opsGuard(opsToken: string | undefined, opsLoopback = false): RequestHandler {
  return (req, _res, next) => {
    if (opsToken !== undefined) {
      const header = req.get('authorization') ?? '';
      const match = /^Bearer (.+)$/i.exec(header);
      if (!match?.[1] || !sameSecret(match[1], opsToken)) {
        next(unauthorized('ops routes need Authorization: Bearer <DEALGATE_OPS_TOKEN>'));
        return;
      }
      next();
      return;
    }
    if (!opsLoopback) {
      next(forbidden('the ops routes are closed: set DEALGATE_OPS_TOKEN (then call with Authorization: Bearer <token>), or DEALGATE_OPS_LOOPBACK=true for callers on this host with no proxy in front'));
      return;
    }
    const remote = req.socket.remoteAddress ?? '';
    if (!LOOPBACK.has(remote) || PROXY_HEADERS.some((name) => req.get(name) !== undefined)) {
      next(forbidden('ops routes answer loopback callers only; set DEALGATE_OPS_TOKEN to reach them from elsewhere'));
      return;
    }
    next();
  };
}

/**
 * A number as an operator types it in a path or query: plain decimal digits, no sign, leading zero,
 * exponent, hex, fraction or spaces (z.coerce.number took '1e3' as 1000 and '0x10' as 16).
 */
const plainNumber = z
  .string()
  .regex(/^[1-9]\d{0,15}$/, 'must be a positive whole number written in decimal digits only (like 42)')
  .transform(Number)
  .refine(Number.isSafeInteger, 'is too large');
const listFields = {
  portalId: plainNumber.optional(),
  limit: plainNumber.pipe(z.number().max(500, 'is at most 500')).default(100),
};
const inboxQuery = z.object({ status: z.enum(['pending', 'done', 'parked']).optional(), ...listFields });
const outboxQuery = z.object({ status: z.enum(['pending', 'done', 'failed']).optional(), ...listFields });
const sweepsQuery = z.object({ portalId: listFields.portalId });

export function opsRoutes(deps: OpsRouteDeps): Router {
  const router = Router();
  router.use('/ops', opsGuard(deps.config.opsToken, deps.config.opsLoopback));

  router.get('/ops/metrics', async (_req, res) => {
    const now = deps.clock.now();
    const inboxNext = await deps.store.inbox.nextDueAt();
    const outboxNext = await deps.store.outbox.nextDueAt();
    const outages = deps.outages?.() ?? { inbox: [], outbox: [] };
    res.json({
      instanceId: deps.config.instanceId ?? null,
      leases: await leaseViews(deps.store, deps.config.instanceId, now),
      inbox: {
        ...(await deps.store.inbox.countByStatus()),
        nextDueInMs: inboxNext === undefined ? null : Math.max(0, inboxNext - now),
        waitingForHubSpot: await waitingAccounts(outages.inbox, (ids) => deps.store.inbox.pendingOf(ids), now),
      },
      outbox: {
        ...(await deps.store.outbox.countByStatus()),
        nextDueInMs: outboxNext === undefined ? null : Math.max(0, outboxNext - now),
        waitingForHubSpot: await waitingAccounts(outages.outbox, (ids) => deps.store.outbox.pendingOf(ids), now),
      },
    });
  });

  router.get('/ops/inbox', async (req, res) => {
    const q = validate(inboxQuery, req.query, 'query');
    const events = await deps.store.inbox.list({ limit: q.limit, ...(q.status ? { status: q.status } : {}), ...(q.portalId ? { portalId: q.portalId } : {}) });
    res.json({ events: events.map((e) => ({ ...e, payload: JSON.parse(e.payload) as unknown })) });
  });

  router.post('/ops/inbox/:id/retry', async (req, res) => {
    const id = validate(plainNumber, req.params.id, 'id');
    if (!await deps.store.inbox.requeue(id, deps.clock.now())) throw notFound(`no parked inbox event ${id}`);
    res.json({ requeued: id });
  });

  router.get('/ops/outbox', async (req, res) => {
    const q = validate(outboxQuery, req.query, 'query');
    res.json({ rows: await deps.store.outbox.list({ limit: q.limit, ...(q.status ? { status: q.status } : {}), ...(q.portalId ? { portalId: q.portalId } : {}) }) });
  });

  router.post('/ops/outbox/:id/retry', async (req, res) => {
    const id = validate(plainNumber, req.params.id, 'id');
    if (!(await deps.store.outbox.requeue(id, deps.clock.now()))) throw notFound(`no failed outbox row ${id}`);
    res.json({ requeued: id });
  });

  // Each account's install backfill (deals checked of total, started, finished, last error) and
  // reconciliation (last pass, watermark, next pass).
  router.get('/ops/sweeps', async (req, res) => {
    const q = validate(sweepsQuery, req.query, 'query');
    res.json({ reconcileSeconds: deps.config.reconcileSeconds ?? null, accounts: await accountSweeps(deps.store, q.portalId) });
  });

  return router;
}
