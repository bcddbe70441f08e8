import type { BackfillProgress } from '../contract/api';
import { formatWhen } from '../card/gateWording';

/**
 * The settings page's line about the install sweep: Dealgate checks the deals that already sat
 * past the gate with a commitment when it was installed (it flags them; it never moves them).
 */
const count = (n: number) => n.toLocaleString('en-US');

export function backfillLine(progress: BackfillProgress): string {
  if (progress.status === 'finished') {
    const when = progress.finishedAt ? ` (finished ${formatWhen(progress.finishedAt)})` : '';
    return `Checked existing deals: ${count(progress.checked)} past the gate with a commitment${when}.`;
  }
  const waiting = progress.lastError ? ` Waiting for HubSpot (${progress.lastError}); it goes on by itself.` : '';
  if (progress.status === 'pending' || progress.total === null) return `Checking existing deals: starting.${waiting}`;
  return `Checking existing deals: ${count(progress.checked)} of ${count(Math.max(progress.total, progress.checked))}.${waiting}`;
}
