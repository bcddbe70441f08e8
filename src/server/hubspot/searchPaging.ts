import type { DealSearchFilter, DealSearchPage, DealSearchRequest, FoundDeal } from './gateway';
import type { SweepCursor } from '../storage/sweepStore';

/**
 * Paging through every deal a search matches, however many, one HubSpot call per page, from a
 * cursor that is stored after each page and resumed from.
 *
 * HubSpot's search pages with an offset (`after`) and answers at most 10,000 results per query
 * (an `after` past that is a 400): https://developers.hubspot.com/docs/api/crm/search#limitations.
 * So no page here uses `after`: each one is a new query for the deals whose record id is above
 * the last one taken (`hs_object_id GT`), sorted by record id. One call per page either way, and:
 * - no 10,000 cap: every query starts at its first result;
 * - no deal skipped or repeated while deals change: an id never changes, whereas under offsets a
 *   deal that stops matching (deleted, its commitment unticked) moves every later deal one place
 *   forward, and the deal at the page boundary is skipped;
 * - no trouble with deals that share a modification time. Windows of `hs_lastmodifieddate`
 *   (restart after the newest time seen) cannot get past more than 10,000 deals modified in the
 *   same millisecond, which HubSpot's own bulk updates produce (airbytehq/airbyte#43317, whose fix
 *   moved to the same id paging inside a modification-time filter, as the reconciliation does).
 */
export const RECORD_ID = 'hs_object_id';
/** HubSpot's largest page. */
export const SEARCH_PAGE_LIMIT = 200;

export interface PagedQuery {
  /** What every deal must match (AND). */
  filters: DealSearchFilter[];
  properties?: string[];
  /** Page size; default SEARCH_PAGE_LIMIT. */
  limit?: number;
}

export const CURSOR_AT_START: SweepCursor = { lastId: null };

/** The request for the cursor's next page. */
export function pageRequest(query: PagedQuery, cursor: SweepCursor): DealSearchRequest {
  const after: DealSearchFilter[] = cursor.lastId === null ? [] : [{ propertyName: RECORD_ID, operator: 'GT', value: cursor.lastId }];
  return {
    filterGroups: [{ filters: [...query.filters, ...after] }],
    sorts: [{ propertyName: RECORD_ID, direction: 'ASCENDING' }],
    ...(query.properties ? { properties: query.properties } : {}),
    limit: query.limit ?? SEARCH_PAGE_LIMIT,
  };
}

export interface PageStep {
  deals: FoundDeal[];
  /** Where the next page starts. */
  cursor: SweepCursor;
  done: boolean;
  /** Deals HubSpot still counts after this page (an estimate: deals change meanwhile). */
  remaining: number;
}

const byId = (a: string, b: string): number => (a.length - b.length) || (a < b ? -1 : a > b ? 1 : 0);

/** What a page answered means for the cursor. */
export function advance(cursor: SweepCursor, page: DealSearchPage): PageStep {
  // The highest id on the page (ids are decimal strings; compared as numbers of any length).
  const lastId = page.deals.reduce<string | null>((max, d) => (max === null || byId(d.id, max) > 0 ? d.id : max), cursor.lastId);
  const done = page.after === undefined || page.deals.length === 0;
  return { deals: page.deals, cursor: { ...cursor, lastId }, done, remaining: done ? 0 : Math.max(0, page.total - page.deals.length) };
}
