import { labelOf } from './people';
import { describeActor } from './dealEventSource';
import type { Pipeline } from '../domain/gatePolicy';
import type { EnforcementContext } from './enforcementGate';

/** The account's stored pipelines, as enforcement looks stages up in them (a stage may sit in another pipeline). */

export async function pipelineOf(ctx: Pick<EnforcementContext, 'store'>, portalId: number, pipelineId: string | null): Promise<Pipeline | undefined> {
  const { store } = ctx;
  return pipelineId === null ? undefined : await store.pipelines.get(portalId, pipelineId);
}

export async function pipelineOfStage(ctx: Pick<EnforcementContext, 'store'>, portalId: number, pipelineId: string | null, stageId: string): Promise<Pipeline | undefined> {
  const { store } = ctx;
  const pipeline = await pipelineOf(ctx, portalId, pipelineId);
  return pipeline?.stages.some((s) => s.id === stageId) ? pipeline : (await store.pipelines.list(portalId)).find((p) => p.stages.some((s) => s.id === stageId));
}

export async function stageLabel(ctx: Pick<EnforcementContext, 'store'>, portalId: number, pipelineId: string | null, stageId: string): Promise<string> {
  return (await pipelineOfStage(ctx, portalId, pipelineId, stageId))?.stages.find((s) => s.id === stageId)?.label ?? stageId;
}

/** Who acted, as people read them: a user by name (the cached people), `hubspot` as an automation. */
export async function actorName(ctx: Pick<EnforcementContext, 'store'>, portalId: number, actor: string): Promise<string> {
  return /^\d+$/.test(actor) ? await labelOf(ctx.store, portalId, actor) : describeActor(actor);
}
