import type { LoggedRequest } from '../../src/simulator';
import type { InboxEvent } from '../../src/server/storage/inboxStore';
import type { SweepEventPayload } from '../../src/server/application/sweepEvents';
import type { Stack } from '../support/stack';

/** What the sweep suites share: the search endpoint's calls, rate windows, the sweep events stored. */
export const SEARCH = 'POST /crm/v3/objects/deals/search';

/** The most requests that started within any `windowMs` (a sliding window over the log's start times). */
export function busiestWindow(log: readonly LoggedRequest[], windowMs: number): number {
  const times = log.map((r) => r.at).sort((a, b) => a - b);
  let most = 0;
  let first = 0;
  for (let last = 0; last < times.length; last += 1) {
    while ((times[last] as number) - (times[first] as number) >= windowMs) first += 1;
    most = Math.max(most, last - first + 1);
  }
  return most;
}

export const searches = (stack: Stack): LoggedRequest[] => stack.sim.requests.all().filter((r) => r.endpoint === SEARCH);

/** The account's sweep events in the inbox, oldest first. */
export async function sweepEvents(stack: Stack, mode?: 'backfill' | 'reconcile'): Promise<(InboxEvent & { sweep: SweepEventPayload })[]> {
  return (await stack.store.inbox.list({ portalId: stack.sim.portalId, limit: 100_000 }))
    .filter((e) => e.subscriptionType === 'dealgate.sweep' && (mode === undefined || e.propertyValue === mode))
    .map((e) => ({ ...e, sweep: JSON.parse(e.payload) as SweepEventPayload }))
    .reverse();
}

export interface OpsSweep {
  status: 'pending' | 'running' | 'finished';
  sweepId: string | null;
  checked: number;
  total: number | null;
  eventsStored: number;
  startedAt: string | null;
  finishedAt: string | null;
  lastError: string | null;
  watermark: string | null;
  nextAt: string;
}

export interface OpsSweeps {
  reconcileSeconds: number | null;
  accounts: { portalId: number; backfill: OpsSweep | null; reconcile: OpsSweep | null }[];
}

/** GET /ops/sweeps for the stack's account. */
export async function opsSweeps(stack: Stack): Promise<{ backfill: OpsSweep | null; reconcile: OpsSweep | null; reconcileSeconds: number | null }> {
  const { status, json } = await stack.ops<OpsSweeps>(`/ops/sweeps?portalId=${stack.sim.portalId}`);
  if (status !== 200) throw new Error(`GET /ops/sweeps answered ${status}`);
  const account = json.accounts.find((a) => a.portalId === stack.sim.portalId);
  return { backfill: account?.backfill ?? null, reconcile: account?.reconcile ?? null, reconcileSeconds: json.reconcileSeconds };
}
