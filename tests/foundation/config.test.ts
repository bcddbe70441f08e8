import { ConfigError, loadConfig } from '../../src/server/config/config';

describe('loadConfig', () => {
  it('starts from the documented defaults with only the client secret set', () => {
    const config = loadConfig({ HUBSPOT_CLIENT_SECRET: 's3cret' });
    expect(config.port).toBe(3000);
    expect(config.databasePath).toBe('./data/dealgate.db');
    expect(config.hubspot.apiBaseUrl).toBe('https://api.hubapi.com');
    expect(config.publicBaseUrl).toBe('http://localhost:3000');
    expect(config.defaults).toEqual({
      valueThreshold: 50000,
      slaHours: 48,
      reviewers: [],
      admins: [],
      escalationReviewer: undefined,
      gateStageLabel: 'contract',
    });
  });

  it('reads every documented variable', () => {
    const config = loadConfig({
      PORT: '8080',
      PUBLIC_BASE_URL: 'https://dealgate.example.com/',
      DATABASE_PATH: '/var/lib/dealgate/db.sqlite',
      HUBSPOT_CLIENT_SECRET: 's3cret',
      HUBSPOT_CLIENT_ID: 'client-id',
      HUBSPOT_ACCESS_TOKEN: 'pat-na1-token',
      HUBSPOT_API_BASE_URL: 'http://127.0.0.1:4000',
      DEALGATE_TOKEN_ENCRYPTION_KEY: 'a'.repeat(64),
      DEALGATE_VALUE_THRESHOLD: '25000',
      DEALGATE_SLA_HOURS: '24',
      DEALGATE_REVIEWERS: '101, 102',
      DEALGATE_ADMINS: '900',
      DEALGATE_ESCALATION_REVIEWER: '103',
      DEALGATE_GATE_STAGE_LABEL: 'proposal',
    });
    expect(config.port).toBe(8080);
    expect(config.publicBaseUrl).toBe('https://dealgate.example.com');
    expect(config.hubspot).toEqual({
      clientSecret: 's3cret',
      clientId: 'client-id',
      accessToken: 'pat-na1-token',
      apiBaseUrl: 'http://127.0.0.1:4000',
    });
    expect(config.defaults).toEqual({
      valueThreshold: 25000,
      slaHours: 24,
      reviewers: ['101', '102'],
      admins: ['900'],
      escalationReviewer: '103',
      gateStageLabel: 'proposal',
    });
  });

  it('names HUBSPOT_CLIENT_SECRET when it is missing', () => {
    expect(() => loadConfig({})).toThrow(ConfigError);
    expect(() => loadConfig({})).toThrow(/HUBSPOT_CLIENT_SECRET is required/);
    expect(() => loadConfig({ HUBSPOT_CLIENT_SECRET: '   ' })).toThrow(/HUBSPOT_CLIENT_SECRET/);
  });

  it.each([
    ['PORT', 'eighty'],
    ['PORT', '70000'],
    ['PUBLIC_BASE_URL', 'dealgate.example.com'],
    ['HUBSPOT_API_BASE_URL', 'ftp://x'],
    ['DEALGATE_VALUE_THRESHOLD', '-5'],
    ['DEALGATE_SLA_HOURS', '0'],
    ['DEALGATE_SLA_HOURS', '1.5'],
    ['DEALGATE_REVIEWERS', '101,alice'],
    ['DEALGATE_ADMINS', '1,,2'],
    ['DEALGATE_ESCALATION_REVIEWER', 'bob'],
    ['LOG_LEVEL', 'loud'],
  ])('refuses %s=%s and names the variable', (variable, value) => {
    let error: unknown;
    try {
      loadConfig({ HUBSPOT_CLIENT_SECRET: 's', [variable]: value });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems.map((p) => p.variable)).toEqual([variable]);
    expect((error as ConfigError).message).toContain(variable);
  });

  it('names each start of an instance differently unless DEALGATE_INSTANCE_ID says who it is', () => {
    const first = loadConfig({ HUBSPOT_CLIENT_SECRET: 's3cret' }).instanceId;
    const second = loadConfig({ HUBSPOT_CLIENT_SECRET: 's3cret' }).instanceId;
    expect(first).toMatch(new RegExp(`-${process.pid}-[0-9a-f]{6}$`));
    expect(second).not.toBe(first);
    expect(loadConfig({ HUBSPOT_CLIENT_SECRET: 's3cret', DEALGATE_INSTANCE_ID: 'web-2' }).instanceId).toBe('web-2');
    expect(() => loadConfig({ HUBSPOT_CLIENT_SECRET: 's3cret', DEALGATE_INSTANCE_ID: 'two words' })).toThrow(/DEALGATE_INSTANCE_ID must be 1 to 64 letters/);
  });

  it('reports every bad variable at once', () => {
    expect(() => loadConfig({ PORT: 'x', DEALGATE_SLA_HOURS: 'y' })).toThrow(
      expect.objectContaining({
        problems: expect.arrayContaining([
          expect.objectContaining({ variable: 'PORT' }),
          expect.objectContaining({ variable: 'DEALGATE_SLA_HOURS' }),
          expect.objectContaining({ variable: 'HUBSPOT_CLIENT_SECRET' }),
        ]),
      }),
    );
  });
});
