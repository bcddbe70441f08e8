import { Client } from '@hubspot/api-client';
import { startSimulator, type Simulator } from '../../src/simulator';

/**
 * `amount_in_home_currency`: HubSpot's conversion of a deal's `amount` from its
 * `deal_currency_code` to the account's company currency, calculated and read only.
 */
interface SdkError {
  code: number;
  body: { message?: string; category?: string; errors?: { code?: string; context?: Record<string, string[]> }[] };
}

async function failure(call: Promise<unknown>): Promise<SdkError> {
  try {
    await call;
  } catch (error) {
    expect(error).toMatchObject({ code: expect.any(Number) });
    return error as SdkError;
  }
  throw new Error('expected the call to fail');
}

let sim: Simulator | undefined;
afterEach(async () => {
  await sim?.stop();
  sim = undefined;
});

async function start(options: Parameters<typeof startSimulator>[0] = {}): Promise<{ sim: Simulator; client: Client }> {
  sim = await startSimulator(options);
  return { sim, client: new Client({ accessToken: sim.accessToken, basePath: sim.url, numberOfApiCallRetries: 0 }) };
}

const HOME = ['amount', 'deal_currency_code', 'amount_in_home_currency'];

describe('amount_in_home_currency', () => {
  it('equals the amount for a deal without a currency code (the company currency, USD by default)', async () => {
    const { sim, client } = await start();
    const created = await client.crm.deals.basicApi.create({ properties: { dealname: 'Home', amount: '80000', dealstage: 'qualifiedtobuy' }, associations: [] });
    const read = await client.crm.deals.basicApi.getById(created.id, HOME);
    expect(read.properties).toMatchObject({ amount: '80000', deal_currency_code: null, amount_in_home_currency: '80000' });
    expect(sim.seedDeal({ properties: { dealname: 'Seeded', amount: '1250.5', dealstage: 'qualifiedtobuy' } }).properties.amount_in_home_currency).toBe('1250.5');

    const details = await fetch(`${sim.url}/account-info/v3/details`, { headers: { authorization: `Bearer ${sim.accessToken}` } });
    expect(await details.json()).toMatchObject({ companyCurrency: 'USD', additionalCurrencies: [] });
  });

  it("converts at the exchange rate of the deal's currency and follows every change of amount or currency", async () => {
    const { sim, client } = await start({ currencies: { companyCurrency: 'USD', exchangeRates: { EUR: 1.1, GBP: 1.25 } } });
    const deal = await client.crm.deals.basicApi.create({ properties: { dealname: 'Euro', amount: '1000', deal_currency_code: 'EUR', dealstage: 'qualifiedtobuy' }, associations: [] });
    expect((await client.crm.deals.basicApi.getById(deal.id, HOME)).properties).toMatchObject({ amount: '1000', deal_currency_code: 'EUR', amount_in_home_currency: '1100' });

    await client.crm.deals.basicApi.update(deal.id, { properties: { amount: '2000' } });
    expect(sim.getDeal(deal.id)?.properties.amount_in_home_currency).toBe('2200');
    await client.crm.deals.batchApi.update({ inputs: [{ id: deal.id, properties: { deal_currency_code: 'GBP' } }] });
    expect(sim.getDeal(deal.id)?.properties.amount_in_home_currency).toBe('2500');
    sim.updateDealAsUser(deal.id, { deal_currency_code: 'USD' }, { userId: 7 });
    expect(sim.getDeal(deal.id)?.properties.amount_in_home_currency).toBe('2000');
    sim.updateDealAsUser(deal.id, { amount: '' }, { userId: 7 });
    expect((await client.crm.deals.basicApi.getById(deal.id, HOME)).properties.amount_in_home_currency).toBeNull();

    // HubSpot calculated it: its history says so.
    const history = (await client.crm.deals.basicApi.getById(deal.id, ['amount_in_home_currency'], ['amount_in_home_currency'])).propertiesWithHistory?.amount_in_home_currency ?? [];
    expect(history.map((h) => [h.value, h.sourceType])).toEqual([
      ['', 'CALCULATED'],
      ['2000', 'CALCULATED'],
      ['2500', 'CALCULATED'],
      ['2200', 'CALCULATED'],
      ['1100', 'CALCULATED'],
    ]);
  });

  it('takes a new exchange rate from a control, applied from the deal’s next change', async () => {
    const { sim, client } = await start();
    const refused = await failure(client.crm.deals.basicApi.create({ properties: { dealname: 'Yen', amount: '100000', deal_currency_code: 'JPY', dealstage: 'qualifiedtobuy' }, associations: [] }));
    expect(refused.code).toBe(400);

    const control = await fetch(`${sim.url}/_sim/currencies/exchange-rates`, { method: 'POST', body: JSON.stringify({ currencyCode: 'JPY', conversionRate: 0.0067 }) });
    expect(await control.json()).toEqual({ fromCurrencyCode: 'JPY', toCurrencyCode: 'USD', conversionRate: 0.0067 });
    const deal = await client.crm.deals.basicApi.create({ properties: { dealname: 'Yen', amount: '100000', deal_currency_code: 'JPY', dealstage: 'qualifiedtobuy' }, associations: [] });
    expect(sim.getDeal(deal.id)?.properties.amount_in_home_currency).toBe('670');

    sim.setExchangeRate('JPY', 0.007);
    expect(sim.getDeal(deal.id)?.properties.amount_in_home_currency).toBe('670');
    await client.crm.deals.basicApi.update(deal.id, { properties: { amount: '200000' } });
    expect(sim.getDeal(deal.id)?.properties.amount_in_home_currency).toBe('1400');
    const details = await fetch(`${sim.url}/account-info/v3/details`, { headers: { authorization: `Bearer ${sim.accessToken}` } });
    expect(await details.json()).toMatchObject({ companyCurrency: 'USD', additionalCurrencies: ['JPY'] });
  });

  it('cannot be written: the whole write is refused as HubSpot refuses a calculated property', async () => {
    const { sim, client } = await start();
    const deal = sim.seedDeal({ properties: { dealname: 'Fixed', amount: '500', dealstage: 'qualifiedtobuy' } });
    for (const call of [
      client.crm.deals.basicApi.update(deal.id, { properties: { dealname: 'Changed', amount_in_home_currency: '999' } }),
      client.crm.deals.batchApi.update({ inputs: [{ id: deal.id, properties: { amount_in_home_currency: '999' } }] }),
      client.crm.deals.basicApi.create({ properties: { dealname: 'New', dealstage: 'qualifiedtobuy', amount_in_home_currency: '1' }, associations: [] }),
    ]) {
      const error = await failure(call);
      expect(error.code).toBe(400);
      expect(error.body.category).toBe('VALIDATION_ERROR');
      expect(error.body.message).toContain('Property values were not valid');
      expect(error.body.message).toContain('\\"amount_in_home_currency\\" is a calculated property; its value cannot be set.');
      expect(error.body.errors?.[0]).toMatchObject({ code: 'READ_ONLY_VALUE', context: { propertyName: ['amount_in_home_currency'] } });
    }
    expect(sim.getDeal(deal.id)?.properties).toMatchObject({ dealname: 'Fixed', amount_in_home_currency: '500' });
    expect(sim.deals()).toHaveLength(1);
  });

  it("refuses a currency the account does not have with HubSpot's INVALID_OPTION body", async () => {
    const { sim, client } = await start({ portalId: 104_008_696 });
    const deal = sim.seedDeal({ properties: { dealname: 'Real', amount: '10', dealstage: 'qualifiedtobuy' } });
    const error = await failure(client.crm.deals.basicApi.update(deal.id, { properties: { deal_currency_code: 'BRL' } }));
    expect(error.code).toBe(400);
    expect(error.body.message).toContain('\\"BRL\\" is not a part of the current effective currency codes for portal 104008696');
    expect(error.body.errors?.[0]).toMatchObject({ code: 'INVALID_OPTION', context: { propertyName: ['deal_currency_code'] } });
  });

  it('sends no webhook for it unless subscribed; subscribed, the event comes from CALCULATED', async () => {
    const project = await start({ currencies: { exchangeRates: { EUR: 2 } } });
    const deal = project.sim.seedDeal({ properties: { dealname: 'Hooks', amount: '10', deal_currency_code: 'EUR', dealstage: 'qualifiedtobuy' } });
    await project.client.crm.deals.basicApi.update(deal.id, { properties: { amount: '20' } });
    const events = project.sim.webhooks.events();
    expect(events.map((e) => e.propertyName)).toEqual(['amount']);
    expect(project.sim.getDeal(deal.id)?.properties.amount_in_home_currency).toBe('40');
    await project.sim.stop();

    const subscribed = await start({
      currencies: { exchangeRates: { EUR: 2 } },
      webhooks: {
        config: {
          subscriptions: {
            legacyCrmObjects: [
              { subscriptionType: 'deal.propertyChange', propertyName: 'amount', active: true },
              { subscriptionType: 'deal.propertyChange', propertyName: 'amount_in_home_currency', active: true },
            ],
          },
        },
      },
    });
    const other = subscribed.sim.seedDeal({ properties: { dealname: 'Hooks', amount: '10', deal_currency_code: 'EUR', dealstage: 'qualifiedtobuy' } });
    await subscribed.client.crm.deals.basicApi.update(other.id, { properties: { amount: '20' } });
    expect(subscribed.sim.webhooks.events().map((e) => [e.propertyName, e.propertyValue, e.changeSource])).toEqual([
      ['amount', '20', 'INTEGRATION'],
      ['amount_in_home_currency', '40', 'CALCULATED'],
    ]);
  });
});
