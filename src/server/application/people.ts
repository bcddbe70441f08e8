import { personLabel, type PeopleResponse, type Person, type Settings } from '../../../extensions/contract/api';
import { isOpenReview, type Review } from '../domain/reviewLifecycle';
import type { LabelOf } from '../domain/personLabel';
import { triadMembers, triadOf } from '../domain/triad';
import { DealgateError, invalidRequest } from '../shared/errors';
import { classifyHubSpotError, type HubSpotOwner } from '../hubspot/gateway';
import type { GateContext } from './context';
import type { StoredPerson } from '../storage/peopleStore';
import { HubSpotCallInTransactionError } from '../storage/transactionScope';
import type { TxStore } from '../storage/store';
import { pausableTimeout } from '../hubspot/callTimeout';

/**
 * The account's people, so that everything a person reads names people instead of HubSpot user
 * ids (issue 15). They come from HubSpot's owners list (GET /crm/v3/owners, scope
 * crm.objects.owners.read, which Dealgate holds already): every user who can own records, with
 * user id, name and email. (The settings users API would need another scope, settings.users.read,
 * and tells no more that Dealgate shows.) The list is kept in the database (`people`, migration
 * 23), shared by every instance, and read again from HubSpot when older than PEOPLE_REFRESH_MS:
 * a rename in HubSpot shows in Dealgate within that interval.
 *
 * HubSpot is only ever called outside a store transaction (the gateway refuses otherwise): the
 * card API, the inbox worker (per account's batch) and the SLA worker (per escalation) refresh a
 * stale list first, then open their transactions and read the cached list in them by key
 * (`cachedPeople`, `labelOf`). The overdue-delivery round reads the cache only.
 */
export const PEOPLE_REFRESH_MS = 10 * 60_000;
/** After a failed read, this instance leaves HubSpot's owners alone this long, so that every card request does not wait for HubSpot failing again. */
export const PEOPLE_RETRY_AFTER_FAILURE_MS = 60_000;
/** A refresh HubSpot does not answer in this long is given up on; the card goes on with the cached list. */
export const PEOPLE_READ_TIMEOUT_MS = 5_000;

// When each account's read last failed, per store (one per running instance): in memory, as it
// only spares this instance's requests.
const failedReadsByStore = new WeakMap<object, Map<number, number>>();
function failedReads(store: object): Map<number, number> {
  let failures = failedReadsByStore.get(store);
  if (!failures) failedReadsByStore.set(store, (failures = new Map()));
  return failures;
}

/** The account's people by user id; an id HubSpot knows nothing about is a Person with no name. */
export class PeopleBook {
  private readonly byUserId: Map<string, Person>;
  private readonly deactivated: Set<string>;

  constructor(
    people: readonly StoredPerson[],
    readonly refreshedAt: number | null,
  ) {
    this.byUserId = new Map(people.map((p) => [p.userId, toPerson(p)]));
    this.deactivated = new Set(people.filter((p) => p.deactivated).map((p) => p.userId));
  }

  /** Whether `userId` is one of the account's users now (a deactivated one is not: named, never picked). */
  has(userId: string): boolean {
    return this.byUserId.has(userId) && !this.deactivated.has(userId);
  }

  /** Whether `userId` was a user of the account whom HubSpot has deactivated since. */
  isDeactivated(userId: string): boolean {
    return this.deactivated.has(userId);
  }

  person(userId: string): Person {
    return this.byUserId.get(userId) ?? { userId, name: null, email: null };
  }

  /** The name, else the email, else `user <id>`. */
  label(userId: string): string {
    return personLabel(this.person(userId));
  }

  /** Everyone who is a user now (the deactivated left out), by name (then user id). */
  all(): Person[] {
    return [...this.byUserId.values()].filter((p) => !this.deactivated.has(p.userId)).sort((a, b) => personLabel(a).localeCompare(personLabel(b)) || a.userId.localeCompare(b.userId));
  }
}

function toPerson(p: StoredPerson): Person {
  const name = [p.firstName, p.lastName].filter((part): part is string => part !== null && part.trim() !== '').join(' ');
  return { userId: p.userId, name: name === '' ? null : name, email: p.email };
}

/**
 * The cached list, from the database only (no HubSpot): usable inside a transaction. `only`: just
 * these user ids, read by key (what a card or a note names), not the whole account.
 */
export async function cachedPeople(store: TxStore, portalId: number, only?: readonly string[]): Promise<PeopleBook> {
  if (only !== undefined) return new PeopleBook(await store.people.find(portalId, only), null);
  const [people, refreshedAt] = await Promise.all([store.people.list(portalId), store.people.refreshedAt(portalId)]);
  return new PeopleBook(people, refreshedAt);
}

/** HubSpot's owners as the cache keeps them (an owner with no user id names nobody). */
function storedOwners(owners: readonly HubSpotOwner[], deactivated: boolean): StoredPerson[] {
  return owners.flatMap((o) => (o.userId === null ? [] : [{ userId: o.userId, ownerId: o.id, firstName: o.firstName, lastName: o.lastName, email: o.email, deactivated }]));
}

