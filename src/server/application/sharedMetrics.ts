import type { CapacityView, OnTimeQuarter, RepRef, RevenueGoalView, SalesSide, Settings, SharedMetrics } from '../../../extensions/contract/api';
import { DEFAULT_MAINTENANCE_SHARE, splitCapacity } from '../domain/capacityShares';
import { defaultMaintenanceShare } from '../../../extensions/contract/capacityShares';
import { capacityByShare, decisionsPerWeek, medianHoursPerWeek, onTimePerQuarter, revenueAgainstGoal } from '../domain/dashboardSeries';
import { revenueProgress } from '../domain/revenueGoal';
import type { GateStoreContext } from './context';

/**
 * The home page's shared metrics (issue 14): engineering's revenue goal, sales' side of the
 * bargain, and the series its charts draw. Read from Dealgate's own tables by the account and the
 * quarter (no HubSpot call): the quarter's decisions, its approved wins, its violations.
 */
export async function buildSharedMetrics(
  ctx: GateStoreContext,
  portalId: number,
  settings: Settings,
  quarter: { quarter: string; start: number; now: number },
  figures: { capacity: CapacityView | null; onTime: readonly OnTimeQuarter[] },
): Promise<SharedMetrics> {
  const { store } = ctx;
  const decisions = await store.metrics.decisionsIn(portalId, quarter.start, quarter.now + 1);
  const wins = await store.revenue.approvedWins(portalId, quarter.quarter);
  const goal = settings.revenueGoal ?? null;
  const split = settings.capacity === null ? null : splitCapacity({ ...settings.capacity, maintenanceShare: maintenanceShareOf(settings) });
  return {
    revenue: await revenueView(ctx, portalId, quarter.quarter, goal, wins),
    sales: await salesSide(ctx, portalId, quarter.start, figures.capacity),
    series: {
      decisionsPerWeek: decisionsPerWeek(decisions, quarter.start, quarter.now),
      medianHoursPerWeek: medianHoursPerWeek(decisions, quarter.start, quarter.now),
      capacityByShare: capacityByShare(split, figures.capacity?.usedWeeks ?? 0),
      onTimePerQuarter: onTimePerQuarter(figures.onTime),
      revenueAgainstGoal: revenueAgainstGoal(wins, goal, quarter.start, quarter.now),
    },
  };
}

/**
 * The share kept for maintenance and technical debt: the capacity setting's `maintenanceShare`;
 * for settings saved before it existed, its default (20%, or what a customer share above 80% leaves).
 */
export function maintenanceShareOf(settings: Settings): number {
  if (settings.capacity === null) return DEFAULT_MAINTENANCE_SHARE;
  return settings.capacity.maintenanceShare ?? defaultMaintenanceShare(settings.capacity.commitmentShare);
}

async function revenueView(ctx: GateStoreContext, portalId: number, quarter: string, goal: number | null, wins: Parameters<typeof revenueProgress>[2]): Promise<RevenueGoalView> {
  const progress = revenueProgress(quarter, goal, wins);
  // The recorded crossing is the moment (the deal that got the note) while it is of the current goal
  // and the quarter's approved wins still reach it; otherwise (no crossing, a goal changed since, a
  // win taken off) the goal is reached by the earliest win that got there, if any.
  const crossing = await ctx.store.revenue.crossing(portalId, quarter);
  const current = crossing !== undefined && goal !== null && crossing.goal === goal && progress.approvedAmount >= goal;
  const reached = current ? { dealId: crossing.dealId, at: crossing.crossedAt } : progress.reachedBy ? { dealId: progress.reachedBy.dealId, at: progress.reachedBy.wonAt } : null;
  const reachedBy = reached === null || goal === null ? null : { dealId: reached.dealId, dealName: (await ctx.store.deals.get(portalId, reached.dealId))?.name ?? null, at: new Date(reached.at).toISOString() };
  return {
    quarter,
    goal,
    // Dealgate does not read the account's company currency from HubSpot yet: amounts go without one.
    currency: null,
    approvedAmount: progress.approvedAmount,
    deliveredAmount: progress.deliveredAmount,
    progress: progress.progress === null ? null : Math.round(progress.progress * 1000) / 1000,
    reachedBy,
  };
}

/** Owner id -> the name (or email) the account's cached people give it. */
async function ownerNames(ctx: GateStoreContext, portalId: number): Promise<Map<string, string>> {
  const names = new Map<string, string>();
  for (const p of await ctx.store.people.list(portalId)) {
    if (p.ownerId === null) continue;
    const name = [p.firstName, p.lastName].filter((part): part is string => part !== null && part.trim() !== '').join(' ');
    const label = name !== '' ? name : p.email;
    if (label) names.set(p.ownerId, label);
  }
  return names;
}

function repOf(ownerId: string, owners: ReadonlyMap<string, string>): RepRef {
  const name = owners.get(ownerId);
  return name === undefined ? { ownerId } : { ownerId, name };
}

async function salesSide(ctx: GateStoreContext, portalId: number, since: number, capacity: CapacityView | null): Promise<SalesSide> {
  const violations = await ctx.store.metrics.violationsByOwner(portalId, since);
  const owners = violations.length === 0 ? new Map<string, string>() : await ownerNames(ctx, portalId);
  return {
    customerCapacityPromised:
      capacity === null
        ? null
        : {
            promisedWeeks: capacity.usedWeeks,
            customerWeeks: capacity.allocationWeeks,
            share: capacity.allocationWeeks > 0 ? Math.round((capacity.usedWeeks / capacity.allocationWeeks) * 1000) / 1000 : null,
          },
    // The rep by name where the account's people (HubSpot's owners, cached) know the owner.
    violationsByRep: violations.map((v) => ({ rep: v.ownerId === null ? null : repOf(v.ownerId, owners), count: v.count })),
  };
}
