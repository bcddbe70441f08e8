import { parseArgs } from 'node:util';
import { startSimulator, type Simulator } from './simulator';

/**
 * Runs the simulator on its own (the demo):
 *
 *   npx tsx src/simulator/cli.ts [--port 4010] [--webhook-target http://127.0.0.1:3000/webhooks/hubspot]
 *        [--client-secret s] [--client-id id] [--portal-id n] [--app-id n] [--access-token t] [--seed-demo]
 *
 * Prints the base URL and an access token, then serves until SIGINT/SIGTERM. Every flag can also
 * come from the environment: SIM_PORT, SIM_WEBHOOK_TARGET, HUBSPOT_CLIENT_SECRET,
 * HUBSPOT_CLIENT_ID, SIM_PORTAL_ID, SIM_APP_ID, HUBSPOT_ACCESS_TOKEN.
 */
const DEMO_OWNERS = [
  { email: 'riley.rivera@example.com', firstName: 'Riley', lastName: 'Rivera', userId: 1001 },
  { email: 'casey.cto@example.com', firstName: 'Casey', lastName: 'Chen', userId: 1002 },
  { email: 'morgan.moss@example.com', firstName: 'Morgan', lastName: 'Moss', userId: 1003 },
];

function seedDemoDeals(sim: Simulator): void {
  const owner = sim.owners()[0];
  const deals = [
    { dealname: 'Acme: SSO integration', amount: '80000', dealstage: 'decisionmakerboughtin' },
    { dealname: 'Globex: standard plan', amount: '12000', dealstage: 'qualifiedtobuy' },
    { dealname: 'Initech: custom reporting', amount: '150000', dealstage: 'presentationscheduled' },
  ];
  for (const properties of deals) {
    sim.seedDeal({ properties: { ...properties, ...(owner ? { hubspot_owner_id: owner.id } : {}) } });
  }
}

function optionalNumber(value: string | undefined, name: string): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, got "${value}"`);
  return n;
}

const USAGE = `usage: npm run simulator -- [--port 4010] [--webhook-target URL] [--client-secret S] [--client-id ID]
                             [--portal-id N] [--app-id N] [--access-token T] [--seed-demo]
Each flag may come from the environment instead: SIM_PORT, SIM_WEBHOOK_TARGET, HUBSPOT_CLIENT_SECRET,
HUBSPOT_CLIENT_ID, SIM_PORTAL_ID, SIM_APP_ID, HUBSPOT_ACCESS_TOKEN.
`;

class UsageError extends Error {}

async function main(): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({ options: { ...OPTIONS, help: { type: 'boolean', short: 'h', default: false } } });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  const { values } = parsed;
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  await serve(values);
}

const OPTIONS = {
  port: { type: 'string' },
  'webhook-target': { type: 'string' },
  'client-secret': { type: 'string' },
  'client-id': { type: 'string' },
  'portal-id': { type: 'string' },
  'app-id': { type: 'string' },
  'access-token': { type: 'string' },
  'seed-demo': { type: 'boolean', default: false },
} as const;

async function serve(values: { [K in Exclude<keyof typeof OPTIONS, 'seed-demo'>]?: string } & { 'seed-demo'?: boolean }): Promise<void> {
  const env = process.env;
  const port = optionalNumber(values.port ?? env.SIM_PORT, '--port');
  const portalId = optionalNumber(values['portal-id'] ?? env.SIM_PORTAL_ID, '--portal-id');
  const appId = optionalNumber(values['app-id'] ?? env.SIM_APP_ID, '--app-id');
  const webhookTargetUrl = values['webhook-target'] ?? env.SIM_WEBHOOK_TARGET;
  const clientSecret = values['client-secret'] ?? env.HUBSPOT_CLIENT_SECRET;
  const clientId = values['client-id'] ?? env.HUBSPOT_CLIENT_ID;
  const accessToken = values['access-token'] ?? env.HUBSPOT_ACCESS_TOKEN;

  const sim = await startSimulator({
    owners: DEMO_OWNERS,
    ...(port !== undefined ? { port } : {}),
    ...(portalId !== undefined ? { portalId } : {}),
    ...(appId !== undefined ? { appId } : {}),
    ...(webhookTargetUrl ? { webhookTargetUrl } : {}),
    ...(clientSecret ? { clientSecret } : {}),
    ...(clientId ? { clientId } : {}),
    ...(accessToken ? { accessTokens: [accessToken] } : {}),
  });
  if (values['seed-demo']) seedDemoDeals(sim);

  const token = accessToken ?? sim.accessToken;
  process.stdout.write(
    [
      `HubSpot simulator listening on ${sim.url}`,
      `  HUBSPOT_API_BASE_URL=${sim.url}`,
      `  HUBSPOT_ACCESS_TOKEN=${token}`,
      `  portal ${sim.portalId}, app ${sim.appId}, client id ${sim.clientId}`,
      `  webhooks -> ${webhookTargetUrl ?? '(none yet: POST /_sim/webhooks/target {"url": ...})'}`,
      `  owners: ${sim.owners().map((o) => `${o.email} (owner ${o.id}, user ${o.userId})`).join(', ')}`,
      '',
    ].join('\n'),
  );

  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    sim.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`failed to stop: ${String(error)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((error: unknown) => {
  if (error instanceof UsageError) {
    process.stderr.write(`${error.message}\n${USAGE}`);
    process.exit(2);
  }
  process.stderr.write(`simulator failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
