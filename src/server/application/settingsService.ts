import { settingsBody, type PipelineView, type Settings, type SettingsChangeView, type SettingsFieldChange, type SettingsResponse } from '../../../extensions/contract/api';
import { forbidden, invalidRequest } from '../shared/errors';
import { evaluateGate, gateAmount, gateStageOf, gateStatusOf, reviewRequirement, type Pipeline } from '../domain/gatePolicy';
import { enqueueEffect } from '../storage/outboxStore';
import type { DealSnapshot } from '../storage/dealSnapshotStore';
import type { SettingsChange, SettingsEffect } from '../storage/settingsChangeStore';
import { isAdmin } from '../domain/roles';
import { validate } from '../shared/validation';
import { triggerChangeEffect, triggerSettingsIssue } from '../domain/reviewTrigger';
import { remindersOf } from '../domain/reminderPoints';
import { effectiveSettings, type Caller, type GateContext, type GateStoreContext } from './context';
import { ensurePipelines } from './dealFacts';
import { backfillProgressOf } from './sweepProgress';
import { escapeHtml, flagCause, projectStatus, resolveFlags } from './dealEffects';
import { cachedPeople, labelOf, type PeopleBook } from '../application/people';
import { assertSettingsPeople, namedInSettings } from '../application/settingsPeople';

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
    ungated: gateStageOf(p, settings) === null,
  }));
}

/** Pipelines whose deals no gate stops, in words for the settings and home pages. */
export function ungatedWarnings(pipelines: readonly Pipeline[], settings: Settings): string[] {
  return pipelines
    .filter((p) => gateStageOf(p, settings) === null)
    .map(
      (p) =>
        `Pipeline "${p.label}" has no gate stage (no stage label contains "${settings.gateStageLabel}" and none is chosen): its deals are not gated. Choose its gate stage below.`,
    );
}

export function settingsChangeView(change: SettingsChange, people: PeopleBook): SettingsChangeView {
  return { id: change.id, changedBy: change.changedBy, changedByPerson: people.person(change.changedBy), changedAt: new Date(change.changedAt).toISOString(), fields: change.fields, effect: change.effect };
}

async function respond(ctx: GateStoreContext, caller: Caller): Promise<SettingsResponse> {
  const { settings, updatedAt, updatedBy } = await effectiveSettings(ctx, caller.portalId);
  const pipelines = await ctx.store.pipelines.list(caller.portalId);
  const changes = await ctx.store.settingsChanges.list(caller.portalId, 20);
  const people = await cachedPeople(ctx.store, caller.portalId, [...namedInSettings(settings), ...changes.map((c) => c.changedBy), ...(updatedBy === null ? [] : [updatedBy])]);
  return {
    settings,
    warnings: ungatedWarnings(pipelines, settings),
    changes: changes.map((change) => settingsChangeView(change, people)),
    pipelines: pipelineViews(pipelines, settings),
    updatedAt: updatedAt === null ? null : new Date(updatedAt).toISOString(),
    updatedBy,
    updatedByPerson: updatedBy === null ? null : people.person(updatedBy),
    people: namedInSettings(settings).map((id) => people.person(id)),
    canEdit: isAdmin(caller.userId, settings),
    backfill: await backfillProgressOf(ctx.store, caller.portalId),
  };
}

