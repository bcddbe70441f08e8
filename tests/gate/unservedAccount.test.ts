import type { SettingsResponse } from '../../extensions/contract/api';
import { ADMIN, startHarness, type Harness } from './harness';

/**
 * A signed card request from an account this Dealgate holds no credentials for (here: the static
 * token belongs to the simulator's account, and the other account never installed) is refused on
 * the settings routes as on the gate, instead of showing the DEALGATE_* defaults with "you may
 * edit" and saving settings for an account that never installed. Found by the bad-input
 * reliability suite.
 */
describe('settings of an account Dealgate does not serve', () => {
  const OTHER_PORTAL = 46_803_579;
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h.close();
  });

  it('GET /settings is a 403 saying the account must install', async () => {
    const answer = await h.call<{ error: { code: string; message: string } }>(ADMIN, 'GET', '/settings', undefined, OTHER_PORTAL);
    expect(answer.status).toBe(403);
    expect(answer.json.error.message).toContain(`account ${OTHER_PORTAL}`);
  });

  it('PUT /settings is a 403 and stores nothing for that account', async () => {
    const own = await h.call<SettingsResponse>(ADMIN, 'GET', '/settings');
    expect(own.status).toBe(200);
    const answer = await h.call(ADMIN, 'PUT', '/settings', { ...own.json.settings, valueThreshold: 1 }, OTHER_PORTAL);
    expect(answer.status).toBe(403);
    expect(await h.store.settings.get(OTHER_PORTAL)).toBeUndefined();
    expect(await h.store.pipelines.list(OTHER_PORTAL)).toEqual([]);
  });
});
