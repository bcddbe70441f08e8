import type { GateResponse } from '../../../extensions/contract/api';
import { conflict, forbidden, notFound } from '../shared/errors';
import { breakGlassUntil, mayBreakGlass } from '../domain/breakGlass';
import { noteOnDeal } from './deliveryEffects';
import { cachedPeople, labelsOf } from './people';
import { effectiveSettings, type Caller, type GateContext } from './context';
import { ensurePipelines, evaluateGateForDeal, loadDeal } from './dealFacts';
import { breakGlassOpenedNote } from './breakGlassNotes';
import { BREAK_GLASS_FORBIDDEN, breakGlassDenial } from './breakGlassView';
import { getGate } from './gateService';

/**
 * POST /deals/:dealId/break-glass (issue 15): an admin, or someone the settings name in
 * `breakGlassUsers`, lets one deal that needs a review nobody has answered pass the gate, saying
 * why, for a time box (default 72 hours, at most 7 days). One transaction holds the break-glass,
 * its audit entry and the note on the deal (who, why, until when). While it holds, enforcement
 * lets the deal's moves past the gate through (the gate policy reads it); when the box closes with
 * no decision, the expiry round (breakGlassExpiry.ts) hands the deal back to enforcement.
 */
export async function openBreakGlass(ctx: GateContext, caller: Caller, dealId: string, body: { reason: string; hours: number }): Promise<GateResponse> {
  const { store } = ctx;
  const { portalId, userId } = caller;
  const notAllowed = () => forbidden(BREAK_GLASS_FORBIDDEN);
  if (!mayBreakGlass(userId, (await effectiveSettings(ctx, portalId)).settings)) throw notAllowed();
  const loaded = await loadDeal(ctx, portalId, dealId);
  await ensurePipelines(ctx, portalId, loaded.snapshot.pipeline, loaded.snapshot.stage);
  await store.transaction(async () => {
    await store.deals.lockForChange(portalId, dealId);
    const now = ctx.clock.now();
    const snapshot = await store.deals.get(portalId, dealId);
    if (!snapshot) throw notFound(`deal ${dealId} is not known to Dealgate`);
    // Checked again inside the transaction: a settings save or another break-glass may have landed since.
    const { settings } = await effectiveSettings(ctx, portalId);
    if (!mayBreakGlass(userId, settings)) throw notAllowed();
    const gate = await evaluateGateForDeal(ctx, portalId, dealId, { ...snapshot, observedAt: snapshot.sourceUpdatedAt });
    const latest = await store.reviews.latestForDeal(portalId, dealId);
    const open = await store.breakGlasses.openForDeal(portalId, dealId);
    const refusal = breakGlassDenial(userId, settings, gate, latest, open, await labelsOf(store, portalId, open === undefined ? [] : [open.openedBy]));
    if (refusal !== null) throw conflict(refusal, { dealId });
    const until = breakGlassUntil(now, body.hours);
    const id = await store.breakGlasses.open({ portalId, dealId, openedBy: userId, reason: body.reason, openedAt: now, until });
    if (id === undefined) throw conflict('the deal already has an open break-glass', { dealId });
    // Named from the cached people (the database only, inside the transaction), else "user N".
    const by = (await cachedPeople(store, portalId, [userId])).label(userId);
    await store.audit.append(portalId, {
      dealId,
      reviewId: latest?.id ?? null,
      action: 'break_glass_opened',
      actor: userId,
      fromStatus: gate.status,
      toStatus: gate.status,
      reason: `${by} let the deal pass the gate without review until ${new Date(until).toISOString()}: ${body.reason}`,
      details: { breakGlassId: id, until, hours: body.hours },
      at: now,
    });
    await noteOnDeal(store, portalId, dealId, breakGlassOpenedNote({ reason: body.reason, until }, gate.gateStage?.label ?? null, by), `break_glass:${id}:note`, now);
  });
  return await getGate(ctx, caller, dealId);
}