/** GET /settings */
export async function getSettings(ctx: GateContext, caller: Caller): Promise<SettingsResponse> {
  await ensurePipelines(ctx, caller.portalId, null, null);
  return await respond(ctx, caller);
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
  const notAdmin = () => forbidden("only admins change Dealgate's settings, and you are not one of this account's admins");
  const current = (await effectiveSettings(ctx, portalId)).settings;
  if (!isAdmin(userId, current)) throw notAdmin();
  const parsed = validate(settingsBody, body);
  const triggerIssue = triggerSettingsIssue(parsed);
  if (triggerIssue) throw fieldError(triggerIssue.path, triggerIssue.message);
  const next: Settings = { ...parsed, reviewers: unique(parsed.reviewers), admins: unique(parsed.admins) };
  await assertSettingsPeople(ctx, portalId, current, next);
  for (const [pipelineId, stageId] of Object.entries(next.gateStages)) {
    await ensurePipelines(ctx, portalId, pipelineId, stageId);
  }
  await ensurePipelines(ctx, portalId, null, null);

  const { store } = ctx;
  await store.transaction(async () => {
    // What this save replaces is read inside its transaction: another save may have landed since
    // the check above (the awaits in between), and the change is recorded, classified (relaxed or
    // tightened) and enforced against what it replaced.
    await store.settings.lockForChange(portalId);
    const before = (await effectiveSettings(ctx, portalId)).settings;
    if (!isAdmin(userId, before)) throw notAdmin();
    // Checked inside the transaction, against the same pipelines the response shows.
    const pipelines = await store.pipelines.list(portalId);
    assertRealGateStages(pipelines, next.gateStages);
    const now = ctx.clock.now();
    const fields = changedFields(before, next);
    await store.settings.put(portalId, next, now, userId);
    if (fields.length === 0) return;
    const effect = gateEffect(before, next, pipelines);
    const changeId = await store.settingsChanges.record({ portalId, changedBy: userId, changedAt: now, before, after: next, fields, effect });
    await store.audit.append(portalId, {
      dealId: '',
      reviewId: null,
      action: 'settings_changed',
      actor: userId,
      fromStatus: null,
      toStatus: null,
      reason: `settings change #${changeId} (${effect}): ${fields.map((f) => `${f.field} ${JSON.stringify(f.before)} -> ${JSON.stringify(f.after)}`).join('; ')}`,
      details: { settingsChangeId: changeId, effect },
      at: now,
    });
    if (effect !== 'neutral') await reevaluateDeals(ctx, { portalId, userId, before, next, changeId, now });
  });
  return await respond(ctx, caller);
}

const GATE_FIELDS = ['valueThreshold', 'amountTolerance', 'gateStageLabel', 'gateStages', 'effortThreshold', 'triggerMode'] as const;

/** Each top-level field whose value changed, before and after. */
export function changedFields(before: Settings, after: Settings): SettingsFieldChange[] {
  // Reminders left out of a document are the defaults (issue 15): saving them unchanged is no change.
  const withReminders = (s: Settings): Settings => ({ ...s, reminders: remindersOf(s) });
  const [was, is] = [withReminders(before), withReminders(after)];
  const keys = [...new Set([...Object.keys(was), ...Object.keys(is)])] as (keyof Settings)[];
  return keys
    .filter((k) => JSON.stringify(was[k] ?? null) !== JSON.stringify(is[k] ?? null))
    .map((k) => ({ field: k, before: was[k] ?? null, after: is[k] ?? null }));
}

/**
 * Whether a change lets more deals through the gate (relaxed), fewer (tightened), both in
 * different places (mixed), or leaves the gate's rule as it was (neutral): the threshold and the
 * tolerance up or down, and each pipeline's gate stage later, earlier, gone or new.
 */
export function gateEffect(before: Settings, after: Settings, pipelines: readonly Pipeline[]): SettingsEffect {
  let relaxed = false;
  let tightened = false;
  const compare = (was: number, is: number) => {
    if (is > was) relaxed = true;
    if (is < was) tightened = true;
  };
  compare(before.valueThreshold, after.valueThreshold);
  compare(before.amountTolerance, after.amountTolerance);
  const trigger = triggerChangeEffect(before, after);
  relaxed ||= trigger.relaxed;
  tightened ||= trigger.tightened;
  for (const pipeline of pipelines) {
    const was = gateStageOf(pipeline, before);
    const is = gateStageOf(pipeline, after);
    if (was === null && is !== null) tightened = true;
    else if (was !== null && is === null) relaxed = true;
    else if (was !== null && is !== null) compare(was.displayOrder, is.displayOrder);
  }
  if (!GATE_FIELDS.some((f) => JSON.stringify(before[f]) !== JSON.stringify(after[f]))) return 'neutral';
  return relaxed && tightened ? 'mixed' : relaxed ? 'relaxed' : tightened ? 'tightened' : 'neutral';
}

/**
 * After a change of the gate's rule, every deal Dealgate knows gets the status the new rule gives
 * it (HubSpot's `dealgate_status` follows); a deal already past the gate that now needs review is
 * flagged (listed, a task for its owner), not moved: its passage was legal when it happened.
 */
