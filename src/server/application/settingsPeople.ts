import { triadRoles, type Settings } from '../../../extensions/contract/api';
import type { GateContext } from './context';
import { assertUsersOfAccount } from './people';

/** The people the Triad names, role by role (none when the settings have no Triad). */
function triadPeople(settings: Settings): string[] {
  return triadRoles.flatMap((role) => settings.triad?.members[role] ?? []);
}

/** Everyone the settings name, each once: reviewers, admins, the escalation reviewer, the Triad's members, the people named for break-glass. */
export function namedInSettings(settings: Settings): string[] {
  return [
    ...new Set([
      ...settings.reviewers,
      ...settings.admins,
      ...(settings.escalationReviewer === null ? [] : [settings.escalationReviewer]),
      ...triadPeople(settings),
      ...(settings.breakGlassUsers ?? []),
    ]),
  ];
}

/**
 * A save may name only users of the account (issue 15: pickers, not typed ids). Only the people a
 * save adds are checked: someone already named who has left HubSpot since does not block every
 * later save of other fields (the settings page shows them by id, and an admin removes them).
 * Checked: the reviewers, the admins, the escalation reviewer, each Triad role's members
 * (`triad.members.<role>`) and the people named for break-glass (`breakGlassUsers`).
 * Runs before the save's transaction: it may read HubSpot.
 */
export async function assertSettingsPeople(ctx: GateContext, portalId: number, before: Settings, next: Settings): Promise<void> {
  const added = (field: readonly string[], was: readonly string[]) => field.filter((id) => !was.includes(id));
  await assertUsersOfAccount(ctx, portalId, added(next.reviewers, before.reviewers), 'reviewers');
  await assertUsersOfAccount(ctx, portalId, added(next.admins, before.admins), 'admins');
  const escalation = next.escalationReviewer === null || next.escalationReviewer === before.escalationReviewer ? [] : [next.escalationReviewer];
  await assertUsersOfAccount(ctx, portalId, escalation, 'escalationReviewer');
  for (const role of triadRoles) {
    await assertUsersOfAccount(ctx, portalId, added(next.triad?.members[role] ?? [], before.triad?.members[role] ?? []), `triad.members.${role}`);
  }
  await assertUsersOfAccount(ctx, portalId, added(next.breakGlassUsers ?? [], before.breakGlassUsers ?? []), 'breakGlassUsers');
}