/** A read of several pages within PEOPLE_READ_TIMEOUT_MS, the waits for the permits between its pages (a rate pause can last 10 s) not counted. */
function readPaced<T>(read: (pace: (() => Promise<unknown>) | undefined) => Promise<T>, paceNext: (() => Promise<unknown>) | undefined): Promise<T> {
  const bound = pausableTimeout(PEOPLE_READ_TIMEOUT_MS);
  return bound.race(read(paceNext ? () => bound.paused(paceNext) : undefined));
}

/**
 * Reads the account's owners from HubSpot, then those of its deactivated users (archived owners,
 * kept for their names: what they did still names them), and replaces the cached list. `paceNext`:
 * awaited before each request after the first (a caller that counts HubSpot's budget per request
 * draws a permit for each). Throws what HubSpot answered to the active owners' read; the archived
 * read is best-effort: when it fails, the deactivated people cached before stay, and it is logged.
 */
export async function refreshPeople(ctx: Pick<GateContext, 'store' | 'gateway' | 'clock' | 'logger'>, portalId: number, paceNext?: () => Promise<unknown>): Promise<void> {
  const owners = await readPaced((pace) => ctx.gateway.getOwners(portalId, pace), paceNext);
  const active = new Set(owners.flatMap((o) => (o.userId === null ? [] : [o.userId])));
  const people = storedOwners(owners, false);
  let gone: StoredPerson[];
  try {
    await paceNext?.();
    const archived = await readPaced((pace) => ctx.gateway.getDeactivatedOwners(portalId, pace), paceNext);
    // Their owner id stays (deals still name it in hubspot_owner_id); nothing is assigned from this list.
    gone = storedOwners(archived, true);
  } catch (error) {
    if (error instanceof HubSpotCallInTransactionError) throw error;
    const info = classifyHubSpotError(error);
    ctx.logger.warn({ portalId, status: info.status, error: info.message }, "could not read the account's deactivated owners; keeping those cached before");
    gone = (await ctx.store.people.list(portalId)).filter((p) => p.deactivated);
  }
  // A user listed active wins over an archived owner of the same user id.
  people.push(...gone.filter((p) => !active.has(p.userId)));
  const at = ctx.clock.now();
  await ctx.store.transaction((tx) => tx.people.replace(portalId, people, at));
}

/**
 * The account's people for a card request: refreshed from HubSpot first when the cached list is
 * older than PEOPLE_REFRESH_MS (or there is none). When HubSpot does not answer, the cached list
 * serves (names a little old, or ids where there is none yet): names never stop a card.
 */
export async function currentPeople(ctx: Pick<GateContext, 'store' | 'gateway' | 'clock' | 'logger'>, portalId: number): Promise<PeopleBook> {
  await refreshPeopleIfStale(ctx, portalId);
  return cachedPeople(ctx.store, portalId);
}

/**
 * Reads the account's people again when the cached list is older than PEOPLE_REFRESH_MS (or there
 * is none); a failure is logged and the cached list stays. `beforeRead`: awaited before the read
 * (the inbox worker draws a permit of the account's rate budget). Outside a transaction only.
 */
export async function refreshPeopleIfStale(ctx: Pick<GateContext, 'store' | 'gateway' | 'clock' | 'logger'>, portalId: number, beforeRead?: () => Promise<unknown>): Promise<void> {
  const refreshedAt = await ctx.store.people.refreshedAt(portalId);
  const now = ctx.clock.now();
  if (refreshedAt !== null && now - refreshedAt < PEOPLE_REFRESH_MS) return;
  const failures = failedReads(ctx.store);
  if (now - (failures.get(portalId) ?? -Infinity) < PEOPLE_RETRY_AFTER_FAILURE_MS) return;
  try {
    await beforeRead?.();
    await refreshPeople(ctx, portalId, beforeRead);
    failures.delete(portalId);
  } catch (error) {
    // Called inside a transaction is a bug to fix, not HubSpot being away.
    if (error instanceof HubSpotCallInTransactionError) throw error;
    failures.set(portalId, now);
    const info = classifyHubSpotError(error);
    ctx.logger.warn({ portalId, status: info.status, error: info.message }, 'could not read the account\'s owners for names; using the cached list');
  }
}

/**
 * Refuses (400, naming the field and the id) any id in `ids` that is not one of the account's
 * users. A miss on a list read within the interval reads HubSpot once more (a user added a minute
 * ago counts). HubSpot not answering is a 502, not a refusal: an id is never refused unchecked.
 * Other settings (Triad roles, delegates) call it for their own fields.
 */
