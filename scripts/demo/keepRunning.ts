import { people, type DemoWorld } from './demoWorld';

/** What `--keep` prints: where everything runs and ready-to-paste ways to poke at it. */
export function keepRunningHelp(world: DemoWorld): string {
  const { stack, portalId } = world;
  const sim = stack.sim.url;
  const deals = stack.sim.deals();
  const first = deals[0]?.id ?? 'DEAL_ID';
  const card = (user: string, rest: string) => `  npx tsx scripts/demo/cardCall.ts --service ${stack.url} --user ${user} ${rest}`;
  return [
    '',
    'Still running (--keep); Ctrl-C stops both and deletes the temp database.',
    `  HubSpot simulator: ${sim}   (portal ${portalId}, access token ${stack.sim.accessToken}, client secret ${stack.clientSecret})`,
    `  Dealgate service:  ${stack.url}   (webhooks at ${stack.url}/webhooks/hubspot, card API at ${stack.url}/api/v1)`,
    `  Database:          ${stack.databasePath}`,
    `  People: ${Object.values(people)
      .map((p) => `${p.name} = user ${p.userId}`)
      .join('; ')}`,
    `  Deals: ${deals.map((d) => `${d.id} "${d.properties.dealname}" (${d.properties.dealstage})`).join(', ')}`,
    '',
    'The card as a user sees it (the request is signed as hubspot.fetch signs it):',
    card(people.rep.userId, `GET /api/v1/deals/${first}/gate`),
    card(people.admin.userId, 'GET /api/v1/dashboard'),
    '',
    'A rep moves a deal in "HubSpot", then see what HubSpot recorded (stage history, notes, tasks):',
    `  curl -s -X POST ${sim}/_sim/deals/${first}/stage -H 'content-type: application/json' -d '{"stage":"closedwon","userId":${people.rep.userId}}'`,
    `  curl -s ${sim}/_sim/deals/${first}`,
    `Other simulator routes: GET ${sim}/_sim/deals, POST ${sim}/_sim/deals {properties,userId}, POST ${sim}/_sim/deals/ID/properties {properties,userId}, GET ${sim}/_sim/webhooks, GET ${sim}/_sim/requests`,
    '',
  ].join('\n');
}
