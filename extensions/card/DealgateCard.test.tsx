import { Alert, LoadingSpinner, Text, hubspot } from '@hubspot/ui-extensions';
import { createRenderer } from '@hubspot/ui-extensions/testing';
import { DealgateCard, type CardFetcher } from './DealgateCard';

function jsonResponse(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
}

describe('DealgateCard under HubSpot’s renderer', () => {
  it('shows loading, then what the service answered', async () => {
    const renderer = createRenderer('crm.record.tab');
    const calls: string[] = [];
    const fetcher: CardFetcher = async (url) => {
      calls.push(String(url));
      return jsonResponse(200, { dealId: '7' });
    };
    renderer.render(<DealgateCard context={renderer.mocks.context} actions={renderer.mocks.actions} fetcher={fetcher} />);
    expect(renderer.find(LoadingSpinner)).toBeDefined();
    await renderer.waitFor(() => expect(renderer.findByTestId(Text, 'card-loaded')).toBeDefined());
    expect(calls).toEqual([`https://dealgate.example.com/api/v1/deals/${renderer.mocks.context.crm.objectId}/gate`]);
  });

  it('shows an error when the service refuses', async () => {
    const renderer = createRenderer('crm.record.tab');
    const fetcher: CardFetcher = async () => jsonResponse(503, { error: { code: 'not_ready', message: 'down' } });
    renderer.render(<DealgateCard context={renderer.mocks.context} actions={renderer.mocks.actions} fetcher={fetcher} />);
    await renderer.waitFor(() => expect(renderer.findByTestId(Alert, 'card-error').text).toContain('503'));
  });
});

describe('the card entry file', () => {
  it('registers the card as a deal record tab rendering DealgateCard', () => {
    const extend = jest.spyOn(hubspot, 'extend').mockImplementation(() => undefined);
    // Loading the entry is what HubSpot does; it must register exactly one extension.
    require('../../src/app/cards/DealgateCard');
    expect(extend).toHaveBeenCalledTimes(1);
    const renderCallback = extend.mock.calls[0]?.[0];
    const renderer = createRenderer('crm.record.tab');
    const element = renderCallback?.({ context: renderer.mocks.context, actions: renderer.mocks.actions } as never);
    expect(element?.type).toBe(DealgateCard);
    extend.mockRestore();
  });
});
