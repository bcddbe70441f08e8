import { hubspot } from '@hubspot/ui-extensions';
import { createRenderer } from '@hubspot/ui-extensions/testing';
import { DealgateCard } from '../../extensions/card/DealgateCard';
import { SettingsPage } from '../../extensions/settings/SettingsPage';
import { DealDeskHome } from '../../extensions/home/DealDeskHome';

// HubSpot loads each entry file; each must register exactly one extension rendering its view with hubspot.fetch.
describe('the card, settings and home entry files', () => {
  it.each([
    ['crm.record.tab', '../../src/app/cards/DealgateCard', DealgateCard],
    ['settings', '../../src/app/settings/DealgateSettings', SettingsPage],
    ['home', '../../src/app/pages/DealDeskHome', DealDeskHome],
  ] as const)('%s registers its view', (location, entry, component) => {
    const extend = jest.spyOn(hubspot, 'extend').mockImplementation(() => undefined);
    require(entry);
    expect(extend).toHaveBeenCalledTimes(1);
    const renderer = createRenderer(location);
    const element = extend.mock.calls[0]?.[0]?.({ context: renderer.mocks.context, actions: renderer.mocks.actions } as never);
    expect(element?.type).toBe(component);
    expect((element?.props as { fetcher: unknown }).fetcher).toBe(hubspot.fetch);
    // The home page names the viewer as "you" in its tables.
    if (location === 'home') expect((element?.props as { userId: unknown }).userId).toBe(String(renderer.mocks.context.user.id));
    extend.mockRestore();
  });
});
