import * as domain from '../../src/server/domain/capacityShares';
import * as contract from '../../extensions/contract/capacityShares';

/**
 * The capacity-shares rule lives in the domain, and the UI's package keeps its own copy for the
 * settings schema and page (it cannot import the server). Both must give the same answers: the
 * same default, the same refusal and the same words, over a grid of shares.
 */
describe('the capacity-shares rule, in the domain and in the settings contract', () => {
  const shares = Array.from({ length: 21 }, (_, i) => i / 20);

  it('defaults the maintenance share alike for every customer share', () => {
    expect(domain.DEFAULT_MAINTENANCE_SHARE).toBe(contract.DEFAULT_MAINTENANCE_SHARE);
    for (const customer of shares) expect([customer, domain.defaultMaintenanceShare(customer)]).toEqual([customer, contract.defaultMaintenanceShare(customer)]);
  });

  it('refuses the same pairs with the same message', () => {
    let refused = 0;
    for (const customer of shares) {
      for (const maintenance of [...shares, undefined]) {
        const said = domain.sharesOverWhole(customer, maintenance);
        expect([customer, maintenance, said]).toEqual([customer, maintenance, contract.sharesOverWhole(customer, maintenance)]);
        if (said !== null) refused += 1;
      }
    }
    // The grid holds pairs on both sides of the whole (0.6 + 0.45 is refused, 0.6 + 0.4 is not).
    expect(refused).toBeGreaterThan(100);
    expect(domain.sharesOverWhole(0.6, 0.4)).toBeNull();
    expect(domain.sharesOverWhole(0.6, 0.45)).toBe('customer commitments (60%) and maintenance (45%) add up to 105%, more than the whole quarter; lower one of them');
  });
});
