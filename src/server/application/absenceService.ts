import type { AbsenceBody, AbsencesResponse, AbsenceView } from '../../../extensions/contract/api';
import { conflict, forbidden, invalidRequest, notFound } from '../shared/errors';
import { isAbsentAt, MAX_ABSENCE_DAYS, type Absence } from '../domain/absence';
import { isAdmin, isDesignatedReviewer } from '../domain/roles';
import { effectiveSettings, type Caller, type GateStoreContext } from './context';
import { cachedPeople, type PeopleBook } from './people';

/**
 * Out of office (issue 15): POST, GET and DELETE /api/v1/absences. A reviewer records their own
 * absence, an admin anyone's; while it stands their requests and reminders go to the delegate,
 * who may decide their reviews (delegation.ts). Everyone on the account may list them: the card
 * says who is covering.
 */
const DAY_MS = 24 * 60 * 60 * 1000;

function badField(path: string, message: string) {
  return invalidRequest(`${path}: ${message}`, { issues: [{ path, message }] });
}

/** A date means midnight UTC; a date-time is taken as written. */
function timeOf(value: string): number {
  return Date.parse(value.length === 10 ? `${value}T00:00:00Z` : value);
}

function viewOf(absence: Absence, now: number, people: PeopleBook): AbsenceView {
  return {
    id: absence.id,
    userId: absence.userId,
    absent: people.person(absence.userId),
    delegateUserId: absence.delegateUserId,
    delegate: people.person(absence.delegateUserId),
    from: new Date(absence.startsAt).toISOString(),
    until: new Date(absence.endsAt).toISOString(),
    current: isAbsentAt(absence, now),
    createdBy: absence.createdBy,
    createdByPerson: people.person(absence.createdBy),
    createdAt: new Date(absence.createdAt).toISOString(),
  };
}

/** The dates: until after from, not over yet, at most MAX_ABSENCE_DAYS long. */
function periodOf(body: AbsenceBody, now: number): { startsAt: number; endsAt: number } {
  const startsAt = timeOf(body.from);
  const endsAt = timeOf(body.until);
  if (!(endsAt > startsAt)) throw badField('until', `must be after from (${body.from})`);
  if (!(endsAt > now)) throw badField('until', `${body.until} is already over; an absence is recorded for now or later`);
  if (endsAt - startsAt > MAX_ABSENCE_DAYS * DAY_MS) throw badField('until', `an absence lasts at most ${MAX_ABSENCE_DAYS} days; a longer one is a change of reviewers in the settings`);
  return { startsAt, endsAt };
}

/** POST /absences */
export async function recordAbsence(ctx: GateStoreContext, caller: Caller, body: AbsenceBody): Promise<AbsenceView> {
  const { store } = ctx;
  const { portalId, userId } = caller;
  const absentUserId = body.userId ?? userId;
  return await store.transaction(async () => {
    // One recording at a time per account, so two overlapping absences cannot both pass the check.
    await store.settings.lockForChange(portalId);
    const now = ctx.clock.now();
    const { settings } = await effectiveSettings(ctx, portalId);
    // Named as the account's people know them (the cached list: no HubSpot call in the transaction).
    const people = await cachedPeople(store, portalId, [userId, absentUserId, body.delegateUserId]);
    const personLabel = (id: string) => people.label(id);
    if (absentUserId !== userId && !isAdmin(userId, settings)) {
      throw forbidden(`you may record only your own absence; an admin records one for ${personLabel(absentUserId)}`);
    }
    // The caller is spoken to ("you"), anyone else named.
    const isYou = (id: string) => id === userId;
    if (!isDesignatedReviewer(absentUserId, settings)) {
      throw badField('userId', isYou(absentUserId) ? 'you are not a reviewer of this account, so you have no reviews to hand over' : `${personLabel(absentUserId)} is not a reviewer of this account, so has no reviews to hand over`);
    }
    if (body.delegateUserId === absentUserId) throw badField('delegateUserId', 'must be someone else than the absent reviewer');
    if (!isDesignatedReviewer(body.delegateUserId, settings)) {
      const who = isYou(body.delegateUserId) ? 'you are' : `${personLabel(body.delegateUserId)} is`;
      throw badField('delegateUserId', `${who} not a reviewer of this account; an admin adds reviewers in the settings`);
    }
    const { startsAt, endsAt } = periodOf(body, now);
    const clash = (await store.absences.overlapping(portalId, absentUserId, startsAt, endsAt))[0];
    if (clash) {
      throw conflict(`${isYou(absentUserId) ? 'you are' : `${personLabel(absentUserId)} is`} already away from ${new Date(clash.startsAt).toISOString()} until ${new Date(clash.endsAt).toISOString()} (absence ${clash.id}); end that one first`, { absenceId: clash.id });
    }
    const absence = await store.absences.insert(portalId, { userId: absentUserId, delegateUserId: body.delegateUserId, startsAt, endsAt, createdBy: userId, createdAt: now, cancelledAt: null, cancelledBy: null });
    return viewOf(absence, now, people);
  });
}

/** GET /absences */
export async function listAbsences(ctx: GateStoreContext, caller: Caller): Promise<AbsencesResponse> {
  const now = ctx.clock.now();
  const absences = await ctx.store.absences.listCurrentAndUpcoming(caller.portalId, now);
  const { settings } = await effectiveSettings(ctx, caller.portalId);
  const reviewers = [...new Set([...settings.reviewers, ...(settings.escalationReviewer === null ? [] : [settings.escalationReviewer])])];
  const people = await cachedPeople(ctx.store, caller.portalId, [...new Set([...reviewers, ...absences.flatMap((a) => [a.userId, a.delegateUserId, a.createdBy])])]);
  return {
    absences: absences.map((a) => viewOf(a, now, people)),
    reviewers: reviewers.map((id) => people.person(id)).sort((a, b) => people.label(a.userId).localeCompare(people.label(b.userId))),
    callerIsAdmin: isAdmin(caller.userId, settings),
    asOf: new Date(now).toISOString(),
  };
}

/** DELETE /absences/:absenceId: the absent reviewer, whoever recorded it, or an admin ends it now. */
export async function endAbsence(ctx: GateStoreContext, caller: Caller, absenceId: number): Promise<AbsencesResponse> {
  const { store } = ctx;
  const { portalId, userId } = caller;
  await store.transaction(async () => {
    const now = ctx.clock.now();
    const absence = await store.absences.get(portalId, absenceId);
    if (!absence) throw notFound(`absence ${absenceId} does not exist in this account`);
    const { settings } = await effectiveSettings(ctx, portalId);
    if (absence.userId !== userId && absence.createdBy !== userId && !isAdmin(userId, settings)) {
      const people = await cachedPeople(store, portalId, [absence.userId, absence.createdBy]);
      const recorder = absence.createdBy === absence.userId ? '' : `, ${people.label(absence.createdBy)} (who recorded it)`;
      throw forbidden(`only ${people.label(absence.userId)} (who is away)${recorder} or an admin can end absence ${absenceId}`);
    }
    if (absence.cancelledAt !== null || absence.endsAt <= now) throw conflict(`absence ${absenceId} has already ended`);
    await store.absences.cancel(portalId, absenceId, userId, now);
  });
  return await listAbsences(ctx, caller);
}