export async function assertUsersOfAccount(ctx: Pick<GateContext, 'store' | 'gateway' | 'clock' | 'logger'>, portalId: number, ids: readonly string[], fieldName: string): Promise<void> {
  if (ids.length === 0) return;
  await refreshPeopleIfStale(ctx, portalId);
  let book = await cachedPeople(ctx.store, portalId, ids);
  if (ids.every((id) => book.has(id))) return;
  await refreshOrUnavailable(ctx, portalId);
  book = await cachedPeople(ctx.store, portalId, ids);
  const strangers = [...new Set(ids.filter((id) => !book.has(id)))];
  if (strangers.length === 0) return;
  const gone = strangers.filter((id) => book.isDeactivated(id));
  const unknown = strangers.filter((id) => !book.isDeactivated(id));
  const what = [
    ...(unknown.length > 0 ? [`${unknown.map((id) => `user ${id}`).join(', ')} ${unknown.length === 1 ? 'is not a user' : 'are not users'} of this HubSpot account`] : []),
    ...(gone.length > 0 ? [`${gone.map((id) => `${book.label(id)} (user ${id})`).join(', ')} ${gone.length === 1 ? 'has been deactivated' : 'have been deactivated'} in HubSpot`] : []),
  ].join('; ');
  throw invalidRequest(`${fieldName}: ${what}; pick people from the account's users`, { issues: [{ path: fieldName, message: what }], unknownUserIds: strangers });
}

async function refreshOrUnavailable(ctx: Pick<GateContext, 'store' | 'gateway' | 'clock' | 'logger'>, portalId: number): Promise<void> {
  try {
    await refreshPeople(ctx, portalId);
  } catch (error) {
    if (error instanceof HubSpotCallInTransactionError) throw error;
    const info = classifyHubSpotError(error);
    throw new DealgateError('hubspot_unavailable', `could not check the people named against the account's HubSpot users: HubSpot did not answer the owners read${info.status ? ` (HTTP ${info.status})` : ''}: ${info.message}`);
  }
}

/**
 * The user ids an open review waits for. With the Triad on, the decision maker's members but its
 * requester (they make the call; an escalation goes to them too). Off, its possible deciders (the
 * designated reviewers but its requester) and, once escalated, the escalation reviewer.
 */
export function waitingOnIds(review: Review, settings: Settings): string[] {
  if (!isOpenReview(review)) return [];
  const triad = triadOf(settings);
  if (triad.enabled) return triad.members[triad.decisionMaker].filter((id) => id !== review.requestedBy);
  const ids = settings.reviewers.filter((id) => id !== review.requestedBy);
  if (review.escalatedAt !== null && settings.escalationReviewer !== null && !ids.includes(settings.escalationReviewer)) ids.push(settings.escalationReviewer);
  return ids;
}

/** Who an open review waits for (waitingOnIds), as people: not someone HubSpot has deactivated since (they will not answer). */
export function waitingOn(review: Review, settings: Settings, people: PeopleBook): Person[] {
  return waitingOnIds(review, settings)
    .filter((id) => !people.isDeactivated(id))
    .map((id) => people.person(id));
}

/**
 * The settings as whom to ask: every person they name whom HubSpot has deactivated since is left
 * out (the reviewers, the escalation reviewer, the admins, the Triad's members), so routing works
 * on those who can answer, its fallbacks included (nobody left to ask: the escalation reviewer).
 * From the cached list, by key: usable inside a transaction. For routing only; the settings as
 * stored are unchanged.
 */
export async function askableSettings(store: TxStore, portalId: number, settings: Settings): Promise<Settings> {
  const triad = settings.triad;
  const named = [...settings.reviewers, ...settings.admins, ...(settings.escalationReviewer === null ? [] : [settings.escalationReviewer]), ...(triad ? triadMembers(triad) : [])];
  const people = await cachedPeople(store, portalId, named);
  if (!named.some((id) => people.isDeactivated(id))) return settings;
  const keep = (ids: readonly string[]) => ids.filter((id) => !people.isDeactivated(id));
  return {
    ...settings,
    reviewers: keep(settings.reviewers),
    admins: keep(settings.admins),
    escalationReviewer: settings.escalationReviewer !== null && people.isDeactivated(settings.escalationReviewer) ? null : settings.escalationReviewer,
    ...(triad ? { triad: { ...triad, members: { tech_lead: keep(triad.members.tech_lead), product_manager: keep(triad.members.product_manager), product_marketing: keep(triad.members.product_marketing) } } } : {}),
  };
}

/** GET /people: the account's users, by name, for the pickers. Every user of the account may read it, as the settings. */
export async function listPeople(ctx: Pick<GateContext, 'store' | 'gateway' | 'clock' | 'logger'>, portalId: number): Promise<PeopleResponse> {
  const book = await currentPeople(ctx, portalId);
  return { people: book.all(), refreshedAt: book.refreshedAt === null ? null : new Date(book.refreshedAt).toISOString() };
}

/** How a note or a reason names one user id, from the cached list read by key (usable inside a transaction). */
export async function labelOf(store: TxStore, portalId: number, userId: string): Promise<string> {
  return (await cachedPeople(store, portalId, [userId])).label(userId);
}

/** How a rule's refusal names `userIds` (domain/personLabel.ts LabelOf), from the cached list read by key (usable inside a transaction). */
export async function labelsOf(store: TxStore, portalId: number, userIds: readonly string[]): Promise<LabelOf> {
  const people = await cachedPeople(store, portalId, userIds);
  return (userId) => people.label(userId);
}
