import { Router } from 'express';
import type { CrmStore } from '../crm/crmStore';
import type { PropertyCatalog } from '../crm/propertyCatalog';
import { parseSearchQuery, runSearch } from '../crm/search';
import { validationError } from '../hubspotErrors';
import { apiRoute, type TrafficControls } from './apiRoute';
import { objectTypeParam } from './crmObjectRoutes';

/**
 * POST /crm/v3/objects/{objectType}/search, as HubSpot documents it
 * (https://developers.hubspot.com/docs/api/crm/search, "Limitations"):
 * - the body's `filterGroups`, `sorts` and `query` (src/simulator/crm/search.ts);
 * - `properties`: which properties come back (the type's defaults otherwise, as a read);
 * - `limit`: 10 by default, at most 200 ("the maximum number of supported objects per page is
 *   200"; above that a 400, message unconfirmed);
 * - `after`: the offset to start from, a string; the answer's `paging.next.after` is the next
 *   one, and `total` counts every match;
 * - "limited to 10,000 total results for any given query. Attempting to page beyond 10,000 will
 *   result in a 400 error": an `after` of 10,000 or more is refused (message unconfirmed), so a
 *   client that follows `paging.next` past the 10,000th result gets that 400, as in HubSpot;
 * - "rate limited to five requests per second per account", on top of the 10-second limit
 *   (429 `policyName: SECONDLY`, see apiRoute).
 * Archived records are not found. Changes are searchable at once (HubSpot may take a few moments).
 */
export const SEARCH_DEFAULT_LIMIT = 10;
export const SEARCH_MAX_LIMIT = 200;
export const SEARCH_MAX_RESULTS = 10_000;

function integerField(raw: unknown, field: string, fallback: number): number {
  if (raw === undefined || raw === null || raw === '') return fallback;
  const n = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isInteger(n) || n < 0) throw validationError(`Invalid input JSON: ${field} must be a non-negative integer, got ${JSON.stringify(raw)}`, [{ message: `${field} must be a non-negative integer`, in: field }]);
  return n;
}

export function searchRoutes(store: CrmStore, catalog: PropertyCatalog, controls: TrafficControls): Router {
  const router = Router();
  router.post(
    '/crm/v3/objects/:objectType/search',
    apiRoute(
      controls,
      (call) => {
        const type = objectTypeParam(call.params.objectType);
        const body = call.body ?? {};
        if (typeof body !== 'object' || body === null || Array.isArray(body)) throw validationError('Invalid input JSON: expected an object');
        const request = body as Record<string, unknown>;

        const limit = integerField(request.limit, 'limit', SEARCH_DEFAULT_LIMIT);
        if (limit < 1 || limit > SEARCH_MAX_LIMIT) {
          throw validationError(`limit must be between 1 and ${SEARCH_MAX_LIMIT}, got ${limit}`, [{ message: `limit must be at most ${SEARCH_MAX_LIMIT}`, in: 'limit' }]);
        }
        const after = integerField(request.after, 'after', 0);
        if (after >= SEARCH_MAX_RESULTS) {
          throw validationError(`Cannot page beyond the first ${SEARCH_MAX_RESULTS} results of a search (after=${after}); narrow the search instead.`, [
            { message: `after must be less than ${SEARCH_MAX_RESULTS}`, in: 'after' },
          ]);
        }
        let properties: string[] | undefined;
        if (request.properties !== undefined) {
          if (!Array.isArray(request.properties) || request.properties.some((p) => typeof p !== 'string')) {
            throw validationError('Invalid input JSON: properties must be an array of strings', [{ message: 'properties must be an array of strings', in: 'properties' }]);
          }
          properties = request.properties as string[];
        }

        const matched = runSearch(store.list(type), type, parseSearchQuery(request), catalog);
        const end = Math.min(after + limit, matched.length, SEARCH_MAX_RESULTS);
        const results = matched.slice(after, end).map((record) => {
          const { propertiesWithHistory: _h, associations: _a, ...plain } = store.present(record, properties && properties.length > 0 ? { properties } : {});
          return plain;
        });
        const paging = end < matched.length ? { next: { after: String(end) } } : undefined;
        return { status: 200, body: { total: matched.length, results, ...(paging ? { paging } : {}) } };
      },
      { search: true },
    ),
  );
  return router;
}
