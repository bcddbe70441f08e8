import type { OwnerSeed } from '../../src/simulator';

/**
 * The people of the test accounts, as HubSpot's owners list gives them: the user ids the tests
 * use (rep 100, other rep 101, reviewers 200 and 201, escalation 300, admin 900) with real names,
 * so what a person reads (notes, cards, the home page) can be checked for names. Any other id a
 * test uses is a user HubSpot knows nothing about (the card shows its id).
 */
export const TEST_PEOPLE = [
  { userId: 100, id: '7100', firstName: 'Grace', lastName: 'Hopper', email: 'grace.hopper@example.com' },
  { userId: 101, id: '7101', firstName: 'Alan', lastName: 'Turing', email: 'alan.turing@example.com' },
  { userId: 200, id: '7200', firstName: 'Ada', lastName: 'Lovelace', email: 'ada.lovelace@example.com' },
  { userId: 201, id: '7201', firstName: 'Edsger', lastName: 'Dijkstra', email: 'edsger.dijkstra@example.com' },
  { userId: 300, id: '7300', firstName: 'Margaret', lastName: 'Hamilton', email: 'margaret.hamilton@example.com' },
  { userId: 900, id: '7900', firstName: 'Barbara', lastName: 'Liskov', email: 'barbara.liskov@example.com' },
] as const satisfies readonly OwnerSeed[];

/** "Ada Lovelace" for 200. */
export function nameOf(userId: string): string {
  const person = TEST_PEOPLE.find((p) => String(p.userId) === userId);
  if (!person) throw new Error(`user ${userId} is not one of the test people`);
  return `${person.firstName} ${person.lastName}`;
}
