import { forbidden, invalidRequest } from '../shared/errors';
import type { RoleSettings } from './roles';

/**
 * The Triad and "disagree and commit" (issue 14; per account, off by default). When on, the
 * account names people for each role: the tech lead (can we build it, how long), the product
 * manager (should we build it), product marketing (can we sell it, for how much). Each records a
 * view; one role, the product manager by default, makes the final call (yes / yes-but / no) and
 * may make it before every view is in. A call against any view is a disagree-and-commit: the
 * dissent is kept and shown, and the deal's note says who decided and who disagreed.
 */
export const TRIAD_ROLES = ['tech_lead', 'product_manager', 'product_marketing'] as const;
export type TriadRole = (typeof TRIAD_ROLES)[number];

export const TRIAD_ROLE_NAMES: Record<TriadRole, string> = { tech_lead: 'tech lead', product_manager: 'product manager', product_marketing: 'product marketing' };

export interface TriadSettings {
  enabled: boolean;
  /** HubSpot user ids named for each role. */
  members: Record<TriadRole, readonly string[]>;
  decisionMaker: TriadRole;
}

export const TRIAD_OFF: TriadSettings = { enabled: false, members: { tech_lead: [], product_manager: [], product_marketing: [] }, decisionMaker: 'product_manager' };

/** The stances each role may take (the card's contract lists the same: application/wire.ts checks it). */
export const STANCES = {
  tech_lead: ['yes', 'yes_but', 'no'],
  product_manager: ['fits', 'does_not_fit'],
  product_marketing: ['can_sell', 'cannot_sell'],
} as const satisfies Record<TriadRole, readonly string[]>;

export interface PerspectiveInput {
  role: TriadRole;
  stance: string;
  note: string;
  /** Tech lead's yes-but: the weeks it takes. */
  weeks?: number | undefined;
  /** Product marketing: the value they can sell it at. */
  value?: number | undefined;
}

export interface Perspective extends PerspectiveInput {
  userId: string;
  at: number;
}

export type FinalOutcome = 'yes' | 'yes_but' | 'no';

const issue = (path: string, message: string) => invalidRequest(`${path}: ${message}`, { issues: [{ path, message }] });

/** 403 unless the Triad is on and the caller (`userId`) is named for `role`; the refusal speaks to the caller. */
export function assertMayGiveView(userId: string, role: TriadRole, settings: TriadSettings): void {
  if (!settings.enabled) throw forbidden('this account reviews with one designated reviewer: the Triad is off, so there are no views to record');
  if (!settings.members[role].includes(userId)) {
    throw forbidden(`you are not named as ${TRIAD_ROLE_NAMES[role]} of this account; an admin names the Triad in the settings`);
  }
}

/** 403 unless the caller (`userId`) holds the role that makes the call; the refusal speaks to the caller. */
export function assertMayMakeTheCall(userId: string, settings: TriadSettings): void {
  if (!settings.members[settings.decisionMaker].includes(userId)) {
    throw forbidden(`you do not make the call: the ${TRIAD_ROLE_NAMES[settings.decisionMaker]} does (an admin names them in the settings)`);
  }
}

/** A view well formed for its role: its stance, weeks only on a tech lead's yes-but (and then required), a value only from marketing. */
export function assertWellFormedView(input: PerspectiveInput): void {
  const stances: readonly string[] = STANCES[input.role];
  if (!stances.includes(input.stance)) throw issue('stance', `the ${TRIAD_ROLE_NAMES[input.role]} answers one of ${stances.join(', ')}`);
  const yesBut = input.role === 'tech_lead' && input.stance === 'yes_but';
  if (yesBut && !(input.weeks !== undefined && input.weeks > 0)) throw issue('weeks', 'a yes-but says how many weeks it takes (more than 0)');
  if (!yesBut && input.weeks !== undefined) throw issue('weeks', "weeks belong to the tech lead's yes-but");
  if (input.value !== undefined && (input.role !== 'product_marketing' || !(input.value >= 0))) {
    throw issue('value', 'a value (0 or more) is product marketing’s answer to “for how much”');
  }
  if ((input.stance === 'no' || input.stance === 'does_not_fit' || input.stance === 'cannot_sell') && input.note.trim() === '') {
    throw issue('note', 'a view against the commitment says why');
  }
}

/** Whether a view is for building it (a yes or yes-but, fits the roadmap, can be sold). */
export function supports(view: Pick<PerspectiveInput, 'stance'>): boolean {
  return view.stance === 'yes' || view.stance === 'yes_but' || view.stance === 'fits' || view.stance === 'can_sell';
}

export interface TriadCall {
  /** The call went against at least one view. */
  disagreeAndCommit: boolean;
  /** The views against the call, newest of each person. */
  dissent: Perspective[];
  /** The people named in the Triad who had not weighed in when the call was made (the card shows them while it is open). */
  notWeighedIn: { role: TriadRole; userId: string }[];
}

/** The people named for a role other than the call's maker who have given no view yet. */
export function notWeighedIn(settings: TriadSettings, views: readonly Perspective[]): { role: TriadRole; userId: string }[] {
  const heard = new Set(views.map((view) => `${view.role}/${view.userId}`));
  return TRIAD_ROLES.filter((role) => role !== settings.decisionMaker).flatMap((role) =>
    settings.members[role].filter((userId) => !heard.has(`${role}/${userId}`)).map((userId) => ({ role, userId })),
  );
}

/** The latest view of each person. */
export function latestViews(views: readonly Perspective[]): Perspective[] {
  const byPerson = new Map<string, Perspective>();
  for (const view of [...views].sort((a, b) => a.at - b.at)) byPerson.set(`${view.role}/${view.userId}`, view);
  return [...byPerson.values()];
}

/** What the final call means against the views recorded so far. */
export function judgeCall(outcome: FinalOutcome, views: readonly Perspective[], settings: TriadSettings): TriadCall {
  const latest = latestViews(views);
  const approving = outcome !== 'no';
  const dissent = latest.filter((view) => supports(view) !== approving);
  return { disagreeAndCommit: dissent.length > 0, dissent, notWeighedIn: notWeighedIn(settings, latest) };
}

/** The account's Triad: what it saved, else off (settings saved before the Triad existed). */
export function triadOf(settings: { triad?: TriadSettings | undefined }): TriadSettings {
  return settings.triad ?? TRIAD_OFF;
}

/** The role `userId` holds in the Triad (the settings refuse one person in two roles), or null. */
export function triadRoleOf(userId: string, settings: TriadSettings): TriadRole | null {
  return TRIAD_ROLES.find((role) => settings.members[role].includes(userId)) ?? null;
}

/** Who decides: with the Triad on, the decision maker's members alone (no escalation reviewer); off, the account's reviewers as today. */
export function decidingRoles<S extends RoleSettings>(settings: S, triad: TriadSettings): RoleSettings {
  if (!triad.enabled) return settings;
  return { reviewers: triad.members[triad.decisionMaker], admins: settings.admins, escalationReviewer: null };
}

/** Everyone named in the Triad, each once, in role order. */
export function triadMembers(settings: TriadSettings): string[] {
  return [...new Set(TRIAD_ROLES.flatMap((role) => settings.members[role]))];
}

/** Who an overdue review is escalated to: the decision maker with the Triad on (the SLA holds for the final call), else the escalation reviewer. */
export function escalationTargets(settings: RoleSettings, triad: TriadSettings, requestedBy: string): string[] {
  if (!triad.enabled) return settings.escalationReviewer === null ? [] : [settings.escalationReviewer];
  return triad.members[triad.decisionMaker].filter((userId) => userId !== requestedBy);
}
