import type { BreakGlassCard, BreakGlassView, DashboardResponse, GateEvaluation, Settings } from '../../../extensions/contract/api';
import { breakGlassRefusal, mayBreakGlass, type BreakGlass } from '../domain/breakGlass';
import { personLabel } from '../domain/personLabel';
import type { Review } from '../domain/reviewLifecycle';
import type { Store } from '../storage/store';

/** Break-glasses as the card and the home page show them (issue 15). */

const iso = (ms: number) => new Date(ms).toISOString();

export function breakGlassView(glass: BreakGlass, dealName: string | null): BreakGlassView {
  return {
    id: glass.id,
    dealId: glass.dealId,
    dealName,
    openedBy: glass.openedBy,
    reason: glass.reason,
    openedAt: iso(glass.openedAt),
    until: iso(glass.until),
    open: glass.closedAt === null,
    closedAt: glass.closedAt === null ? null : iso(glass.closedAt),
    closedAs: glass.closedAs,
  };
}

export function breakGlassForbidden(userId: string): string {
  return `only admins and the people the settings name for it (breakGlassUsers) may let a deal pass without review; ${personLabel(userId)} is neither`;
}

/** Why the caller may not break the glass for the deal now, or null when they may. */
export function breakGlassDenial(userId: string, settings: Settings, gate: Pick<GateEvaluation, 'reviewRequired' | 'reason' | 'status'>, latest: Pick<Review, 'id'> | undefined, open: BreakGlass | undefined): string | null {
  if (!mayBreakGlass(userId, settings)) return breakGlassForbidden(userId);
  return breakGlassRefusal({ reviewRequired: gate.reviewRequired, reason: gate.reason, status: gate.status, latestReviewId: latest?.id ?? null, open }, personLabel);
}

/** The card's part: the open break-glass (else the latest), and whether the caller may open one. */
export async function breakGlassCardOf(
  store: Store,
  input: { portalId: number; userId: string; dealId: string; dealName: string | null; settings: Settings; gate: GateEvaluation; latest: Review | undefined },
): Promise<BreakGlassCard> {
  const all = await store.breakGlasses.listForDeal(input.portalId, input.dealId);
  const open = all.find((g) => g.closedAt === null);
  const shown = open ?? all.at(-1);
  const denied = breakGlassDenial(input.userId, input.settings, input.gate, input.latest, open);
  return { latest: shown ? breakGlassView(shown, input.dealName) : null, canOpen: denied === null, denied };
}

/** The home page's part: the open ones (who, why, until when), and how many each person opened since `since`. */
export async function breakGlassesForHome(store: Store, portalId: number, since: number): Promise<DashboardResponse['breakGlasses']> {
  const open: BreakGlassView[] = [];
  for (const glass of await store.breakGlasses.listOpen(portalId, 100)) {
    open.push(breakGlassView(glass, (await store.deals.get(portalId, glass.dealId))?.name ?? null));
  }
  return { open, byPerson: await store.breakGlasses.countByOpener(portalId, since) };
}
