import { people, whoIsWho, type DemoWorld } from './demoWorld';

/** What `--keep` prints: where everything runs and ready-to-paste ways to poke at it. */
export async function keepRunningHelp(world: DemoWorld): Promise<string> {
  const { stack, portalId } = world;
  const sim = stack.sim.url;
  const deals = stack.sim.deals();
  // The deal still held before the gate (its review unanswered) makes the liveliest examples.
  const held = deals.find((d) => d.properties.dealgate_status === 'overdue' || d.properties.dealgate_status === 'pending') ?? deals[0];
  const dealId = held?.id ?? 'DEAL_ID';
  const reviewId = held ? ((await stack.store.reviews.latestForDeal(portalId, held.id))?.id ?? 'REVIEW_ID') : 'REVIEW_ID';
  const card = (user: string, rest: string) => `  npx tsx scripts/demo/cardCall.ts --service ${stack.url} --user ${user} ${rest}`;
  return [
    '',
    'Still running (--keep); Ctrl-C stops both and deletes the temp database.',
    `  HubSpot simulator: ${sim}   (portal ${portalId}, access token ${stack.sim.accessToken}, client secret ${stack.clientSecret})`,
    `  Dealgate service:  ${stack.url}   (webhooks at ${stack.url}/webhooks/hubspot, card API at ${stack.url}/api/v1)`,
    `  Database:          ${stack.databasePath}`,
    `  People: ${whoIsWho()}`,
    `  Deals: ${deals.map((d) => `${d.id} "${d.properties.dealname}" (${d.properties.dealstage})`).join(', ')}`,
    '',
    'The card as a user sees it (the request is signed as hubspot.fetch signs it):',
    card(people.rep.userId, `GET /api/v1/deals/${dealId}/gate`),
    card(people.reviewer.userId, `POST /api/v1/reviews/${reviewId}/decision '{"outcome":"no","note":"Not this quarter"}'`),
    card(people.admin.userId, 'GET /api/v1/dashboard'),
    '',
    `A rep moves deal ${dealId} past the gate in "HubSpot"; then see what HubSpot recorded (the deal, stage history, notes, tasks):`,
    `  curl -s -X POST ${sim}/_sim/deals/${dealId}/stage -H 'content-type: application/json' -d '{"stage":"closedwon","userId":${people.rep.userId}}'`,
    `  curl -s ${sim}/_sim/deals/${dealId}`,
    `Other simulator routes: GET ${sim}/_sim/deals, POST ${sim}/_sim/deals {properties,userId}, POST ${sim}/_sim/deals/ID/properties {properties,userId}, GET ${sim}/_sim/webhooks, GET ${sim}/_sim/requests`,
    '',
  ].join('\n');
}
