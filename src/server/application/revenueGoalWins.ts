import { SYSTEM_ACTOR } from '../domain/auditEntry';
import { quarterOf } from '../domain/capacityLedger';
import { approvalCovers, DEFAULT_AMOUNT_TOLERANCE, gateAmount, isWonStage } from '../domain/gatePolicy';
import { crossesGoal } from '../domain/revenueGoal';
import type { Logger } from '../shared/logger';
import { enqueueEffect } from '../storage/outboxStore';
import type { RevenueWin } from '../storage/revenueStore';
import type { TxStore } from '../storage/store';
import { escapeHtml } from './dealEffects';

/**
 * Engineering's revenue goal (issue 14, shared metrics), as deals are won: each time Dealgate has
 * applied a deal's facts (the inbox's enforcement path, in the transaction that marks the event
 * done), a deal in a won stage is recorded as won in the quarter it was won, with its amount and
 * whether an approval covered it; a deal no longer won is taken off. The approved win that takes
 * the quarter's approved amount from short of the goal to it is the moment: the crossing is
 * recorded once per account, quarter and goal (a goal the admin raised and a later win reached
 * replaces the crossing of the old one, and gets its own note), and only the transaction that recorded it
 * queues the note on that deal, so a redelivered event, a retry after a crash, a sweep finding the
 * same deal, or another instance, writes no second note.
 */
export interface RevenueWinDeps {
  store: TxStore;
  clock: { now(): number };
  logger: Logger;
}

export async function observeRevenueWin(deps: RevenueWinDeps, portalId: number, dealId: string, seenWonAt: number): Promise<void> {
  const { store } = deps;
  const snapshot = await store.deals.get(portalId, dealId);
  const pipeline = snapshot?.pipeline ? await store.pipelines.get(portalId, snapshot.pipeline) : undefined;
  const existing = await store.revenue.getWin(portalId, dealId);
  if (!snapshot || snapshot.deleted || !isWonStage(pipeline, snapshot.stage)) {
    if (existing) await store.revenue.removeWin(portalId, dealId);
    return;
  }
  const stored = await store.settings.get(portalId);
  const latest = await store.reviews.latestForDeal(portalId, dealId);
  const approved = approvalCovers(latest, snapshot, stored?.settings.amountTolerance ?? DEFAULT_AMOUNT_TOLERANCE);
  // A deal won once keeps the moment of its win (later events about it are not new wins).
  const wonAt = existing?.wonAt ?? seenWonAt;
  const win: RevenueWin = { dealId, quarter: quarterOf(wonAt), wonAt, amount: gateAmount(snapshot).amount ?? 0, approved, reviewId: approved && latest ? latest.id : null };
  if (existing && sameWin(existing, win)) return;
  const now = deps.clock.now();
  await store.revenue.lockQuarter(portalId, win.quarter);
  await store.revenue.saveWin(portalId, win, now);
  const goal = stored?.settings.revenueGoal ?? null;
  if (!win.approved || goal === null) return;
  const before = await store.revenue.approvedAmount(portalId, win.quarter, dealId);
  if (!crossesGoal(goal, before, win)) return;
  const crossing = { quarter: win.quarter, dealId, goal, approvedAmount: before + win.amount, crossedAt: now };
  if (!(await store.revenue.recordCrossing(portalId, crossing))) return;
  const body = goalReachedNote(crossing, snapshot.name);
  await enqueueEffect(store.outbox, { portalId, dealId, effect: { kind: 'create_note', payload: { body } }, dedupeKey: `revenue_goal:${win.quarter}:${goal}:note` }, now);
  await store.audit.append(portalId, {
    dealId,
    reviewId: win.reviewId,
    action: 'revenue_goal_reached',
    actor: SYSTEM_ACTOR,
    fromStatus: null,
    toStatus: null,
    reason: `this win took ${win.quarter}'s approved amount to ${formatAmount(crossing.approvedAmount)}, reaching engineering's revenue goal of ${formatAmount(goal)}`,
    details: { quarter: win.quarter, goal, approvedAmount: crossing.approvedAmount, amount: win.amount },
    at: now,
  });
  deps.logger.info({ portalId, dealId, quarter: win.quarter, goal }, "engineering's revenue goal reached");
}

function sameWin(a: RevenueWin, b: RevenueWin): boolean {
  return a.quarter === b.quarter && a.wonAt === b.wonAt && a.amount === b.amount && a.approved === b.approved && a.reviewId === b.reviewId;
}

const amountFormat = new Intl.NumberFormat('en-US', { maximumFractionDigits: 2 });
const formatAmount = (n: number): string => amountFormat.format(n);

export function goalReachedNote(crossing: { quarter: string; goal: number; approvedAmount: number }, dealName: string | null): string {
  return (
    `<p><strong>Dealgate: engineering's revenue goal for ${escapeHtml(crossing.quarter)} is reached</strong> with this deal${dealName ? ` (${escapeHtml(dealName)})` : ''}.</p>` +
    `<p>Deals won this quarter whose commitments engineering approved now add up to ${formatAmount(crossing.approvedAmount)}, against a goal of ${formatAmount(crossing.goal)}. The team celebrates.</p>`
  );
}
