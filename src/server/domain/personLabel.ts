/**
 * How a person is named with no names at hand: `user <id>` (a HubSpot user id), else the actor as
 * written. Where the application has the account's people (application/people.ts) it names them
 * by name instead (issue 15, "people, not ids"), passing a LabelOf to the rules that need one.
 */
export function personLabel(userId: string): string {
  return /^\d+$/.test(userId) ? `user ${userId}` : userId;
}

/** "user 1, user 2 and user 3"; with `label` (e.g. the cached people's), "Ada Lovelace and Edsger Dijkstra". */
export function peopleLabel(userIds: readonly string[], label: (userId: string) => string = personLabel): string {
  const labels = userIds.map((id) => label(id));
  return labels.length <= 1 ? (labels[0] ?? '') : `${labels.slice(0, -1).join(', ')} and ${labels[labels.length - 1]}`;
}

/**
 * How a rule's refusal names someone other than the caller (the caller is "you"). The domain holds
 * no names: the application passes the account's (application/people.ts, name else email else `user <id>`).
 */
export type LabelOf = (userId: string) => string;
