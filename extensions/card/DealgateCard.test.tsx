import { hubspot } from '@hubspot/ui-extensions';
import { createRenderer } from '@hubspot/ui-extensions/testing';
import { DealgateCard } from './DealgateCard';

// What the card shows for each state and action is tested against the real service in tests/ui/.

describe('the card entry file', () => {
  it('registers the card as a deal record tab rendering DealgateCard with hubspot.fetch', () => {
    const extend = jest.spyOn(hubspot, 'extend').mockImplementation(() => undefined);
    // Loading the entry is what HubSpot does; it must register exactly one extension.
    require('../../src/app/cards/DealgateCard');
    expect(extend).toHaveBeenCalledTimes(1);
    const renderCallback = extend.mock.calls[0]?.[0];
    const renderer = createRenderer('crm.record.tab');
    const element = renderCallback?.({ context: renderer.mocks.context, actions: renderer.mocks.actions } as never);
    expect(element?.type).toBe(DealgateCard);
    expect((element?.props as { fetcher: unknown }).fetcher).toBe(hubspot.fetch);
    extend.mockRestore();
  });
});
