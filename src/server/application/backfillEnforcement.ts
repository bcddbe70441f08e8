import { labelOf } from '../application/people';
import type { EnforceBackfillResponse } from '../../../extensions/contract/api';
import { forbidden } from '../shared/errors';
import { isAdmin } from '../domain/roles';
import { SWEEP_SUBSCRIPTION } from './dealEvents';
import { effectiveSettings, type Caller, type GateStoreContext } from './context';

/**
 * POST /flags/backfill/enforce: an admin has the deals the install sweep flagged (they predate
 * Dealgate, so it never moved them) enforced like any other deal past the gate: open stages moved
 * back, won ones by afterClose. Each flag becomes an inbox event that the deal-event handler
 * applies on the deal as HubSpot has it then (a deal covered or moved back since is left alone),
 * so the enforcement is durable, deduplicated and paced like webhooks are.
 */
export async function enforceBackfill(ctx: GateStoreContext, caller: Caller): Promise<EnforceBackfillResponse> {
  const { store } = ctx;
  const { portalId, userId } = caller;
  const { settings } = await effectiveSettings(ctx, portalId);
  if (!isAdmin(userId, settings)) {
    throw forbidden("only admins enforce the deals found at install, and you are not one of this account's admins");
  }
  const now = ctx.clock.now();
  // All of them: "one admin action enforces them" (an install sweep of a large account flags tens of thousands).
  const flags = await store.dealFlags.listOpen(portalId, { kind: 'backfill', limit: Number.MAX_SAFE_INTEGER });
  const queued = await store.inbox.insertBatch(
    flags.map((flag) => ({
      portalId,
      eventKey: `enforce:${flag.id}`,
      objectId: flag.dealId,
      subscriptionType: SWEEP_SUBSCRIPTION,
      propertyName: null,
      propertyValue: 'enforce',
      changeSource: 'DEALGATE_SWEEP',
      sourceId: null,
      occurredAt: now,
      payload: JSON.stringify({ mode: 'enforce', flagId: flag.id, actor: userId, portalId, objectId: flag.dealId }),
    })),
    now,
  );
  const enforcer = await labelOf(store, portalId, userId);
  await store.transaction(async () =>
    await store.audit.append(portalId, {
      dealId: '',
      reviewId: null,
      action: 'backfill_enforced',
      actor: userId,
      fromStatus: null,
      toStatus: null,
      reason: `${enforcer} had the ${flags.length} deal${flags.length === 1 ? '' : 's'} found at install enforced (${settings.afterClose === 'flag' ? 'open stages moved back, won deals flagged' : 'moved back to before the gate'})`,
      details: { flags: flags.length, queued },
      at: now,
    }),
  );
  return { flagged: flags.length, queued, afterClose: settings.afterClose };
}
