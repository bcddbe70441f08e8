import type { BackfillProgress } from '../../../extensions/contract/api';
import type { Store } from '../storage/store';
import type { SweepState } from '../storage/sweepStore';
import { sweepIdOf } from './dealSweeps';

/** What the settings page and GET /ops/sweeps show of the sweeps' state. */

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

/** The install sweep as the settings page shows it ("Checking existing deals: 1,200 of 5,000"). */
export async function backfillProgressOf(store: Store, portalId: number): Promise<BackfillProgress | null> {
  const state = await store.sweeps.get(portalId, 'backfill');
  if (!state) return null;
  return {
    status: state.status,
    checked: state.checked,
    total: state.total === null ? null : Math.max(state.total, state.checked),
    startedAt: iso(state.startedAt),
    finishedAt: iso(state.finishedAt),
    lastError: state.status === 'finished' ? null : state.lastError,
  };
}

export interface SweepView {
  status: SweepState['status'];
  /** The current (or last) pass, as its inbox events name it. */
  sweepId: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  checked: number;
  total: number | null;
  /** Inbox events the pass stored (the rest had been stored already, by an earlier pass or the other sweep). */
  eventsStored: number;
  /** When it goes on (a pause, a retry, the next reconciliation). */
  nextAt: string;
  attempts: number;
  lastError: string | null;
  /** Reconciliation: HubSpot modification time up to which every change has been swept. */
  watermark: string | null;
}

export function sweepView(state: SweepState): SweepView {
  return {
    status: state.status,
    sweepId: state.run === 0 ? null : sweepIdOf(state),
    startedAt: iso(state.startedAt),
    finishedAt: iso(state.finishedAt),
    checked: state.checked,
    total: state.total === null ? null : Math.max(state.total, state.checked),
    eventsStored: state.inserted,
    nextAt: new Date(state.nextAt).toISOString(),
    attempts: state.attempts,
    lastError: state.lastError,
    watermark: iso(state.watermark),
  };
}

export interface AccountSweepsView {
  portalId: number;
  backfill: SweepView | null;
  reconcile: SweepView | null;
}

/** GET /ops/sweeps: every account's sweeps (or one account's). */
export async function accountSweeps(store: Store, portalId?: number): Promise<AccountSweepsView[]> {
  const byAccount = new Map<number, AccountSweepsView>();
  for (const state of await store.sweeps.list(portalId)) {
    let view = byAccount.get(state.portalId);
    if (!view) {
      view = { portalId: state.portalId, backfill: null, reconcile: null };
      byAccount.set(state.portalId, view);
    }
    view[state.kind] = sweepView(state);
  }
  return [...byAccount.values()];
}
