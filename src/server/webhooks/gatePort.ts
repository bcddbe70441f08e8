import type { GateStoreContext } from '../gate/context';
import { evaluateGateForDeal, reconcileDealFacts } from '../gate/dealFacts';
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
      };
    },
  };
}
