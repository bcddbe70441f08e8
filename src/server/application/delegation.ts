import type { CoveringView, Settings } from '../../../extensions/contract/api';
import { absencesAt, coverOf, coveredBy, routeToCover, type Absence } from '../domain/absence';
import { isDesignatedReviewer, type RoleSettings } from '../domain/roles';
import { triadMembers, triadOf } from '../domain/triad';
import type { Review } from '../domain/reviewLifecycle';
import type { Store } from '../storage/store';
import { cachedPeople, type PeopleBook } from './people';

/**
 * Who is asked and who is reminded while reviewers are away (issue 15): every assignment of a
 * review goes through here, so an absence routes requests, reminders and escalations to the
 * delegate alike.
 */

/**
 * The absences in force at `now`, by absent user; one whose delegate no longer reviews (an admin
 * took them off the reviewers since) hands nothing over, since its delegate could not decide.
 */
export async function absencesInForce(store: Store, portalId: number, now: number, settings: RoleSettings): Promise<Map<string, Absence>> {
  const standing = (await store.absences.listCurrentAndUpcoming(portalId, now)).filter((a) => isDesignatedReviewer(a.delegateUserId, settings));
  return absencesAt(standing, now);
}

/** Who a review asks, absences aside: the reviewers but the requester; the escalation reviewer when nobody else could answer. */
export function reviewAssignees(settings: Pick<Settings, 'reviewers' | 'escalationReviewer'>, requestedBy: string): string[] {
  const assignees = settings.reviewers.filter((id) => id !== requestedBy);
  if (assignees.length === 0 && settings.escalationReviewer !== null && settings.escalationReviewer !== requestedBy) assignees.push(settings.escalationReviewer);
  return assignees;
}

/**
 * Who a review asks at `now`: each assignee, or whoever covers for them. A delegate who requested
 * the review is left out; when that leaves nobody, the escalation reviewer (or their cover) is asked.
 */
export function routedAssignees(settings: Pick<Settings, 'reviewers' | 'escalationReviewer'>, requestedBy: string, inForce: ReadonlyMap<string, Absence>): string[] {
  const routed = routeToCover(reviewAssignees(settings, requestedBy), inForce, [requestedBy]);
  if (routed.length > 0 || settings.escalationReviewer === null) return routed;
  return routeToCover([settings.escalationReviewer], inForce, [requestedBy]);
}

/**
 * Who a waiting review asks now, for its tasks and its reminders alike: with the Triad on, its
 * members but the requester (they give their views and the decision maker makes the call;
 * absences do not route the Triad's work); off, the reviewers or whoever covers for them.
 */
export function askedNow(settings: Settings, requestedBy: string, inForce: ReadonlyMap<string, Absence>): string[] {
  const triad = triadOf(settings);
  return triad.enabled ? triadMembers(triad).filter((id) => id !== requestedBy) : routedAssignees(settings, requestedBy, inForce);
}

/** Who receives the escalation at `now`: the escalation reviewer or whoever covers for them (null: none is set). */
export function escalationCover(settings: Pick<Settings, 'escalationReviewer'>, inForce: ReadonlyMap<string, Absence>): string | null {
  return settings.escalationReviewer === null ? null : coverOf(settings.escalationReviewer, inForce);
}

/**
 * The absent reviewers `deciderId` covers for on this review at `now`: designated reviewers who
 * did not request it and whose absence hands their reviews to the decider. Empty: not a delegated
 * decision, as always with the Triad on (delegation does not apply to the Triad).
 */
export function coveringFor(review: Pick<Review, 'requestedBy'>, deciderId: string, settings: Settings, inForce: ReadonlyMap<string, Absence>): string[] {
  // With the Triad on, the decision maker decides in their own role: nobody's absence hands them the call.
  if (triadOf(settings).enabled) return [];
  return coveredBy(deciderId, inForce).filter((absent) => absent !== review.requestedBy && isDesignatedReviewer(absent, settings));
}

/** The card's line for a waiting review: each reviewer it asks who is away, and who covers until when (none with the Triad on). */
export function coveringView(review: Pick<Review, 'requestedBy'>, settings: Settings, inForce: ReadonlyMap<string, Absence>, people: Pick<PeopleBook, 'person'>): CoveringView[] {
  // With the Triad on, delegation does not apply: its members are asked, absent or not.
  if (triadOf(settings).enabled) return [];
  const asked = [...reviewAssignees(settings, review.requestedBy), ...(settings.escalationReviewer === null ? [] : [settings.escalationReviewer])];
  return [...new Set(asked)]
    .filter((userId) => inForce.has(userId))
    .map((userId) => coveringEntry(userId, coverOf(userId, inForce), inForce.get(userId)?.endsAt ?? 0, people))
    .filter((view) => view.delegateUserId !== view.absentUserId);
}

function coveringEntry(absentUserId: string, delegateUserId: string, endsAt: number, people: Pick<PeopleBook, 'person'>): CoveringView {
  return { absentUserId, absent: people.person(absentUserId), delegateUserId, delegate: people.person(delegateUserId), until: new Date(endsAt).toISOString() };
}

/** The card's covering line for an open review at `now`, naming the absent and their delegates (read from the cached people). */
export async function coveringOnCard(store: Store, portalId: number, review: Pick<Review, 'requestedBy'>, settings: Settings, now: number): Promise<CoveringView[]> {
  const inForce = await absencesInForce(store, portalId, now, settings);
  const named = [...inForce.values()].flatMap((a) => [a.userId, a.delegateUserId]);
  return coveringView(review, settings, inForce, await cachedPeople(store, portalId, [...new Set(named)]));
}
