import type { Clock } from '../shared/clock';
import type { AccountDefaults } from '../config/config';
import { gateStageOf, isPastGate, type Pipeline } from '../domain/gatePolicy';
import { effectiveSettings } from './context';
import { classifyHubSpotError, type DealSearchFilter, type DealSearchPage, type DealSearchRequest, type HubSpotGateway } from '../hubspot/gateway';
import type { Logger } from '../shared/logger';
import type { Store } from '../storage/store';
import type { SweepCursor, SweepKind, SweepState } from '../storage/sweepStore';
import { backoffDelay, type RetryPolicy } from '../hubspot/backoff';
import { withTimeout } from '../hubspot/callTimeout';
import { permitOutsidePause, type RateGovernor, type RateGovernorOptions } from '../hubspot/rateGovernor';
import { advance, CURSOR_AT_START, pageRequest, type PagedQuery } from '../hubspot/searchPaging';
import { SWEEP_SUBSCRIPTION_TYPE, sweepEvent } from './sweepEvents';

/**
 * The sweeps of HubSpot, so that nothing HubSpot failed to tell Dealgate is missed:
 *
 * - the **install backfill**, once per account after first contact: every deal that already sits
 *   past its pipeline's gate stage (lost stages never are) with `dealgate_commitment` ticked,
 *   created before the sweep started (later ones come with their own webhooks);
 * - the **reconciliation**, every interval: every deal HubSpot modified since the last pass, less an
 *   overlap, which catches webhooks HubSpot gave up on, an outage of Dealgate, a switched-off
 *   subscription.
 *
 * Both only find deals: each becomes an inbox event (sweepEvents.ts) that enforcement judges.
 * Every search call waits for the account's shared 10-second budget (the governor the workers
 * share) and for the search API's own per-second limit; a page's events and the sweep's cursor
 * are stored in one transaction, so a restart goes on from the last page stored.
 */
export interface DealSweepOptions {
  /** The periodic reconciliation's interval; 0: off (the install backfill still runs). */
  reconcileIntervalMs: number;
  /** A reconcile pass starts this far before its watermark (clock skew, HubSpot's search index catching up). */
  reconcileOverlapMs?: number;
  callTimeoutMs?: number;
  /** Failed searches are tried again after this backoff (never given up: the state shows the error). */
  retry?: RetryPolicy;
  /** While an account has this many sweep events waiting in the inbox, its sweep waits (webhooks go first). */
  inboxBacklogLimit?: number;
  /** Page size (tests shrink it). */
  pageLimit?: number;
  random?: () => number;
}

export interface DealSweepDeps extends DealSweepOptions {
  store: Store;
  gateway: HubSpotGateway;
  clock: Clock;
  logger: Logger;
  /** The account's shared budget of HubSpot calls (90 per 10 s): searches count against it. */
  governor: RateGovernor;
  /** The search API's own limit per account (SEARCH_RATE). */
  searchPacer: RateGovernor;
  defaults: AccountDefaults;
  /** Events were stored: the inbox worker can start on them. */
  onEvents?: () => void;
}

/**
 * HubSpot allows 5 search requests per second per account. The pacer allows 4: calls of one
 * account's sweep go one at a time, so 4 per second as Dealgate counts them can never arrive as 6
 * within one second of HubSpot's counting, whatever the network adds to one call and not the next.
 */
export const SEARCH_RATE: RateGovernorOptions = { requestsPerWindow: 4, windowMs: 1_000 };
export const RECONCILE_OVERLAP_MS = 5 * 60_000;
export const DEFAULT_SWEEP_RETRY: RetryPolicy = { baseMs: 5_000, maxMs: 10 * 60_000, maxAttempts: Number.POSITIVE_INFINITY };
export const INBOX_BACKLOG_LIMIT = 2_000;
const BACKLOG_PAUSE_MS = 500;
/** A sweep hands the account back to the worker loop after this many pages (progress is stored at each). */
const PAGES_PER_TURN = 50;
/** 429s in a row before a page counts as failed (each waits out the governor's pause). */
const RATE_LIMITED_TRIES = 3;

export interface DealSweeps {
  /**
   * Works on one due sweep until it is done, has to wait or fails, or `shouldStop()`; returns the
   * pages it stored. `mayGoOn`, asked before each page, ends the turn when it answers false (the
   * worker's lease went to another instance, which goes on from the stored cursor).
   */
  sweep(state: SweepState, shouldStop: () => boolean, mayGoOn?: () => Promise<boolean>): Promise<number>;
  /** The stages past the gate of each pipeline under the account's settings (the backfill looks there). */
  stagesPastGate(portalId: number): Promise<string[]>;
}

/** Every stage ordered after its pipeline's gate stage, lost stages left out (gatePolicy decides both). */
export function stagesPastGate(pipelines: readonly Pipeline[], settings: Parameters<typeof gateStageOf>[1]): string[] {
  return pipelines.flatMap((pipeline) => {
    const gate = gateStageOf(pipeline, settings);
    return pipeline.stages.filter((s) => isPastGate(pipeline, gate, s.id)).map((s) => s.id);
  });
}

