import type { BreakGlassCard, BreakGlassView, DashboardResponse, GateEvaluation, Settings } from '../../../extensions/contract/api';
import { breakGlassRefusal, mayBreakGlass, type BreakGlass } from '../domain/breakGlass';
import type { LabelOf } from '../domain/personLabel';
import type { Review } from '../domain/reviewLifecycle';
import type { Store } from '../storage/store';
import { labelsOf } from './people';

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

/** The refusal of a caller who may not break the glass at all (the caller is always its subject). */
export const BREAK_GLASS_FORBIDDEN = 'only admins and the people the settings name for it (breakGlassUsers) may let a deal pass without review, and you are neither';

/**
 * Why the caller may not break the glass for the deal now, or null when they may. `label` names
 * who opened the deal's open break-glass (the caller is "you").
 */
export function breakGlassDenial(
  userId: string,
  settings: Settings,
  gate: Pick<GateEvaluation, 'reviewRequired' | 'reason' | 'status'>,
  latest: Pick<Review, 'id'> | undefined,
  open: BreakGlass | undefined,
  label: LabelOf,
): string | null {
  if (!mayBreakGlass(userId, settings)) return BREAK_GLASS_FORBIDDEN;
  const named = (id: string) => (id === userId ? 'you' : label(id));
  return breakGlassRefusal({ reviewRequired: gate.reviewRequired, reason: gate.reason, status: gate.status, latestReviewId: latest?.id ?? null, open }, named);
}

/** The card's part: the open break-glass (else the latest), and whether the caller may open one. */
export async function breakGlassCardOf(
  store: Store,
  input: { portalId: number; userId: string; dealId: string; dealName: string | null; settings: Settings; gate: GateEvaluation; latest: Review | undefined },
): Promise<BreakGlassCard> {
  const all = await store.breakGlasses.listForDeal(input.portalId, input.dealId);
  const open = all.find((g) => g.closedAt === null);
  const shown = open ?? all.at(-1);
  const denied = breakGlassDenial(input.userId, input.settings, input.gate, input.latest, open, await labelsOf(store, input.portalId, open === undefined ? [] : [open.openedBy]));
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
