import { effectiveSettings, type GateStoreContext } from '../gate/context';
import { evaluateGateForDeal, reconcileDealFacts } from '../gate/dealFacts';
import { flagTightened } from '../gate/settingsService';
import type { GatePort } from './dealEvents';

/** Enforcement's view of the gate, answered by the gate's own functions (no gate logic here). */
export function gatePort(ctx: GateStoreContext): GatePort {
  return {
    reconcile(portalId, deal, actor) {
      reconcileDealFacts(
        ctx,
        portalId,
        deal.dealId,
        { ...deal, updatedAt: deal.observedAt, ...(deal.hubspotStatus !== undefined ? { status: deal.hubspotStatus } : {}) },
        actor,
      );
    },

    markDeleted(portalId, dealId, at) {
      const held = ctx.store.deals.get(portalId, dealId);
      if (!held || held.deleted) return;
      reconcileDealFacts(ctx, portalId, dealId, { ...held, updatedAt: Math.max(at, held.sourceUpdatedAt), deleted: true }, 'hubspot');
    },

    snapshot(portalId, dealId) {
      const held = ctx.store.deals.get(portalId, dealId);
      if (!held || held.deleted) return undefined;
      return { ...held, observedAt: held.sourceUpdatedAt };
    },

    judgeStageMove(portalId, deal, toStage) {
      // The gate's verdict on the deal sitting in `toStage`: past the gate without leave is not allowed.
      const evaluation = evaluateGateForDeal(ctx, portalId, deal.dealId, { ...deal, stage: toStage });
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

    relaxedBy(portalId, deal) {
      const change = ctx.store.settingsChanges.latestGateChange(portalId);
      if (!change || (change.effect !== 'relaxed' && change.effect !== 'mixed') || deal.stage === null) return undefined;
      const before = evaluateGateForDeal(ctx, portalId, deal.dealId, deal, change.before);
      if (!(before.pastGate && !before.mayAdvance)) return undefined;
      return { settingsChangeId: change.id, changedBy: change.changedBy, changedAt: change.changedAt };
    },

    tightenedSince(portalId, deal, at) {
      const later = ctx.store.settingsChanges.since(portalId, at).filter((c) => c.effect !== 'neutral');
      const first = later[0];
      if (!first || deal.stage === null) return undefined;
      const blocked = (under: (typeof first)['before']) => {
        const evaluation = evaluateGateForDeal(ctx, portalId, deal.dealId, deal, under);
        return evaluation.pastGate && !evaluation.mayAdvance;
      };
      if (blocked(first.before)) return undefined;
      const change = later.find((c) => blocked(c.after));
      return change && { settingsChangeId: change.id, changedBy: change.changedBy, changedAt: change.changedAt };
    },

    flagTightened(portalId, deal, change) {
      const evaluation = evaluateGateForDeal(ctx, portalId, deal.dealId, deal);
      return flagTightened(ctx, {
        portalId,
        deal,
        changeId: change.settingsChangeId,
        userId: change.changedBy,
        reason: evaluation.reason,
        stage: evaluation.gateStage?.label ?? null,
        now: ctx.clock.now(),
      });
    },

    coverageEpoch(portalId, dealId) {
      let epoch = 0;
      for (const review of ctx.store.reviews.listForDeal(portalId, dealId)) if (review.approvedAmount !== null) epoch = review.id;
      return epoch;
    },

    escalationReviewer(portalId) {
      return effectiveSettings(ctx, portalId).settings.escalationReviewer;
    },
  };
}
