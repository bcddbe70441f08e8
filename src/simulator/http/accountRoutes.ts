import { Router } from 'express';
import type { TokenAuthority } from '../auth/tokenAuthority';
import type { CurrencyBook } from '../crm/currencies';
import type { OwnerDirectory } from '../crm/owners';
import type { PipelineRegistry } from '../crm/pipelines';
import type { PropertyCatalog } from '../crm/propertyCatalog';
import { resourceNotFound, validationError } from '../hubspotErrors';
import { apiRoute, type ApiCall, type TrafficControls } from './apiRoute';
import { objectTypeParam } from './crmObjectRoutes';

/**
 * The account-level endpoints Dealgate uses: pipelines, properties and property groups, owners,
 * the account's details (which account a token belongs to) and the OAuth token endpoints.
 * https://developers.hubspot.com/docs/api/crm/pipelines
 * https://developers.hubspot.com/docs/api/crm/properties
 * https://developers.hubspot.com/docs/api/crm/owners
 * https://developers.hubspot.com/docs/api/oauth/tokens
 */
export interface AccountParts {
  catalog: PropertyCatalog;
  pipelines: PipelineRegistry;
  owners: OwnerDirectory;
  auth: TokenAuthority;
  currencies: CurrencyBook;
}

function jsonObject(call: ApiCall): Record<string, unknown> {
  if (typeof call.body !== 'object' || call.body === null || Array.isArray(call.body)) throw validationError('Invalid input JSON: expected an object');
  return call.body as Record<string, unknown>;
}

export function accountRoutes(parts: AccountParts, controls: TrafficControls): Router {
  const router = Router();
  pipelineRoutes(router, parts.pipelines, controls);
  propertyRoutes(router, parts.catalog, controls);
  ownerRoutes(router, parts.owners, controls);
  accountInfoRoute(router, parts.currencies, controls);
  oauthRoutes(router, parts.auth, controls);
  return router;
}

function pipelineRoutes(router: Router, pipelines: PipelineRegistry, controls: TrafficControls): void {
  // Only deals have pipelines in the simulator; other object types answer an empty list.
  const pipelinesOf = (raw: string | undefined) => (objectTypeParam(raw) === 'deals' ? pipelines : undefined);

  router.get(
    '/crm/v3/pipelines/:objectType',
    apiRoute(controls, (call) => ({ status: 200, body: { results: pipelinesOf(call.params.objectType)?.list() ?? [] } })),
  );
  router.get(
    '/crm/v3/pipelines/:objectType/:pipelineId',
    apiRoute(controls, (call) => {
      const registry = pipelinesOf(call.params.objectType);
      if (!registry) throw resourceNotFound(`Unable to find pipeline with id '${call.params.pipelineId ?? ''}'`);
      return { status: 200, body: registry.get(call.params.pipelineId ?? '') };
    }),
  );
  router.get(
    '/crm/v3/pipelines/:objectType/:pipelineId/stages',
    apiRoute(controls, (call) => {
      const registry = pipelinesOf(call.params.objectType);
      if (!registry) throw resourceNotFound(`Unable to find pipeline with id '${call.params.pipelineId ?? ''}'`);
      return { status: 200, body: { results: registry.get(call.params.pipelineId ?? '').stages } };
    }),
  );
  router.get(
    '/crm/v3/pipelines/:objectType/:pipelineId/stages/:stageId',
    apiRoute(controls, (call) => {
      const registry = pipelinesOf(call.params.objectType);
      if (!registry) throw resourceNotFound(`Unable to find pipeline with id '${call.params.pipelineId ?? ''}'`);
      return { status: 200, body: registry.getStage(call.params.pipelineId ?? '', call.params.stageId ?? '') };
    }),
  );
}

