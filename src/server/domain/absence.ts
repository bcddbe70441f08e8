/**
 * A reviewer's absence (out of office): from `startsAt` until `endsAt` (epoch ms, end excluded)
 * their review requests and reminders go to `delegateUserId`, who may decide in their place; each
 * decision the delegate makes then says whom it covered for. Pure: no storage, no HTTP.
 */
export interface Absence {
  id: number;
  userId: string;
  delegateUserId: string;
  startsAt: number;
  endsAt: number;
  createdBy: string;
  createdAt: number;
  /** Ended early (DELETE); null while it stands. */
  cancelledAt: number | null;
  cancelledBy: string | null;
}

/** At most this long: a longer absence is a change of reviewers, which the settings make. */
export const MAX_ABSENCE_DAYS = 180;

export function isAbsentAt(absence: Pick<Absence, 'startsAt' | 'endsAt' | 'cancelledAt'>, at: number): boolean {
  return absence.cancelledAt === null && absence.startsAt <= at && at < absence.endsAt;
}

/** The absences in force at `at`, by absent user (an overlapping second one is refused when recorded). */
export function absencesAt(absences: readonly Absence[], at: number): Map<string, Absence> {
  const byUser = new Map<string, Absence>();
  for (const absence of absences) if (isAbsentAt(absence, at) && !byUser.has(absence.userId)) byUser.set(absence.userId, absence);
  return byUser;
}

/**
 * Who acts for `userId` at `at`: the user, or their delegate, or the delegate's delegate when the
 * delegate is away too. When the chain comes back to someone already in it (two reviewers who
 * delegated to each other and are both away), nobody in it is present: the user stays assigned.
 */
export function coverOf(userId: string, inForce: ReadonlyMap<string, Absence>): string {
  const seen = new Set<string>([userId]);
  let current = userId;
  for (let absence = inForce.get(current); absence !== undefined; absence = inForce.get(current)) {
    current = absence.delegateUserId;
    if (seen.has(current)) return userId;
    seen.add(current);
  }
  return current;
}

/** Assignees with each absent one replaced by who covers, in order, without repeats, leaving out `excluded` (the requester). */
export function routeToCover(assignees: readonly string[], inForce: ReadonlyMap<string, Absence>, excluded: readonly string[] = []): string[] {
  const routed: string[] = [];
  for (const assignee of assignees) {
    const cover = coverOf(assignee, inForce);
    if (!excluded.includes(cover) && !routed.includes(cover)) routed.push(cover);
  }
  return routed;
}

/** The absent users `userId` covers for at `at` (directly or down a chain), in the order of `inForce`. */
export function coveredBy(userId: string, inForce: ReadonlyMap<string, Absence>): string[] {
  return [...inForce.keys()].filter((absent) => absent !== userId && coverOf(absent, inForce) === userId);
}
