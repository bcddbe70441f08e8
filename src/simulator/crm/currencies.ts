/**
 * The account's currencies: its company currency and the additional currencies with their
 * exchange rates, as HubSpot's currencies API keeps them
 * (https://developers.hubspot.com/docs/api/settings/currencies: an exchange rate has a
 * `fromCurrencyCode` (the additional currency), a `toCurrencyCode` (the company currency) and a
 * `conversionRate` "from the additional currency to your company currency", greater than 0, up to
 * 6 decimals). The simulator reads the rate as "one unit of the additional currency is worth
 * `conversionRate` units of the company currency", so a deal's `amount_in_home_currency` is its
 * `amount` times the rate of its `deal_currency_code` (the direction HubSpot's UI shows it in is
 * unconfirmed). A deal without a currency code is in the company currency.
 */
export interface CurrencySettings {
  /** Default USD. */
  companyCurrency?: string;
  /** Additional currencies: code -> units of company currency one unit is worth. */
  exchangeRates?: Record<string, number>;
}

const CODE = /^[A-Z]{3}$/;

export class CurrencyBook {
  readonly companyCurrency: string;
  private readonly rates = new Map<string, number>();

  constructor(
    settings: CurrencySettings = {},
    /** The account, named in HubSpot's refusal of a currency it does not have. */
    readonly portalId = 0,
  ) {
    this.companyCurrency = settings.companyCurrency ?? 'USD';
    if (!CODE.test(this.companyCurrency)) throw new Error(`company currency must be a 3-letter ISO code, got ${this.companyCurrency}`);
    for (const [code, rate] of Object.entries(settings.exchangeRates ?? {})) this.setExchangeRate(code, rate);
  }

  /** Adds a currency to the account, or gives it a new rate (deals are recalculated when they next change). */
  setExchangeRate(code: string, conversionRate: number): void {
    if (!CODE.test(code)) throw new Error(`currency code must be a 3-letter ISO code, got ${code}`);
    if (code === this.companyCurrency) throw new Error(`${code} is the company currency; its rate is 1`);
    if (!(conversionRate > 0) || !Number.isFinite(conversionRate)) throw new Error(`conversionRate must be greater than 0, got ${conversionRate}`);
    this.rates.set(code, Math.round(conversionRate * 1e6) / 1e6);
  }

  /** The currency codes deals may use: the company currency first. */
  codes(): string[] {
    return [this.companyCurrency, ...this.rates.keys()];
  }

  additionalCurrencies(): string[] {
    return [...this.rates.keys()];
  }

  has(code: string): boolean {
    return code === this.companyCurrency || this.rates.has(code);
  }

  rateOf(code: string | undefined): number | undefined {
    if (code === undefined || code === '' || code === this.companyCurrency) return 1;
    return this.rates.get(code);
  }

  /** An amount in `code` converted to the company currency, as HubSpot stores it (a plain decimal string). */
  toHome(amount: string, code: string | undefined): string | undefined {
    const value = Number(amount);
    const rate = this.rateOf(code);
    if (amount.trim() === '' || !Number.isFinite(value) || rate === undefined) return undefined;
    return String(Math.round(value * rate * 1e6) / 1e6);
  }
}
