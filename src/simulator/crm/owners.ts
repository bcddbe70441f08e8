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
  userId: number;
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
    const existing = this.owners.findIndex((o) => o.userId === userId);
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

  list(): Owner[] {
    return [...this.owners];
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
