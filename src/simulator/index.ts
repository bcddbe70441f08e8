/**
 * A local HubSpot: an HTTP server on 127.0.0.1 that speaks the part of HubSpot's API Dealgate
 * uses, closely enough that the real @hubspot/api-client pointed at it (`basePath: sim.url`)
 * cannot tell, and that sends webhooks the way HubSpot does. Every test and the demo run
 * against it; nothing here is part of the service or of the HubSpot upload.
 *
 * API (same paths, payloads, status codes and error bodies as HubSpot):
 * - /crm/v3/objects/{deals|notes|tasks}: create, get (properties, propertiesWithHistory,
 *   associations), list, PATCH, DELETE, batch read/create/update/archive; 404 for unknown ids;
 *   400 PROPERTY_DOESNT_EXIST / INVALID_OPTION for bad writes; notes and tasks need hs_timestamp
 *   and take associations to deals (214 note→deal, 216 task→deal).
 * - /crm/v4/objects/{type}/{id}/associations/{toType}: what is associated.
 * - /crm/v3/pipelines/deals[/{id}[/stages[/{stageId}]]]: the default sales pipeline with
 *   HubSpot's stage ids, plus seeded ones.
 * - /crm/v3/properties/{type}[/{name}], /crm/v3/properties/{type}/groups[/{name}]: 409 on create
 *   when it exists.
 * - /crm/v3/owners/[{ownerId}].
 * - POST /crm/v3/objects/{type}/search: filterGroups (at most 5 groups, 10 filters in one, 25 in
 *   all), every operator, one sort, properties, limit up to 200, after/total paging, 400 past the
 *   10,000th result, and 5 searches per second per account (429 policyName SECONDLY).
 * - Deals carry createdate, hs_lastmodifieddate (moved by every change), deal_currency_code and
 *   the calculated, read-only amount_in_home_currency (amount at the currency's exchange rate).
 * - /oauth/v1/token (authorization_code, refresh_token), /oauth/v1/access-tokens/{token}, /account-info/v3/details.
 * - Every other call needs `Authorization: Bearer <token>` (401 bodies for missing, unknown and
 *   expired tokens), the scopes src/simulator/auth/scopes.ts lists for its endpoint (403
 *   MISSING_SCOPES; tokens carry the project's requiredScopes unless issued with their own), and
 *   counts against a rolling 10-second limit per app and account (429 with policyName
 *   TEN_SECONDLY_ROLLING).
 *
 * Test API:
 *   const sim = await startSimulator({ webhookTargetUrl, clientSecret, ... });
 *   const client = new Client({ accessToken: sim.accessToken, basePath: sim.url, numberOfApiCallRetries: 0 });
 *   const deal = sim.seedDeal({ properties: { dealname: 'Acme', dealstage: 'qualifiedtobuy', amount: '60000' } });
 *   sim.moveDealToStage(deal.id, 'contractsent', { userId: 42 });   // a user in HubSpot's UI
 *   sim.moveDealToStage(deal.id, 'closedwon', { userId: 42, silent: true }); // ... whose webhook never comes
 *   sim.createDeals({ count: 5000, properties: { dealname: 'Deal {n}', amount: '60000' }, stages: ['contractsent'] });
 *   sim.issueAccessToken({ scopes: ['crm.objects.deals.read'] });    // a token with fewer scopes
 *   sim.setExchangeRate('EUR', 1.1);                                 // or startSimulator({ currencies })
 *   await sim.webhooks.idle();                                       // every webhook delivered
 *   sim.dealHistory(deal.id, 'dealstage'); sim.notesForDeal(deal.id); sim.requests.count('PATCH /crm/v3/objects/deals/{objectId}');
 *   sim.faults.failNext(2, { status: 503 }); sim.faults.latency(200); sim.faults.hangNext();
 *   const held = sim.faults.holdNextAnswer({ match: 'GET /crm/v3/objects/deals' }); await held.handled; held.release();
 *   await sim.stop();
 *
 * Changes made with the app's tokens show as sourceType/changeSource INTEGRATION with the app id
 * as sourceId; a user's as CRM_UI with `sourceId: "userId:<id>"` and updatedByUserId. Webhook
 * subscriptions come from src/app/webhooks/webhooks-hsmeta.json. A simulator keeps one account.
 */
export { startSimulator, DEFAULTS } from './simulator';
export type { Simulator, SimulatorOptions, SimRecord, SimEngagement, SeedDeal, BulkDeals, UserAction, SimulatorWebhooks } from './simulator';
export { ENDPOINT_SCOPES, OBJECT_SCOPES, projectScopes, scopeRequirementOf, unmetScopes } from './auth/scopes';
export type { ScopeRequirement } from './auth/scopes';
export type { CurrencySettings } from './crm/currencies';
export { MAX_FILTER_GROUPS, MAX_FILTERS, MAX_FILTERS_PER_GROUP } from './crm/search';
export { SEARCH_DEFAULT_LIMIT, SEARCH_MAX_LIMIT, SEARCH_MAX_RESULTS } from './http/searchRoutes';
export type { IssueTokenOptions } from './auth/tokenAuthority';
export type { HistoryEntry } from './crm/crmStore';
export type { Owner, OwnerSeed } from './crm/owners';
export type { Pipeline, PipelineSeed, PipelineStage, StageSeed } from './crm/pipelines';
export { DEFAULT_SALES_PIPELINE } from './crm/pipelines';
export type { PropertyDefinition, PropertyGroup, PropertyInput } from './crm/propertyCatalog';
export { NOTE_TO_DEAL, TASK_TO_DEAL } from './crm/associations';
export type { FailOptions, HangOptions, HeldAnswer, RequestMatcher } from './traffic/faults';
export type { LoggedRequest } from './traffic/requestLog';
export type { DeliveryAttempt, DeliverySettings, WebhookEvent } from './webhooks/webhookDispatcher';
export type { Subscription, WebhooksConfig } from './webhooks/subscriptions';
export type { HubSpotErrorBody } from './hubspotErrors';
