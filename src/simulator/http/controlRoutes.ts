import { Router, type Request, type Response } from 'express';
import { HubSpotError } from '../hubspotErrors';
import type { Simulator } from '../simulator';

/**
 * The simulator's own HTTP control API under `/_sim`, for a simulator running in another process
 * (the CLI, the demo). Not part of HubSpot's API: no token, no rate limit, not in the request log.
 *
 *   GET  /_sim/deals                         every deal
 *   POST /_sim/deals                         {properties, userId, silent?}: a user creates a deal
 *   POST /_sim/deals/bulk                    {count, properties, stages?, deals?, userId?, at?}: many deals at once, no webhooks
 *   GET  /_sim/deals/:id                     the deal, its dealstage history, notes and tasks
 *   POST /_sim/deals/:id/stage               {stage, userId, silent?}: a user moves the deal
 *   POST /_sim/deals/:id/properties          {properties, userId, silent?}: a user edits the deal
 *   POST /_sim/currencies/exchange-rates     {currencyCode, conversionRate}: add a currency or change its rate
 *
 * `"silent": true` makes the change without sending its webhook (a delivery HubSpot gave up on,
 * an outage, a switched-off subscription): history and hs_lastmodifieddate still show it.
 *   GET  /_sim/requests                      the request log and counts per endpoint
 *   GET  /_sim/webhooks                      generated events and delivery attempts
 *   POST /_sim/webhooks/target               {url}: where webhooks go
 *   POST /_sim/oauth/code                    {redirectUri, userId?}: an authorization code
 */
function jsonBody(req: Request): Record<string, unknown> {
  const raw: unknown = req.body;
  if (!Buffer.isBuffer(raw) || raw.length === 0) return {};
  const parsed: unknown = JSON.parse(raw.toString('utf8'));
  return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : {};
}

function userIdOf(body: Record<string, unknown>): number {
  const userId = Number(body.userId);
  if (!Number.isInteger(userId) || userId <= 0) throw new HubSpotError(400, { status: 'error', message: 'userId (a positive integer) is required', correlationId: 'simulator' });
  return userId;
}

function silentOf(body: Record<string, unknown>): { silent?: boolean } {
  return body.silent === true ? { silent: true } : {};
}

function stringRecord(value: unknown): Record<string, string> {
  if (typeof value !== 'object' || value === null) return {};
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, String(v)]));
}

function control(action: (req: Request) => unknown, status = 200) {
  return (req: Request, res: Response): void => {
    try {
      res.status(status).json(action(req));
    } catch (error) {
      if (error instanceof HubSpotError) res.status(error.httpStatus).json(error.body);
      else res.status(400).json({ status: 'error', message: error instanceof Error ? error.message : String(error) });
    }
  };
}

export function controlRoutes(sim: Simulator): Router {
  const router = Router();
  router.get('/_sim/deals', control(() => ({ results: sim.deals() })));
  router.post(
    '/_sim/deals',
    control((req) => {
      const body = jsonBody(req);
      return sim.createDealAsUser(stringRecord(body.properties), { userId: userIdOf(body), ...silentOf(body) });
    }, 201),
  );
  router.post(
    '/_sim/deals/bulk',
    control((req) => {
      const body = jsonBody(req);
      const count = body.count === undefined ? 0 : Number(body.count);
      if (!Number.isInteger(count) || count < 0) throw new HubSpotError(400, { status: 'error', message: 'count must be a non-negative integer', correlationId: 'simulator' });
      const ids = sim.createDeals({
        count,
        properties: stringRecord(body.properties),
        ...(Array.isArray(body.stages) ? { stages: body.stages.map(String) } : {}),
        ...(Array.isArray(body.deals) ? { deals: body.deals.map((d: unknown) => ({ properties: stringRecord((d as { properties?: unknown } | null)?.properties) })) } : {}),
        ...(body.userId !== undefined ? { userId: userIdOf(body) } : {}),
        ...(typeof body.at === 'number' ? { at: body.at } : {}),
      });
      return { count: ids.length, ids };
    }, 201),
  );
  router.get(
    '/_sim/deals/:id',
    control((req) => {
      const id = String(req.params.id);
      const deal = sim.getDeal(id);
      if (!deal) throw new HubSpotError(404, { status: 'error', message: `no deal ${id}`, correlationId: 'simulator' });
      return { deal, dealstageHistory: sim.dealHistory(id, 'dealstage'), notes: sim.notesForDeal(id), tasks: sim.tasksForDeal(id) };
    }),
  );
  router.post(
    '/_sim/deals/:id/stage',
    control((req) => {
      const body = jsonBody(req);
      return sim.moveDealToStage(String(req.params.id), String(body.stage), { userId: userIdOf(body), ...silentOf(body) });
    }),
  );
  router.post(
    '/_sim/deals/:id/properties',
    control((req) => {
      const body = jsonBody(req);
      return sim.updateDealAsUser(String(req.params.id), stringRecord(body.properties), { userId: userIdOf(body), ...silentOf(body) });
    }),
  );
  router.post(
    '/_sim/currencies/exchange-rates',
    control((req) => {
      const body = jsonBody(req);
      const currencyCode = String(body.currencyCode);
      const conversionRate = Number(body.conversionRate);
      sim.setExchangeRate(currencyCode, conversionRate);
      return { fromCurrencyCode: currencyCode, toCurrencyCode: sim.companyCurrency, conversionRate };
    }),
  );
  router.get('/_sim/requests', control(() => ({ counts: sim.requests.countsByEndpoint(), requests: sim.requests.all() })));
  router.get('/_sim/webhooks', control(() => ({ events: sim.webhooks.events(), deliveries: sim.webhooks.deliveries() })));
  router.post(
    '/_sim/webhooks/target',
    control((req) => {
      const url = String(jsonBody(req).url);
      sim.webhooks.setTargetUrl(url);
      return { targetUrl: url };
    }),
  );
  router.post(
    '/_sim/oauth/code',
    control((req) => {
      const body = jsonBody(req);
      const code = sim.issueAuthorizationCode({ redirectUri: String(body.redirectUri), ...(body.userId !== undefined ? { userId: userIdOf(body) } : {}) });
      return { code };
    }),
  );
  return router;
}
