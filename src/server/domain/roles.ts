import type { Role } from './vocabulary';

/** Who may do what, from the account's settings. Anyone who can open the deal acts as a rep. */
export interface RoleSettings {
  reviewers: readonly string[];
  admins: readonly string[];
  escalationReviewer: string | null;
}

export function rolesOf(userId: string, settings: RoleSettings): Role[] {
  const roles: Role[] = ['rep'];
  if (settings.reviewers.includes(userId)) roles.push('reviewer');
  if (settings.escalationReviewer === userId) roles.push('escalation_reviewer');
  if (settings.admins.includes(userId)) roles.push('admin');
  return roles;
}

/** Designated reviewers decide; the escalation reviewer, who receives overdue reviews, does too. */
export function isDesignatedReviewer(userId: string, settings: RoleSettings): boolean {
  return settings.reviewers.includes(userId) || settings.escalationReviewer === userId;
}

export function isAdmin(userId: string, settings: RoleSettings): boolean {
  return settings.admins.includes(userId);
}
