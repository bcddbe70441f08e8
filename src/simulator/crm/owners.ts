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

  seed(input: OwnerSeed): Owner {
    const at = new Date(this.now()).toISOString();
    const userId = input.userId ?? this.nextUserId++;
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
    this.owners.push(owner);
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
