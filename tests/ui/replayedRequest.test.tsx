import { Alert, LoadingButton, NumberInput, TextArea } from '@hubspot/ui-extensions';
import { REPLAYED_MESSAGE, type ServiceFetcher } from '../../extensions/client/serviceClient';
import { signedHeaders } from '../../src/server/hubspot/signature';
import { hubspotFetchPath } from '../support/cardClient';
import { startLiveService, users, type LiveService } from './support/liveService';
import { fire, openCard, says, statusOf, WAIT } from './cardHarness';

let live: LiveService;
beforeEach(async () => {
  live = await startLiveService();
});
afterEach(async () => {
  await live.close();
});

/**
 * `hubspot.fetch` when the connection drops after the service carried a write out: HubSpot retries
 * it once with the same body (and here the same signature), and the card gets the retry's answer.
 */
function retryingFetcher(userId: string): { fetcher: ServiceFetcher; firstStatuses: number[] } {
  const firstStatuses: number[] = [];
  const fetcher: ServiceFetcher = async (url, options = {}) => {
    const method = options.method ?? 'GET';
    const path = hubspotFetchPath({ path: url.slice(live.url.length), userId, portalId: live.portalId });
    const raw = options.body === undefined ? '' : JSON.stringify(options.body);
    const headers = { ...signedHeaders(live.stack.clientSecret, { method, uri: live.url + path, body: raw }, live.clock.now()), ...(raw ? { 'content-type': 'application/json' } : {}) };
    const send = () => fetch(live.url + path, { method, headers, ...(raw ? { body: raw } : {}) });
    if (method === 'GET') return send();
    firstStatuses.push((await send()).status); // the answer HubSpot never got
    return send();
  };
  return { fetcher, firstStatuses };
}

describe('the deal card when HubSpot sends a write twice', () => {
  it('says the request was already received, does nothing twice, and shows the deal as it now is', async () => {
    const dealId = live.seedDeal({ dealname: 'Acme rollout', dealstage: 'qualifiedtobuy', amount: '80000' });
    const { fetcher, firstStatuses } = retryingFetcher(users.rep);
    const renderer = openCard(live, dealId, fetcher);
    await renderer.waitFor(() => expect(renderer.findByTestId(LoadingButton, 'request-review')).toBeDefined(), WAIT);

    fire(renderer.findByTestId(TextArea, 'commitment-summary'), 'onChange', 'SSO with Okta');
    fire(renderer.findByTestId(NumberInput, 'commitment-effort'), 'onChange', 3);
    fire(renderer.findByTestId(LoadingButton, 'request-review'), 'onClick');

    await renderer.waitFor(() => expect(statusOf(renderer)).toBe('Waiting for engineering'), WAIT);
    expect(firstStatuses).toEqual([201]);
    expect(says(renderer, Alert, 'action-error')).toContain(REPLAYED_MESSAGE);
    expect(await live.stack.store.reviews.listForDeal(live.portalId, dealId)).toHaveLength(1);
  });
});
