import { ConfigError, loadConfig } from '../../src/server/config/config';

/** DEALGATE_RECONCILE_SECONDS: how often the reconciliation sweeps each account (0 turns it off). */
describe('DEALGATE_RECONCILE_SECONDS', () => {
  const load = (value?: string) => loadConfig({ HUBSPOT_CLIENT_SECRET: 's', ...(value !== undefined ? { DEALGATE_RECONCILE_SECONDS: value } : {}) });

  it('is 300 seconds unless set (an empty value too)', () => {
    expect(load().reconcileSeconds).toBe(300);
    expect(load('').reconcileSeconds).toBe(300);
    expect(load('  ').reconcileSeconds).toBe(300);
  });

  it.each([
    ['0', 0],
    ['30', 30],
    ['600', 600],
    ['86400', 86_400],
  ])('takes %s', (value, seconds) => {
    expect(load(value).reconcileSeconds).toBe(seconds);
  });

  it.each(['29', '86401', '1.5', '-1', 'five', '5m'])('refuses %s and names the variable', (value) => {
    let error: unknown;
    try {
      load(value);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([
      { variable: 'DEALGATE_RECONCILE_SECONDS', message: 'must be whole seconds from 30 to 86400 (a day), or 0 to turn the periodic reconciliation off' },
    ]);
  });
});
