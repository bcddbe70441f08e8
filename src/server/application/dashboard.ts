import type { DashboardResponse, DealFlagView, QueueItem, Settings } from '../../../extensions/contract/api';
import { gateStageOf } from '../domain/gatePolicy';
import { settingsChangeView } from './settingsService';
import { forbidden } from '../shared/errors';
import { CAPACITY_LIST_LIMIT, capacityView, quarterBounds } from '../domain/capacityLedger';
import { isAdmin, isDesignatedReviewer } from '../domain/roles';
import { triadMembers, triadOf } from '../domain/triad';
import { HOUR_MS, statusAt } from '../domain/sla';
import { effectiveSettings, type Caller, type GateStoreContext } from './context';
import { listAbsences } from './absenceService';
import { deliveriesSummary } from './deliveryView';
import { buildSharedMetrics } from './sharedMetrics';
import { breakGlassesForHome } from './breakGlassView';
import { cachedPeople } from './people';

/**
 * The deal-desk home page: both sides of the process in one view. Reps going through review
 * (gate violations by person), engineering answering in time (queue, SLA compliance, time to
 * decision), and what the approvals cost (capacity). Computed in SQL from Dealgate's own tables
 * (reviewStore's `queue` and `decisionFigures`, the violations' `countByUser`): no HubSpot call,
 * so the page costs nothing against the account's rate limit.
 */
export async function buildDashboard(ctx: GateStoreContext, caller: Caller): Promise<DashboardResponse> {
  const { store } = ctx;
  const { portalId, userId } = caller;
  const { settings } = await effectiveSettings(ctx, portalId);
  // With the Triad on, its members review too (views, the call, the delivery a tech lead owns).
  const triad = triadOf(settings);
  const inTriad = triad.enabled && triadMembers(triad).includes(userId);
  if (!isAdmin(userId, settings) && !isDesignatedReviewer(userId, settings) && !inTriad) {
    const who = triad.enabled ? "admins, reviewers and the Triad's members, and you are none of them" : 'admins and reviewers, and you are neither';
    throw forbidden(`the deal-desk dashboard is for ${who} (an admin adds them in the settings)`);
  }
  const now = ctx.clock.now();
  const { quarter, start, end } = quarterBounds(now);
  const people = await cachedPeople(store, portalId);

  const queue: QueueItem[] = (await store.reviews.queue(portalId)).map(({ review, dealName, amount }) => ({
    reviewId: review.id,
    dealId: review.dealId,
    kind: review.kind,
    dealName,
    amount,
    status: statusAt(review, now),
    summary: review.summary,
    effortWeeks: review.effortWeeks,
    requestedBy: review.requestedBy,
    requester: people.person(review.requestedBy),
    requestedAt: new Date(review.requestedAt).toISOString(),
    dueAt: new Date(review.dueAt).toISOString(),
    remainingMs: review.dueAt - now,
  }));

  const figures = await store.reviews.decisionFigures(portalId, start, end, now);
  // SLA compliance: decisions this quarter made by their due time, over those decisions plus the
  // reviews waiting past their due time now (each a miss already, whenever it is answered).
  const slaTotal = figures.total + figures.waitingPastDue;
  const capacity = settings.capacity === null ? null : capacityView(settings.capacity, await store.reviews.quarterBooking(portalId, quarter, { limit: CAPACITY_LIST_LIMIT }));
  const deliveries = await deliveriesSummary(store, portalId, now);
  return {
    quarter,
    queue,
    decisionsThisQuarter: figures.byOutcome,
    medianHoursToDecision: figures.medianMsToDecision === null ? null : Math.round((figures.medianMsToDecision / HOUR_MS) * 10) / 10,
    slaCompliance: slaTotal === 0 ? null : Math.round((figures.withinSla / slaTotal) * 1000) / 1000,
    capacity,
    violationsByUser: (await store.gateViolations.countByUser(portalId, start)).map((v) => ({ ...v, person: people.person(v.userId) })),
    decisionsTotal: figures.total,
    overdueCount: figures.waitingPastDue,
    ...(await flagsAndRules(ctx, portalId, settings)),
    canEnforceBackfill: isAdmin(userId, settings),
    deliveries,
    sharedMetrics: await buildSharedMetrics(ctx, portalId, settings, { quarter, start, now }, { capacity, onTime: deliveries.onTime }),
    breakGlasses: await breakGlassesForHome(store, portalId, start),
    absences: (await listAbsences(ctx, caller)).absences,
    asOf: new Date(now).toISOString(),
  };
}

/** What the deal desk must look at besides the queue: flagged deals, ungated pipelines, the latest rule changes. */
async function flagsAndRules(ctx: GateStoreContext, portalId: number, settings: Settings) {
  const { store } = ctx;
  const changes = await store.settingsChanges.list(portalId, 20);
  const people = await cachedPeople(store, portalId);
  const authors = new Map<number, string>();
  for (const change of changes) authors.set(change.id, change.changedBy);
  const flags: DealFlagView[] = [];
  for (const flag of await store.dealFlags.listOpen(portalId, { limit: 100 })) flags.push({
    id: flag.id,
    dealId: flag.dealId,
    dealName: (await store.deals.get(portalId, flag.dealId))?.name ?? null,
    kind: flag.kind,
    reason: flag.reason,
    settingsChangeId: flag.settingsChangeId,
    settingsChangedBy: flag.settingsChangeId === null ? null : authors.get(flag.settingsChangeId) ?? null,
    settingsChangedByPerson: flag.settingsChangeId === null || !authors.has(flag.settingsChangeId) ? null : people.person(authors.get(flag.settingsChangeId) ?? ''),
    createdAt: new Date(flag.createdAt).toISOString(),
  });
  return {
    flags,
    flagCounts: await store.dealFlags.countOpen(portalId),
    ungatedPipelines: (await store.pipelines.list(portalId))
      .filter((p) => gateStageOf(p, settings) === null)
      .map((p) => ({ id: p.id, label: p.label })),
    settingsChanges: changes.map((change) => settingsChangeView(change, people)),
  };
}
