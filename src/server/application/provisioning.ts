import type { Clock } from '../shared/clock';
import { notInstalled } from '../shared/errors';
import type { Logger } from '../shared/logger';
import type { Store } from '../storage/store';
import type { HubSpotGateway, PipelineInfo } from '../hubspot/gateway';
import { DEALGATE_PROPERTIES, DEALGATE_PROPERTY_GROUP } from './dealgateProperties';

/**
 * First contact with an account (an install, its first webhook or card request): create the
 * `dealgate` property group and properties (an existing one is fine) and read the pipelines, so
 * each pipeline's gate stage is known. Done once per account (accounts.provisioned_at), one
 * attempt at a time; a failure is retried at the next contact.
 */
export interface AccountProvisioner {
  ensureReady(portalId: number): Promise<void>;
  /** Reads the pipelines again (a stage Dealgate does not know appeared); at most once a minute per account. */
  refreshPipelines(portalId: number, options?: { force?: boolean }): Promise<boolean>;
}

export interface AccountProvisionerDeps {
  store: Store;
  gateway: HubSpotGateway;
  clock: Clock;
  logger: Logger;
  /**
   * Whether Dealgate holds credentials for the account (HubSpotClients.serves). Asked only of an
   * account it has no record of, which is then the static token's own and recorded as static; any
   * other account must install through OAuth.
   */
  serves: (portalId: number) => Promise<boolean>;
  savePipelines: (portalId: number, pipelines: PipelineInfo[], at: number) => Promise<void>;
  /** Pipelines are read again at most this often per account. Default PIPELINE_REFRESH_INTERVAL_MS. */
  pipelineRefreshIntervalMs?: number;
}

export const PIPELINE_REFRESH_INTERVAL_MS = 60_000;

export function createAccountProvisioner(deps: AccountProvisionerDeps): AccountProvisioner {
  const { store, gateway, clock, logger } = deps;
  const ready = new Set<number>();
  const inFlight = new Map<number, Promise<void>>();
  const pipelinesReadAt = new Map<number, number>();
  const refreshIntervalMs = deps.pipelineRefreshIntervalMs ?? PIPELINE_REFRESH_INTERVAL_MS;

  async function readPipelines(portalId: number): Promise<void> {
    const pipelines = await gateway.getPipelines(portalId);
    const at = clock.now();
    await store.transaction(async () => await deps.savePipelines(portalId, pipelines, at));
    pipelinesReadAt.set(portalId, at);
  }

  /**
   * When the account's pipelines were last read from HubSpot, by any instance: the time this one
   * started its last read (so that reads it has in flight count), or the one stored with the
   * pipelines by whichever instance read them. Several instances then read them at most once per
   * interval between them, not once each.
   */
  async function lastPipelineRead(portalId: number): Promise<number> {
    return Math.max(pipelinesReadAt.get(portalId) ?? 0, (await store.pipelines.fetchedAt(portalId)) ?? 0);
  }

  async function provision(portalId: number): Promise<void> {
    const now = clock.now();
    let account = await store.accounts.get(portalId);
    if (!account) {
      if (!(await deps.serves(portalId))) {
        throw notInstalled(portalId);
      }
      await store.accounts.upsert({
        portalId,
        authMode: 'static',
        accessTokenEnc: null,
        refreshTokenEnc: null,
        tokenExpiresAt: null,
        scopes: null,
        installedAt: now,
        provisionedAt: null,
        updatedAt: now,
      });
      account = await store.accounts.get(portalId);
    }
    if (account?.provisionedAt) {
      ready.add(portalId);
      return;
    }
    await gateway.ensureProperties(portalId, DEALGATE_PROPERTY_GROUP, DEALGATE_PROPERTIES);
    await readPipelines(portalId);
    await store.accounts.markProvisioned(portalId, clock.now());
    ready.add(portalId);
    logger.info({ portalId }, 'account provisioned: dealgate properties exist and pipelines are read');
  }

  return {
    async ensureReady(portalId) {
      if (ready.has(portalId)) return;
      let pending = inFlight.get(portalId);
      if (!pending) {
        pending = provision(portalId).finally(() => inFlight.delete(portalId));
        inFlight.set(portalId, pending);
      }
      await pending;
    },

    async refreshPipelines(portalId, options = {}) {
      if (!options.force && clock.now() - (await lastPipelineRead(portalId)) < refreshIntervalMs) return false;
      pipelinesReadAt.set(portalId, clock.now());
      await readPipelines(portalId);
      logger.info({ portalId }, 'pipelines read again');
      return true;
    },
  };
}