export function sweepIdOf(state: Pick<SweepState, 'kind' | 'run'>): string {
  return `${state.kind}-${state.run}`;
}

export function createDealSweeps(deps: DealSweepDeps): DealSweeps {
  const overlapMs = deps.reconcileOverlapMs ?? RECONCILE_OVERLAP_MS;
  const callTimeoutMs = deps.callTimeoutMs ?? 20_000;
  const retry = deps.retry ?? DEFAULT_SWEEP_RETRY;
  const backlogLimit = deps.inboxBacklogLimit ?? INBOX_BACKLOG_LIMIT;
  const random = deps.random ?? Math.random;
  const pageOptions = deps.pageLimit !== undefined ? { limit: deps.pageLimit } : {};

  const ctx: SweepContext = { deps, overlapMs, callTimeoutMs, retry, backlogLimit, random, pageOptions };
  return {
    sweep: (state, shouldStop, mayGoOn) => sweep(ctx, state, shouldStop, mayGoOn),
    stagesPastGate: (portalId) => pastGate(ctx, portalId),
  };
}

/** What every step of a sweep works with: the deps, with the options' defaults filled in. */
interface SweepContext {
  deps: DealSweepDeps;
  overlapMs: number;
  callTimeoutMs: number;
  retry: RetryPolicy;
  backlogLimit: number;
  random: () => number;
  pageOptions: { limit?: number };
}

async function pastGate(ctx: SweepContext, portalId: number): Promise<string[]> {
  const { deps } = ctx;
  const { store, clock } = deps;
  const { settings } = await effectiveSettings({ store, clock, defaults: deps.defaults }, portalId);
  return stagesPastGate(await store.pipelines.list(portalId), settings);
}

/**
 * One search call, inside both limits. A 429 pauses as the workers' calls do, and is tried again.
 * A stop while it waits for either limit sends nothing (SweepStopped): the sweep goes on from its
 * stored cursor at the next start.
 */
async function search(ctx: SweepContext, portalId: number, request: DealSearchRequest, shouldStop: () => boolean): Promise<DealSearchPage> {
  const { deps, callTimeoutMs } = ctx;
  const { gateway, logger, governor, searchPacer } = deps;
  for (let attempt = 1; ; attempt += 1) {
    if (!(await searchPacer.acquire(portalId, shouldStop)) || !(await permitOutsidePause(governor, portalId, shouldStop))) throw new SweepStopped();
    try {
      return await withTimeout(gateway.searchDeals(portalId, request), callTimeoutMs);
    } catch (error) {
      if (!classifyHubSpotError(error).rateLimited) throw error;
      // The search API's own secondly limit pauses searches only; the 10-second one every call of the account.
      if (policyOf(error) === 'SECONDLY') await searchPacer.rateLimited(portalId);
      else await governor.rateLimited(portalId);
      logger.warn({ portalId, attempt }, 'HubSpot answered a sweep search 429; pausing');
      if (attempt >= RATE_LIMITED_TRIES || shouldStop()) throw error;
    }
  }
}

/** The query of a sweep pass: the backfill's deals past the gate, or every deal (the reconciliation). */
function queryOf(ctx: SweepContext, state: SweepState, cursor: SweepCursor, stages: string[]): PagedQuery {
  const { deps, pageOptions } = ctx;
  const { clock } = deps;
  if (state.kind === 'reconcile') {
    return { filters: [{ propertyName: 'hs_lastmodifieddate', operator: 'GTE', value: String(cursor.since ?? 0) }], ...pageOptions };
  }
  const filters: DealSearchFilter[] = [
    { propertyName: 'dealgate_commitment', operator: 'EQ', value: 'true' },
    { propertyName: 'dealstage', operator: 'IN', values: stages },
    // Existing deals: those created later come with their own webhooks (and the reconciliation).
    { propertyName: 'createdate', operator: 'LT', value: String(state.startedAt ?? clock.now()) },
  ];
  return { filters, ...pageOptions };
}

async function failed(ctx: SweepContext, state: SweepState, error: unknown): Promise<void> {
  const { deps, retry, random } = ctx;
  const { store, clock, logger, governor, searchPacer } = deps;
  const info = classifyHubSpotError(error);
  const attempts = state.attempts + 1;
  const wait = info.rateLimited ? Math.max(governor.pauseRemainingMs(state.portalId), searchPacer.pauseRemainingMs(state.portalId), retry.baseMs) : backoffDelay(attempts, retry, random);
  const message = `${info.status !== undefined ? `HubSpot answered ${info.status}: ` : ''}${info.message}`.slice(0, 2000);
  const now = clock.now();
  await store.sweeps.fail(state.portalId, state.kind, attempts, message, now + wait, now);
  logger.warn({ portalId: state.portalId, sweep: state.kind, attempts, error: message }, 'a sweep search failed; it goes on after a pause (GET /ops/sweeps)');
}

