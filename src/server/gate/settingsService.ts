import { settingsBody, type PipelineView, type Settings, type SettingsResponse } from '../../../extensions/contract/api';
import { forbidden, invalidRequest } from '../errors';
import { gateStageOf, gateStatusOf, reviewRequirement, type Pipeline } from '../domain/gatePolicy';
import { isAdmin } from '../domain/roles';
import { validate } from '../http/validate';
import { effectiveSettings, type Caller, type GateContext, type GateStoreContext } from './context';
import { ensurePipelines } from './dealFacts';
import { projectStatus } from './dealEffects';

/**
 * The account's settings as the settings page shows and saves them. Everyone on the account may
 * read them (the card explains who reviews and what the threshold is); only admins change them.
 * A gate stage is picked from the pipelines HubSpot has, and a change of threshold re-evaluates
 * every deal Dealgate knows, so HubSpot's `dealgate_status` follows the new rule.
 */

function pipelineViews(pipelines: readonly Pipeline[], settings: Settings): PipelineView[] {
  return pipelines.map((p) => ({
    id: p.id,
    label: p.label,
    stages: [...p.stages]
      .sort((a, b) => a.displayOrder - b.displayOrder)
      .map((s) => ({ id: s.id, label: s.label, displayOrder: s.displayOrder, isClosed: s.isClosed, isLost: s.isLost })),
    gateStageId: gateStageOf(p, settings)?.id ?? null,
  }));
}

function respond(ctx: GateStoreContext, caller: Caller): SettingsResponse {
  const { settings, updatedAt, updatedBy } = effectiveSettings(ctx, caller.portalId);
  return {
    settings,
    pipelines: pipelineViews(ctx.store.pipelines.list(caller.portalId), settings),
    updatedAt: updatedAt === null ? null : new Date(updatedAt).toISOString(),
    updatedBy,
    canEdit: isAdmin(caller.userId, settings),
  };
}

/** GET /settings */
export async function getSettings(ctx: GateContext, caller: Caller): Promise<SettingsResponse> {
  await ensurePipelines(ctx, caller.portalId, null, null);
  return respond(ctx, caller);
}

function fieldError(path: string, message: string) {
  return invalidRequest(`${path}: ${message}`, { issues: [{ path, message }] });
}

/** Each explicit gate stage names a pipeline of the account and one of its open stages. */
function assertRealGateStages(pipelines: readonly Pipeline[], gateStages: Record<string, string>): void {
  for (const [pipelineId, stageId] of Object.entries(gateStages)) {
    const path = `gateStages.${pipelineId}`;
    const pipeline = pipelines.find((p) => p.id === pipelineId);
    if (!pipeline) throw fieldError(path, `"${pipelineId}" is not a deal pipeline of this HubSpot account`);
    const stage = pipeline.stages.find((s) => s.id === stageId);
    if (!stage) throw fieldError(path, `"${stageId}" is not a stage of the pipeline "${pipeline.label}"`);
    if (stage.isClosed) throw fieldError(path, `"${stage.label}" is a closed stage; the gate must be an open stage deals pass through`);
  }
}

const unique = (ids: readonly string[]) => [...new Set(ids)];

/** PUT /settings: admins only; validated, saved, and every known deal re-evaluated under the new rule. */
export async function putSettings(ctx: GateContext, caller: Caller, body: unknown): Promise<SettingsResponse> {
  const { portalId, userId } = caller;
  const before = effectiveSettings(ctx, portalId).settings;
  if (!isAdmin(userId, before)) {
    throw forbidden(`only admins change Dealgate's settings; user ${userId} is not one of this account's admins`);
  }
  const parsed = validate(settingsBody, body);
  const next: Settings = { ...parsed, reviewers: unique(parsed.reviewers), admins: unique(parsed.admins) };
  for (const [pipelineId, stageId] of Object.entries(next.gateStages)) {
    await ensurePipelines(ctx, portalId, pipelineId, stageId);
  }
  await ensurePipelines(ctx, portalId, null, null);

  const { store } = ctx;
  store.transaction(() => {
    // Checked inside the transaction, against the same pipelines the response shows.
    assertRealGateStages(store.pipelines.list(portalId), next.gateStages);
    const now = ctx.clock.now();
    store.settings.put(portalId, next, now, userId);
    if (before.valueThreshold === next.valueThreshold) return;
    for (const deal of store.deals.list(portalId)) {
      const latest = store.reviews.latestForDeal(portalId, deal.dealId);
      const was = gateStatusOf(deal, reviewRequirement(deal, before.valueThreshold), latest, now);
      const requirement = reviewRequirement(deal, next.valueThreshold);
      const is = gateStatusOf(deal, requirement, latest, now);
      if (was === is) continue;
      store.audit.append(portalId, {
        dealId: deal.dealId,
        reviewId: latest?.id ?? null,
        action: 'gate_status_changed',
        actor: userId,
        fromStatus: was,
        toStatus: is,
        reason: `the threshold changed from ${before.valueThreshold} to ${next.valueThreshold}: ${requirement.reason}`,
        details: { amount: deal.amount, threshold: next.valueThreshold, previousThreshold: before.valueThreshold },
        at: now,
      });
      const decision = latest ? store.reviews.decisionFor(portalId, latest.id) : undefined;
      projectStatus(store, portalId, deal.dealId, is, decision, now);
    }
  });
  return respond(ctx, caller);
}
