import { putSettings } from '../../src/server/application/settingsService';
import { startHarness, baseSettings, ADMIN, type Harness } from './harness';

/**
 * Two admins save the settings at once (two tabs, two people): each save is recorded against the
 * settings it actually replaced. The change history is what enforcement reads to tell a relaxed
 * rule from a tightened one (relaxedBy, tightenedSince) and what decides whether deals are
 * re-evaluated, so a save recorded against settings that were no longer in force hides a change:
 * here the threshold going back from 100,000 to 50,000 (a tightening) would be recorded as no
 * threshold change at all.
 */
describe('card API: settings saved concurrently', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness();
  });
  afterEach(() => h.close());

  it('records each save against the settings it replaced, so the history chains and names every change', async () => {
    const caller = { portalId: h.sim.portalId, userId: ADMIN };
    // Both start in the same turn: each reads the settings before the other has written.
    await Promise.all([
      putSettings(h.ctx, caller, { ...baseSettings, valueThreshold: 100_000 }),
      putSettings(h.ctx, caller, { ...baseSettings, slaHours: 24 }),
    ]);
    const changes = (await h.store.settingsChanges.list(h.sim.portalId, 10)).sort((a, b) => a.id - b.id);
    expect(changes).toHaveLength(2);
    const [first, second] = changes as [(typeof changes)[number], (typeof changes)[number]];
    // The second save replaced what the first one wrote.
    expect(second.before).toEqual(first.after);
    expect(second.fields.map((f) => f.field).sort()).toEqual(['slaHours', 'valueThreshold']);
    // Which save commits first is up to the engine (PostgreSQL runs both at once, under the lock).
    // Threshold 100,000 first: the second puts it back to 50,000 and the SLA to 24 h, a tightening.
    // SLA first: the second raises the threshold and puts the SLA back to its longer default, a relaxation.
    const thresholdFirst = first.after.valueThreshold === 100_000;
    expect(second.effect).toBe(thresholdFirst ? 'tightened' : 'relaxed');
    expect((await h.store.settings.get(h.sim.portalId))?.settings).toEqual(second.after);
  });
});
