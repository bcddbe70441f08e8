/**
 * How a person is written in the texts people read (notes, tasks, audit reasons). Ids only for
 * now: the people work (issue 15, names for ids) replaces the body with the user's name, and every
 * text written through it follows.
 */
export function personLabel(userId: string): string {
  return `user ${userId}`;
}

/** "user 1, user 2 and user 3". */
export function peopleLabel(userIds: readonly string[]): string {
  const labels = userIds.map(personLabel);
  return labels.length <= 1 ? (labels[0] ?? '') : `${labels.slice(0, -1).join(', ')} and ${labels[labels.length - 1]}`;
}