async function reevaluateDeals(
  ctx: GateStoreContext,
  input: { portalId: number; userId: string; before: Settings; next: Settings; changeId: number; now: number },
): Promise<void> {
  const { store } = ctx;
  const { portalId, userId, before, next, changeId, now } = input;
  const author = await labelOf(store, portalId, userId);
  for (const deal of await store.deals.list(portalId)) {
    const latest = await store.reviews.latestForDeal(portalId, deal.dealId);
    const was = gateStatusOf(deal, reviewRequirement(deal, before), latest, now, before.amountTolerance);
    const requirement = reviewRequirement(deal, next);
    const is = gateStatusOf(deal, requirement, latest, now, next.amountTolerance);
    if (was !== is) {
      await store.audit.append(portalId, {
        dealId: deal.dealId,
        reviewId: latest?.id ?? null,
        action: 'gate_status_changed',
        actor: userId,
        fromStatus: was,
        toStatus: is,
        reason: `settings change #${changeId} by ${author}${before.valueThreshold !== next.valueThreshold ? ` (the threshold changed from ${before.valueThreshold} to ${next.valueThreshold})` : ''}: ${requirement.reason}`,
        details: { amount: gateAmount(deal).amount, threshold: next.valueThreshold, previousThreshold: before.valueThreshold, settingsChangeId: changeId },
        at: now,
      });
      const decision = latest ? await store.reviews.decisionFor(portalId, latest.id) : undefined;
      await projectStatus(store, portalId, deal.dealId, is, decision, now);
    }
    const pipeline = deal.pipeline ? await store.pipelines.get(portalId, deal.pipeline) : undefined;
    const then = evaluateGate({ facts: deal, pipeline, settings: before, latest, now });
    const nowEval = evaluateGate({ facts: deal, pipeline, settings: next, latest, now });
    if (nowEval.pastGate && !nowEval.mayAdvance && !(then.pastGate && !then.mayAdvance)) {
      await flagTightened(ctx, { portalId, deal, changeId, userId, reason: nowEval.reason, stage: nowEval.gateStage?.label ?? null, now });
    } else if (!(nowEval.pastGate && !nowEval.mayAdvance)) {
      await resolveFlags(store, portalId, deal.dealId, ['after_close', 'backfill', 'rules_tightened'], `settings change #${changeId} no longer requires a review`, now);
    }
  }
}

/** Flags a deal past the gate whose passage a later change of the rule made unlawful: listed, a note, a task for its owner; once per change. */
export async function flagTightened(
  ctx: GateStoreContext,
  input: { portalId: number; deal: Pick<DealSnapshot, 'dealId' | 'name' | 'ownerId'>; changeId: number; userId: string; reason: string; stage: string | null; now: number },
): Promise<boolean> {
  const { store } = ctx;
  const { portalId, deal, changeId, userId, now } = input;
  const author = await labelOf(store, portalId, userId);
  const reason = `past the gate${input.stage ? ` (${input.stage})` : ''} without sign-off since settings change #${changeId} by ${author} tightened the rule: ${input.reason}`;
  const key = `tightened:${changeId}:${deal.dealId}`;
  const flagId = await store.dealFlags.record({ portalId, dealId: deal.dealId, kind: 'rules_tightened', reason, settingsChangeId: changeId, dedupeKey: key }, now);
  if (flagId === undefined) return false;
  const body =
    `<p><strong>Dealgate: this deal now needs a technical review.</strong></p>` +
    `<p>It passed the gate when the rules allowed it; settings change #${changeId} by ${escapeHtml(author)} tightened them: ${escapeHtml(input.reason)}.</p>` +
    `<p>It stays where it is. Request a technical review from the Dealgate card.</p>`;
  await enqueueEffect(store.outbox, { portalId, dealId: deal.dealId, effect: { kind: 'create_note', payload: { body } }, dedupeKey: `${key}:note` }, now);
  if (deal.ownerId !== null) {
    await enqueueEffect(
      store.outbox,
      {
        portalId,
        dealId: deal.dealId,
        effect: { kind: 'create_task', payload: { subject: `Technical review needed: ${deal.name ?? `deal ${deal.dealId}`}`, body, ownerId: deal.ownerId, ownerUserId: null, dueAt: now + 48 * 3_600_000 } },
        dedupeKey: `${key}:task`,
        cause: flagCause(flagId),
      },
      now,
    );
  }
  return true;
}
