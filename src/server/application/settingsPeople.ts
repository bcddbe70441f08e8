import type { Settings } from '../../../extensions/contract/api';
import type { GateContext } from './context';
import { assertUsersOfAccount } from './people';

/** Everyone the settings name, each once: reviewers, admins, the escalation reviewer. */
export function namedInSettings(settings: Settings): string[] {
  return [...new Set([...settings.reviewers, ...settings.admins, ...(settings.escalationReviewer === null ? [] : [settings.escalationReviewer])])];
}

/**
 * A save may name only users of the account (issue 15: pickers, not typed ids). Only the people a
 * save adds are checked: someone already named who has left HubSpot since does not block every
 * later save of other fields (the settings page shows them by id, and an admin removes them).
 * Runs before the save's transaction: it may read HubSpot.
 */
export async function assertSettingsPeople(ctx: GateContext, portalId: number, before: Settings, next: Settings): Promise<void> {
  const added = (field: readonly string[], was: readonly string[]) => field.filter((id) => !was.includes(id));
  await assertUsersOfAccount(ctx, portalId, added(next.reviewers, before.reviewers), 'reviewers');
  await assertUsersOfAccount(ctx, portalId, added(next.admins, before.admins), 'admins');
  const escalation = next.escalationReviewer === null || next.escalationReviewer === before.escalationReviewer ? [] : [next.escalationReviewer];
  await assertUsersOfAccount(ctx, portalId, escalation, 'escalationReviewer');
}
