import { effectiveSettings, type GateStoreContext } from './context';
import { evaluateGateForDeal, reconcileDealFacts } from './dealFacts';
import { flagTightened } from './settingsService';
import type { GatePort, ObservedDeal, RelaxedBy } from './enforcementGate';

/** Enforcement's view of the gate, answered by the gate's own functions (no gate logic here). */
export function gatePort(ctx: GateStoreContext): GatePort {
  return {
    async reconcile(portalId, deal, actor) {
      await reconcileDealFacts(ctx, portalId, deal.dealId, deal, actor);
    },

    async markDeleted(portalId, dealId, at) {
      const held = await ctx.store.deals.get(portalId, dealId);
      if (!held || held.deleted) return;
      await reconcileDealFacts(ctx, portalId, dealId, { ...held, observedAt: Math.max(at, held.sourceUpdatedAt), deleted: true }, 'hubspot');
    },

    async snapshot(portalId, dealId) {
      const held = await ctx.store.deals.get(portalId, dealId);
      if (!held || held.deleted) return undefined;
      return { ...held, observedAt: held.sourceUpdatedAt };
    },

    async judgeStageMove(portalId, deal, toStage) {
      // The gate's verdict on the deal sitting in `toStage`: past the gate without leave is not allowed.
      const evaluation = await evaluateGateForDeal(ctx, portalId, deal.dealId, { ...deal, stage: toStage });
      return {
        allowed: !(evaluation.pastGate && !evaluation.mayAdvance),
        pastGate: evaluation.pastGate,
        status: evaluation.status,
        reason: evaluation.reason,
        gateStage: evaluation.gateStage,
        inWonStage: evaluation.inWonStage,
        afterClose: evaluation.afterClose,
      };
    },

    relaxedBy: (portalId, deal) => relaxedBy(ctx, portalId, deal),

    tightenedSince: (portalId, deal, at) => tightenedSince(ctx, portalId, deal, at),

    async flagTightened(portalId, deal, change) {
      const evaluation = await evaluateGateForDeal(ctx, portalId, deal.dealId, deal);
      return await flagTightened(ctx, {
        portalId,
        deal,
        changeId: change.settingsChangeId,
        userId: change.changedBy,
        reason: evaluation.reason,
        stage: evaluation.gateStage?.label ?? null,
        now: ctx.clock.now(),
      });
    },

    async coverageEpoch(portalId, dealId) {
      let epoch = 0;
      for (const review of await ctx.store.reviews.listForDeal(portalId, dealId)) if (review.approvedAmount !== null) epoch = review.id;
      return epoch;
    },

    async escalationReviewer(portalId) {
      return (await effectiveSettings(ctx, portalId)).settings.escalationReviewer;
    },
  };
}

/**
 * The latest change of the gate's rule relaxed it so that this deal, which the rule before that
 * change would have stopped, may sit where it is: that change.
 */
async function relaxedBy(ctx: GateStoreContext, portalId: number, deal: ObservedDeal): Promise<RelaxedBy | undefined> {
  const change = await ctx.store.settingsChanges.latestGateChange(portalId);
  if (!change || (change.effect !== 'relaxed' && change.effect !== 'mixed') || deal.stage === null) return undefined;
  const before = await evaluateGateForDeal(ctx, portalId, deal.dealId, deal, change.before);
  if (!(before.pastGate && !before.mayAdvance)) return undefined;
  return { settingsChangeId: change.id, changedBy: change.changedBy, changedAt: change.changedAt };
}

/** The rule in force at `at` let the deal sit where it is and a later change tightened it so that it may not: that change. */
async function tightenedSince(ctx: GateStoreContext, portalId: number, deal: ObservedDeal, at: number): Promise<RelaxedBy | undefined> {
  const later = (await ctx.store.settingsChanges.since(portalId, at)).filter((c) => c.effect !== 'neutral');
  const first = later[0];
  if (!first || deal.stage === null) return undefined;
  const blocked = async (under: (typeof first)['before']) => {
    const evaluation = await evaluateGateForDeal(ctx, portalId, deal.dealId, deal, under);
    return evaluation.pastGate && !evaluation.mayAdvance;
  };
  if (await blocked(first.before)) return undefined;
  let change: (typeof later)[number] | undefined;
  for (const c of later) {
    if (await blocked(c.after)) {
      change = c;
      break;
    }
  }
  return change && { settingsChangeId: change.id, changedBy: change.changedBy, changedAt: change.changedAt };
}
