import type { Clock } from '../shared/clock';
import type { AccountDefaults } from '../config/config';
import { SYSTEM_ACTOR } from '../domain/auditEntry';
import { breakGlassEndAt, type BreakGlass } from '../domain/breakGlass';
import type { Logger } from '../shared/logger';
import type { Store } from '../storage/store';
import { SWEEP_SUBSCRIPTION } from './dealEvents';
import { breakGlassExpiredNote } from './breakGlassNotes';
import { noteOnDeal } from './deliveryEffects';
import { cachedPeople } from './people';

/**
 * The end of a break-glass (issue 15), a round on the holder of the `sla` lease: an open one whose
 * box ran out with no decision is closed as expired (an audit entry, a note on the deal), one a
 * reviewer decided within its box as decided (an audit entry). Either way the deal goes back to
 * enforcement the way a periodic sweep hands it over: an inbox event that the deal-event handler
 * applies on the deal as HubSpot has it then (webhooks/dealEvents.ts, mode `reconcile`). A deal past
 * the gate without sign-off is then moved back, with its violation, once per passage; an approved
 * one, or one before the gate, is left alone. The close is a conditional update in the transaction
 * of the rest, so each break-glass ends once however often, and on however many instances, it runs.
 */
export interface BreakGlassExpiryDeps {
  store: Store;
  clock: Clock;
  logger: Logger;
  defaults: AccountDefaults;
}

/** The open break-glasses one round looks at (they are few: one per deal, at most 7 days each). */
const PER_ROUND = 500;

async function endOne(deps: BreakGlassExpiryDeps, glass: BreakGlass): Promise<boolean> {
  const { store, clock } = deps;
  return await store.transaction(async () => {
    await store.deals.lockForChange(glass.portalId, glass.dealId);
    const now = clock.now();
    const current = await store.breakGlasses.openForDeal(glass.portalId, glass.dealId);
    if (!current || current.id !== glass.id) return false;
    const latest = await store.reviews.latestForDeal(glass.portalId, glass.dealId);
    const end = breakGlassEndAt(current, latest, now);
    if (end === null || !(await store.breakGlasses.close(glass.portalId, glass.id, end, now))) return false;
    // Named from the cached people (the database only, inside the transaction), else "user N".
    const by = (await cachedPeople(store, glass.portalId, [glass.openedBy])).label(glass.openedBy);
    await store.audit.append(glass.portalId, {
      dealId: glass.dealId,
      reviewId: latest?.id ?? null,
      action: end === 'expired' ? 'break_glass_expired' : 'break_glass_decided',
      actor: SYSTEM_ACTOR,
      fromStatus: null,
      toStatus: null,
      reason:
        end === 'expired'
          ? `the break-glass by ${by} ended at ${new Date(glass.until).toISOString()} with no decision: the deal is judged like any other past the gate`
          : `review #${latest?.id ?? '?'} was decided within the break-glass by ${by}: the decision speaks for the deal now`,
      details: { breakGlassId: glass.id, until: glass.until, openedBy: glass.openedBy },
      at: now,
    });
    if (end === 'expired') await noteOnDeal(store, glass.portalId, glass.dealId, breakGlassExpiredNote(glass, by), `break_glass:${glass.id}:expired:note`, now);
    await store.inbox.insertBatch(
      [
        {
          portalId: glass.portalId,
          eventKey: `break_glass:${glass.id}:${end}`,
          objectId: glass.dealId,
          subscriptionType: SWEEP_SUBSCRIPTION,
          propertyName: null,
          propertyValue: 'reconcile',
          changeSource: 'DEALGATE_SWEEP',
          sourceId: null,
          occurredAt: now,
          payload: JSON.stringify({ mode: 'reconcile', breakGlassId: glass.id, end, portalId: glass.portalId, objectId: glass.dealId }),
        },
      ],
      now,
    );
    return true;
  });
}

/** One pass over every account; returns how many break-glasses it ended. */
export async function endBreakGlasses(deps: BreakGlassExpiryDeps): Promise<number> {
  let ended = 0;
  for (const glass of await deps.store.breakGlasses.listOpenEverywhere(PER_ROUND)) {
    try {
      if (await endOne(deps, glass)) ended += 1;
    } catch (error) {
      deps.logger.error({ err: error, portalId: glass.portalId, breakGlassId: glass.id }, 'ending a break-glass failed; trying again next round');
    }
  }
  return ended;
}
