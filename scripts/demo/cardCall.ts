import { parseArgs } from 'node:util';
import { z } from 'zod';
import type { DashboardResponse, GateResponse } from '../../extensions/contract/api';
import { renderCardAsText, renderDashboardAsText } from '../../extensions/text/renderText';
import { DEFAULTS } from '../../src/simulator';
import { cardRequest } from '../../tests/support/cardClient';

/**
 * One card API request, signed as a card's `hubspot.fetch` is (HubSpot's v3 signature, the caller
 * in the query string), for poking at the service `npm run demo -- --keep` leaves running:
 *
 *   npx tsx scripts/demo/cardCall.ts --service http://127.0.0.1:PORT --user 200 GET /api/v1/deals/DEAL/gate
 *   npx tsx scripts/demo/cardCall.ts --service http://127.0.0.1:PORT --user 200 POST /api/v1/reviews/4/decision '{"outcome":"yes"}'
 *
 * A gate is printed as the card shows it to that user, the dashboard as the home page shows it,
 * anything else as JSON. --portal and --secret default to the simulator's (what the demo uses).
 */
const USAGE =
  'usage: npx tsx scripts/demo/cardCall.ts --service URL --user USER_ID [--portal ID] [--secret S] [--json] METHOD /api/v1/PATH [JSON_BODY]\n';

const argsSchema = z.object({
  service: z.url({ message: '--service must be the service URL, e.g. http://127.0.0.1:3000' }).transform((u) => u.replace(/\/+$/, '')),
  user: z.string().regex(/^\d+$/, { message: '--user must be a HubSpot user id (digits)' }),
  portal: z.coerce.number().int().positive().default(DEFAULTS.portalId),
  secret: z.string().min(1).default(process.env.HUBSPOT_CLIENT_SECRET ?? DEFAULTS.clientSecret),
  json: z.boolean(),
  method: z.enum(['GET', 'POST', 'PUT']),
  path: z.string().startsWith('/api/v1/', { message: 'the path must start with /api/v1/' }),
  body: z
    .string()
    .optional()
    .transform((raw, ctx) => {
      if (raw === undefined) return undefined;
      try {
        return JSON.parse(raw) as unknown;
      } catch {
        ctx.addIssue({ code: 'custom', message: 'the body must be JSON' });
        return z.NEVER;
      }
    }),
});

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { service: { type: 'string' }, user: { type: 'string' }, portal: { type: 'string' }, secret: { type: 'string' }, json: { type: 'boolean', default: false } },
  });
  const parsed = argsSchema.safeParse({ ...values, method: positionals[0]?.toUpperCase(), path: positionals[1], body: positionals[2] });
  if (!parsed.success) {
    process.stderr.write(`${parsed.error.issues.map((i) => `${i.path.join('.') || 'arguments'}: ${i.message}`).join('\n')}\n${USAGE}`);
    return 2;
  }
  const args = parsed.data;
  const response = await cardRequest(args.service, args.secret, {
    method: args.method,
    path: args.path,
    userId: args.user,
    portalId: args.portal,
    ...(args.body !== undefined ? { body: args.body } : {}),
  });
  process.stdout.write(`${args.method} ${args.path} as user ${args.user}: ${response.status}\n`);
  const ok = response.status >= 200 && response.status < 300;
  if (ok && !args.json && /^\/api\/v1\/(deals\/\d+\/gate|deals\/\d+\/reviews|reviews\/\d+\/(decision|withdraw))$/.test(args.path)) {
    process.stdout.write(`${renderCardAsText(response.json as GateResponse, args.user)}\n`);
  } else if (ok && !args.json && args.path === '/api/v1/dashboard') {
    process.stdout.write(`${renderDashboardAsText(response.json as DashboardResponse, args.user)}\n`);
  } else {
    process.stdout.write(`${JSON.stringify(response.json, null, 2)}\n`);
  }
  return ok ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(2);
  },
);