function propertyRoutes(router: Router, catalog: PropertyCatalog, controls: TrafficControls): void {
  // Groups first: `/groups` would otherwise read as a property named "groups".
  router.get(
    '/crm/v3/properties/:objectType/groups',
    apiRoute(controls, (call) => ({ status: 200, body: { results: catalog.listGroups(objectTypeParam(call.params.objectType)) } })),
  );
  router.post(
    '/crm/v3/properties/:objectType/groups',
    apiRoute(controls, (call) => ({ status: 201, body: catalog.createGroup(objectTypeParam(call.params.objectType), jsonObject(call)) })),
  );
  router.get(
    '/crm/v3/properties/:objectType/groups/:groupName',
    apiRoute(controls, (call) => ({ status: 200, body: catalog.getGroup(objectTypeParam(call.params.objectType), call.params.groupName ?? '') })),
  );
  router.get(
    '/crm/v3/properties/:objectType',
    apiRoute(controls, (call) => ({ status: 200, body: { results: catalog.list(objectTypeParam(call.params.objectType)) } })),
  );
  router.post(
    '/crm/v3/properties/:objectType',
    apiRoute(controls, (call) => ({ status: 201, body: catalog.create(objectTypeParam(call.params.objectType), jsonObject(call)) })),
  );
  router.get(
    '/crm/v3/properties/:objectType/:propertyName',
    apiRoute(controls, (call) => ({ status: 200, body: catalog.get(objectTypeParam(call.params.objectType), call.params.propertyName ?? '') })),
  );
}

function ownerRoutes(router: Router, owners: OwnerDirectory, controls: TrafficControls): void {
  router.get(
    '/crm/v3/owners',
    apiRoute(controls, (call) => {
      const email = typeof call.query.email === 'string' ? call.query.email.toLowerCase() : undefined;
      const limit = Math.min(500, Math.max(1, Number(call.query.limit ?? 100) || 100));
      const after = typeof call.query.after === 'string' ? Number(call.query.after) : 0;
      const archived = call.query.archived === 'true';
      const matching = owners.list(archived).filter((o) => (email === undefined || o.email.toLowerCase() === email) && Number(o.id) > after);
      const results = matching.slice(0, limit);
      const last = results[results.length - 1];
      const paging = matching.length > limit && last ? { next: { after: last.id, link: `?after=${last.id}` } } : undefined;
      return { status: 200, body: { results, ...(paging ? { paging } : {}) } };
    }),
  );
  router.get(
    '/crm/v3/owners/:ownerId',
    apiRoute(controls, (call) => {
      const id = call.params.ownerId ?? '';
      const owner = call.query.idProperty === 'userId' ? owners.byUserId(Number(id)) : owners.find(id);
      // As the list: an archived owner answers only with archived=true (HubSpot's default is false).
      if (!owner || owner.archived !== (call.query.archived === 'true')) throw resourceNotFound(`Owner ${id} not found`);
      return { status: 200, body: owner };
    }),
  );
}

function accountInfoRoute(router: Router, currencies: CurrencyBook, controls: TrafficControls): void {
  // https://developers.hubspot.com/docs/api-reference/legacy/account/account-information/get-account-details
  // Answers for any valid token (OAuth or static) with the `oauth` scope, so a client learns which account its token is for.
  router.get(
    '/account-info/v3/details',
    apiRoute(controls, (call) => ({
      status: 200,
      body: {
        portalId: call.grant?.portalId,
        accountType: 'STANDARD',
        timeZone: 'US/Eastern',
        companyCurrency: currencies.companyCurrency,
        additionalCurrencies: currencies.additionalCurrencies(),
        utcOffset: '-05:00',
        utcOffsetMilliseconds: -18_000_000,
        uiDomain: 'app.hubspot.com',
        dataHostingLocation: 'na1',
      },
    })),
  );
}

function oauthRoutes(router: Router, auth: TokenAuthority, controls: TrafficControls): void {
  router.post(
    '/oauth/v1/token',
    apiRoute(
      controls,
      (call) => {
        const form = (call.body ?? {}) as Record<string, string | undefined>;
        return { status: 200, body: auth.exchange(form) };
      },
      { public: true },
    ),
  );
  router.get(
    '/oauth/v1/access-tokens/:token',
    apiRoute(controls, (call) => ({ status: 200, body: auth.describe(call.params.token ?? '') }), { public: true }),
  );
}
