import { Router, type Request } from 'express';
import { z } from 'zod';
import { decisionBody, deliveryUpdateBody, requestReviewBody, perspectiveBody, breakGlassBody } from '../../../extensions/contract/api';
import type { Clock } from '../shared/clock';
import { notInstalled } from '../shared/errors';
import type { Config } from '../config/config';
import type { HubSpotGateway } from '../hubspot/gateway';
import type { Logger } from '../shared/logger';
import type { Store } from '../storage/store';
import type { Caller, GateContext } from '../application/context';
import { enforceBackfill } from '../application/backfillEnforcement';
import { buildDashboard } from '../application/dashboard';
import { decide, getGate, requestReview, withdraw } from '../application/gateService';
import { getSettings, putSettings } from '../application/settingsService';
import { updateDeliveryFromCard } from '../application/deliveryService';
import { givePerspective } from '../application/triadPerspective';
import { openBreakGlass } from '../application/breakGlassService';
import { rawBody, verifyHubSpotRequest } from './signedRequest';
import { validate } from '../shared/validation';
import { absenceRoutes } from './absenceRoutes';
import { listPeople, refreshPeopleIfStale } from '../application/people';

/**
 * The card API, called by the Dealgate card and pages through `hubspot.fetch`. Every route sits
 * behind HubSpot's v3 signature (checked over the raw bytes before anything is parsed), and the
 * caller is whoever the verified query string says: HubSpot appends `portalId` and `userId` to
 * each `hubspot.fetch` URL (https://developers.hubspot.com/docs/apps/developer-platform/add-features/ui-extensibility/fetching-data).
 * Nothing else (headers, body, path) is ever taken as identity, and every query is scoped to the
 * caller's portal, so one account's data is invisible (404) to another.
 */
export const CARD_API_PATH = '/api/v1';

export interface CardApiDeps {
  config: Pick<Config, 'publicBaseUrl' | 'defaults'> & { hubspot: Pick<Config['hubspot'], 'clientSecret'> };
  store: Store;
  clock: Clock;
  logger: Logger;
  gateway: HubSpotGateway;
  /** Whether Dealgate holds credentials for the account (HubSpotClients.serves). */
  servesAccount: (portalId: number) => Promise<boolean>;
}

const hubspotId = z.string().regex(/^\d{1,18}$/, { message: 'must be a HubSpot id (digits only)' });

/** What HubSpot appends to the query string; other parameters (userEmail, appId, ...) are ignored. */
const callerQuery = z.object({
  portalId: hubspotId.transform(Number),
  userId: hubspotId,
});

const dealParams = z.object({ dealId: hubspotId });
const reviewParams = z.object({ reviewId: z.string().regex(/^[1-9]\d{0,14}$/, { message: 'must be a review id (a positive whole number)' }).transform(Number) });

/** The verified caller. Call only after verifyHubSpotRequest. A repeated parameter is refused, never guessed at. */
function callerOf(req: Request): Caller {
  return validate(callerQuery, req.query, 'query');
}

export function cardApi(deps: CardApiDeps): Router {
  const ctx: GateContext = { store: deps.store, clock: deps.clock, defaults: deps.config.defaults, gateway: deps.gateway, logger: deps.logger };
  const router = Router();

  // Signature first, for every path under the API (unknown ones too): 401 before any parsing.
  // Then a request that changes something is accepted once per signature: a replay is a 409 `replayed`.
  router.use(
    rawBody,
    verifyHubSpotRequest({ clientSecret: deps.config.hubspot.clientSecret, publicBaseUrl: deps.config.publicBaseUrl, clock: deps.clock, seen: deps.store.seenSignatures }),
  );
  // Then the account: one that never installed (and is not the static token's) gets nothing, on
  // every route, whatever settings or defaults would say about its users.
  router.use(async (req, _res, next) => {
    const { portalId } = callerOf(req);
    if (!(await deps.servesAccount(portalId))) throw notInstalled(portalId);
    next();
  });
  // Then the account's people, read again from HubSpot when the cached list is older than its
  // interval, before any use case opens a transaction: every answer and note names people.
  router.use(async (req, _res, next) => {
    await refreshPeopleIfStale(ctx, callerOf(req).portalId);
    next();
  });

  router.get('/people', async (req, res) => {
    res.json(await listPeople(ctx, callerOf(req).portalId));
  });

  dealRoutes(router, ctx);
  reviewRoutes(router, ctx);

  router.get('/settings', async (req, res) => {
    res.json(await getSettings(ctx, callerOf(req)));
  });

  router.put('/settings', async (req, res) => {
    res.json(await putSettings(ctx, callerOf(req), req.body));
  });

  router.get('/dashboard', async (req, res) => {
    res.json(await buildDashboard(ctx, callerOf(req)));
  });

  absenceRoutes(router, ctx, callerOf);

  router.post('/flags/backfill/enforce', async (req, res) => {
    validate(z.object({}).strict().nullish(), req.body);
    res.status(202).json(await enforceBackfill(ctx, callerOf(req)));
  });

  return router;
}

/** A deal's card: its gate, a review request, a break-glass. */
function dealRoutes(router: Router, ctx: GateContext): void {
  router.get('/deals/:dealId/gate', async (req, res) => {
    const caller = callerOf(req);
    const { dealId } = validate(dealParams, req.params, 'path');
    res.json(await getGate(ctx, caller, dealId));
  });

  router.post('/deals/:dealId/reviews', async (req, res) => {
    const caller = callerOf(req);
    const { dealId } = validate(dealParams, req.params, 'path');
    const body = validate(requestReviewBody, req.body);
    res.status(201).json(await requestReview(ctx, caller, dealId, body));
  });

  router.post('/deals/:dealId/break-glass', async (req, res) => {
    const caller = callerOf(req);
    const { dealId } = validate(dealParams, req.params, 'path');
    const body = validate(breakGlassBody, req.body);
    res.status(201).json(await openBreakGlass(ctx, caller, dealId, body));
  });
}

/** What happens to a review: the decision, a withdrawal, the delivery of a yes, a Triad member's view. */
function reviewRoutes(router: Router, ctx: GateContext): void {
  router.post('/reviews/:reviewId/decision', async (req, res) => {
    const caller = callerOf(req);
    const { reviewId } = validate(reviewParams, req.params, 'path');
    const body = validate(decisionBody, req.body);
    res.json(await decide(ctx, caller, reviewId, body));
  });

  router.post('/reviews/:reviewId/withdraw', async (req, res) => {
    const caller = callerOf(req);
    const { reviewId } = validate(reviewParams, req.params, 'path');
    // The withdrawal carries no data; a body, if any, must be an empty object (or JSON null).
    validate(z.object({}).strict().nullish(), req.body);
    res.json(await withdraw(ctx, caller, reviewId));
  });

  router.post('/reviews/:reviewId/delivery', async (req, res) => {
    const caller = callerOf(req);
    const { reviewId } = validate(reviewParams, req.params, 'path');
    const body = validate(deliveryUpdateBody, req.body);
    res.json(await updateDeliveryFromCard(ctx, caller, reviewId, body));
  });

  router.post('/reviews/:reviewId/perspective', async (req, res) => {
    const caller = callerOf(req);
    const { reviewId } = validate(reviewParams, req.params, 'path');
    const body = validate(perspectiveBody, req.body);
    res.json(await givePerspective(ctx, caller, reviewId, body));
  });
}
