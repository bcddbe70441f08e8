import { DealgateError } from '../shared/errors';
import { classifyHubSpotError, type HubSpotGateway } from '../hubspot/gateway';
import type { GateContext } from './context';

/**
 * HubSpot assigns deals to owners (`hubspot_owner_id`), while people act as users: a deal's owner
 * is mapped to its user id through the account's owners (GET /crm/v3/owners), cached per account
 * for ten minutes. HubSpot's owner id and user id differ (HUBSPOT.md, Owners).
 */
const OWNER_CACHE_MS = 10 * 60_000;
const caches = new WeakMap<HubSpotGateway, Map<number, { at: number; userIdByOwnerId: Map<string, string> }>>();

export async function ownerUserIdOf(ctx: Pick<GateContext, 'gateway' | 'clock'>, portalId: number, ownerId: string): Promise<string | null> {
  let byPortal = caches.get(ctx.gateway);
  if (!byPortal) {
    byPortal = new Map();
    caches.set(ctx.gateway, byPortal);
  }
  const cached = byPortal.get(portalId);
  const now = ctx.clock.now();
  if (cached && now - cached.at < OWNER_CACHE_MS && cached.userIdByOwnerId.has(ownerId)) return cached.userIdByOwnerId.get(ownerId) ?? null;
  let owners;
  try {
    owners = await ctx.gateway.getOwners(portalId);
  } catch (error) {
    // Who owns the deal decides whether this is a self-approval: without the answer, refuse.
    const info = classifyHubSpotError(error);
    throw new DealgateError('hubspot_unavailable', `HubSpot did not answer the read of the account's owners${info.status ? ` (HTTP ${info.status})` : ''}: ${info.message}`);
  }
  const userIdByOwnerId = new Map<string, string>();
  for (const owner of owners) if (owner.userId !== null) userIdByOwnerId.set(owner.id, owner.userId);
  byPortal.set(portalId, { at: now, userIdByOwnerId });
  return userIdByOwnerId.get(ownerId) ?? null;
}
