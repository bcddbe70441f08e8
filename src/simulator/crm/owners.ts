/**
 * The account's owners (users who can own records), as /crm/v3/owners/ lists them. An owner has
 * its own id (what `hubspot_owner_id` holds) and the user id (what `updatedByUserId` and webhook
 * `sourceId: "userId:..."` carry).
 * https://developers.hubspot.com/docs/api/crm/owners
 */
export interface Owner {
  id: string;
  email: string;
  firstName: string;
  lastName: string;
  /** Absent once the user is deactivated (the owner is then archived); userIdIncludingInactive keeps it. */
  userId?: number;
  userIdIncludingInactive: number;
  type: 'PERSON';
  archived: boolean;
  teams: { id: string; name: string; primary: boolean }[];
  createdAt: string;
  updatedAt: string;
}

export interface OwnerSeed {
  email: string;
  firstName?: string;
  lastName?: string;
  userId?: number;
  id?: string;
}

export class OwnerDirectory {
  private readonly owners: Owner[] = [];
  private nextOwnerId = 51_000_001;
  private nextUserId = 9_100_001;

  constructor(private readonly now: () => number) {}

  /**
   * Adds an owner; seeding a user id that has one already replaces it (HubSpot has one owner per
   * user), which is also how a test renames someone: same user id, new names.
   */
  seed(input: OwnerSeed): Owner {
    const at = new Date(this.now()).toISOString();
    const userId = input.userId ?? this.nextUserId++;
    const existing = this.owners.findIndex((o) => o.userIdIncludingInactive === userId);
    if (existing >= 0) {
      const before = this.owners[existing]!;
      const renamed: Owner = { ...this.fresh(input, userId, at), id: input.id ?? before.id, createdAt: before.createdAt };
      this.owners[existing] = renamed;
      return renamed;
    }
    const owner = this.fresh(input, userId, at);
    this.owners.push(owner);
    return owner;
  }

  private fresh(input: OwnerSeed, userId: number, at: string): Owner {
    const [first, last] = input.email.split('@')[0]?.split('.') ?? [];
    const owner: Owner = {
      id: input.id ?? String(this.nextOwnerId++),
      email: input.email,
      firstName: input.firstName ?? capitalize(first ?? 'Sim'),
      lastName: input.lastName ?? capitalize(last ?? 'User'),
      userId,
      userIdIncludingInactive: userId,
      type: 'PERSON',
      archived: false,
      teams: [],
      createdAt: at,
      updatedAt: at,
    };
    return owner;
  }

  /**
   * A user deactivated in HubSpot: their owner is archived, lists only with `archived=true`, and
   * carries the user id in `userIdIncludingInactive` only.
   */
  deactivate(userId: number): Owner {
    const index = this.owners.findIndex((o) => o.userIdIncludingInactive === userId);
    const before = this.owners[index];
    if (!before) throw new Error(`no owner of user ${userId} to deactivate`);
    const { userId: _gone, ...rest } = before;
    const archived: Owner = { ...rest, archived: true, updatedAt: new Date(this.now()).toISOString() };
    this.owners[index] = archived;
    return archived;
  }

  /** The active owners, or with `archived` the archived ones only (as GET /crm/v3/owners?archived=true answers). */
  list(archived = false): Owner[] {
    return this.owners.filter((o) => o.archived === archived);
  }

  find(ownerId: string): Owner | undefined {
    return this.owners.find((o) => o.id === ownerId);
  }

  byUserId(userId: number): Owner | undefined {
    return this.owners.find((o) => o.userId === userId);
  }
}

function capitalize(word: string): string {
  return word.length === 0 ? word : word[0]!.toUpperCase() + word.slice(1);
}
