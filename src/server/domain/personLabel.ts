/**
 * How a person is named in the words Dealgate writes (notes, audit reasons, refusals). Every
 * break-glass text names people through this one function, so names (issue 15, "people, not ids")
 * slot in here when Dealgate knows them; until then it is the HubSpot user id.
 */
export function personLabel(userId: string): string {
  return /^\d+$/.test(userId) ? `user ${userId}` : userId;
}

/** "user 1, user 2 and user 3"; with `label` (e.g. the cached people's), "Ada Lovelace and Edsger Dijkstra". */
export function peopleLabel(userIds: readonly string[], label: (userId: string) => string = personLabel): string {
  const labels = userIds.map((id) => label(id));
  return labels.length <= 1 ? (labels[0] ?? '') : `${labels.slice(0, -1).join(', ')} and ${labels[labels.length - 1]}`;
}
