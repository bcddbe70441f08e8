import type { Settings } from '../../../extensions/contract/api';
import type { Clock } from '../shared/clock';
import type { AccountDefaults } from '../config/config';
import type { HubSpotGateway } from '../hubspot/gateway';
import type { Logger } from '../shared/logger';
import type { Store } from '../storage/store';

/** What the synchronous gate functions need: the store, the time, the account defaults. */
export interface GateStoreContext {
  store: Store;
  clock: Clock;
  defaults: AccountDefaults;
}

/** What the card-facing functions need on top: HubSpot, for deals and pipelines Dealgate has not seen. */
export interface GateContext extends GateStoreContext {
  gateway: HubSpotGateway;
  logger: Logger;
}

/** The user behind a verified card request. */
export interface Caller {
  portalId: number;
  userId: string;
}

export interface EffectiveSettings {
  settings: Settings;
  updatedAt: number | null;
  updatedBy: string | null;
}

/**
 * The account's settings: what an admin saved, else the service's DEALGATE_* defaults. Defaults
 * are not written down until an admin saves, so an account whose default admin list is empty gets
 * its first admin as soon as DEALGATE_ADMINS is set.
 */
export async function effectiveSettings(ctx: GateStoreContext, portalId: number): Promise<EffectiveSettings> {
  const stored = await ctx.store.settings.get(portalId);
  if (stored) return { settings: stored.settings, updatedAt: stored.updatedAt, updatedBy: stored.updatedBy };
  const d = ctx.defaults;
  return {
    settings: {
      valueThreshold: d.valueThreshold,
      slaHours: d.slaHours,
      reviewers: [...d.reviewers],
      admins: [...d.admins],
      escalationReviewer: d.escalationReviewer ?? null,
      gateStageLabel: d.gateStageLabel,
      gateStages: {},
      capacity: null,
      amountTolerance: 0.1,
      afterClose: 'revert',
    },
    updatedAt: null,
    updatedBy: null,
  };
}