/** A new pass of a sweep that is not running: the backfill's first, or the next reconciliation. */
async function begin(ctx: SweepContext, state: SweepState): Promise<SweepState | undefined> {
  const { deps, overlapMs } = ctx;
  const { store, clock } = deps;
  const now = clock.now();
  if (state.kind === 'backfill') return await store.sweeps.start(state.portalId, 'backfill', CURSOR_AT_START, now);
  return await store.sweeps.start(state.portalId, 'reconcile', { lastId: null, since: Math.max(0, (state.watermark ?? now) - overlapMs) }, now);
}

async function finish(ctx: SweepContext, state: SweepState): Promise<void> {
  const { deps } = ctx;
  const { store, clock, logger } = deps;
  const now = clock.now();
  if (state.kind === 'backfill') {
    await store.sweeps.finish(state.portalId, 'backfill', now, { nextAt: now });
    const took = state.startedAt === null ? null : now - state.startedAt;
    logger.info({ portalId: state.portalId, checked: state.checked, inserted: state.inserted, ms: took }, 'install backfill finished: existing deals past the gate handed to enforcement');
    return;
  }
  // Every change before this pass started has been swept (the next pass's overlap covers clock
  // skew and HubSpot's search index catching up); changes during it are the next pass's.
  const watermark = Math.max(state.watermark ?? 0, state.startedAt ?? now);
  const nextAt = Math.max(now, (state.startedAt ?? now) + deps.reconcileIntervalMs);
  await store.sweeps.finish(state.portalId, 'reconcile', now, { nextAt, watermark });
  logger.debug({ portalId: state.portalId, checked: state.checked, inserted: state.inserted }, 'reconciliation pass finished');
}

async function sweep(ctx: SweepContext, due: SweepState, shouldStop: () => boolean, mayGoOn: () => Promise<boolean> = () => Promise.resolve(true)): Promise<number> {
  const { deps, backlogLimit } = ctx;
  const { store, clock } = deps;
  const { portalId } = due;
  const kind: SweepKind = due.kind;
  let state: SweepState | undefined = due.status === 'running' && due.cursor !== null ? due : await begin(ctx, due);
  let pages = 0;
  while (state && !shouldStop() && pages < PAGES_PER_TURN && (await mayGoOn())) {
    const cursor = state.cursor ?? CURSOR_AT_START;
    if (await store.sweeps.pendingInboxEvents(portalId, SWEEP_SUBSCRIPTION_TYPE) >= backlogLimit) {
      await store.sweeps.postpone(portalId, kind, clock.now() + BACKLOG_PAUSE_MS);
      break;
    }
    const stages = kind === 'backfill' ? await pastGate(ctx, portalId) : [];
    if (kind === 'backfill' && stages.length === 0) {
      // No pipeline has a gate stage (or none has a stage after it): nothing can sit past a gate.
      await store.transaction(async () => await store.sweeps.recordPage(portalId, kind, { checked: 0, inserted: 0, total: 0, cursor, at: clock.now() }));
      await finish(ctx, { ...state, total: 0 });
      break;
    }
    const query = queryOf(ctx, state, cursor, stages);
    let page: DealSearchPage;
    try {
      page = await search(ctx, portalId, pageRequest(query, cursor), shouldStop);
    } catch (error) {
      if (!(error instanceof SweepStopped)) await failed(ctx, state, error);
      break;
    }
    const step = advance(cursor, page);
    const sweepId = sweepIdOf(state);
    const events = step.deals.map((deal) => sweepEvent(portalId, kind, sweepId, deal, state?.startedAt));
    const now = clock.now();
    const checked = state.checked + step.deals.length;
    const next = step.cursor;
    const stored = await store.transaction(async () => {
      const inserted = await store.inbox.insertBatch(events, now);
      await store.sweeps.recordPage(portalId, kind, { checked: step.deals.length, inserted, total: checked + step.remaining, cursor: next, at: now });
      return inserted;
    });
    pages += 1;
    if (stored > 0) deps.onEvents?.();
    state = { ...state, checked, inserted: state.inserted + stored, total: checked + step.remaining, cursor: next, attempts: 0, lastError: null };
    if (step.done) {
      await finish(ctx, state);
      break;
    }
  }
  return pages;
}

/** The sweep was told to stop while a search waited for HubSpot's limits: nothing was sent. */
class SweepStopped extends Error {
  constructor() {
    super('the sweep stopped before its search was sent');
  }
}

function policyOf(error: unknown): string | undefined {
  const body = typeof error === 'object' && error !== null ? (error as { body?: unknown }).body : undefined;
  const policy = typeof body === 'object' && body !== null ? (body as { policyName?: unknown }).policyName : undefined;
  return typeof policy === 'string' ? policy : undefined;
}
