import { validationError } from '../hubspotErrors';
import type { CrmRecord } from './crmStore';
import type { CrmObjectType } from './objectTypes';
import type { PropertyCatalog, PropertyDefinition } from './propertyCatalog';

/**
 * The CRM search API's query language, as HubSpot documents it
 * (https://developers.hubspot.com/docs/api/crm/search):
 * - `filterGroups`: a record matches when it matches any group, and a group when it matches every
 *   filter in it. At most 5 groups, 10 filters in a group and 25 filters in all
 *   (https://developers.hubspot.com/changelog/breaking-change-expanded-filtering-capabilities-and-error-messaging-in-hubspots-search-api);
 *   beyond that a 400 VALIDATION_ERROR (the exact messages are unconfirmed).
 * - operators EQ, NEQ, LT, LTE, GT, GTE, BETWEEN (`value` and `highValue`, both inclusive), IN and
 *   NOT_IN (`values`), HAS_PROPERTY, NOT_HAS_PROPERTY, CONTAINS_TOKEN and NOT_CONTAINS_TOKEN (a word
 *   of the value; `*` is a wildcard).
 * - number properties compare as numbers, date and datetime properties as instants (a filter value
 *   may be epoch milliseconds or ISO 8601), everything else as text (string properties ignore case
 *   for EQ, NEQ, IN and NOT_IN: unconfirmed).
 * - a record without a value never matches EQ, LT, ..., IN, CONTAINS_TOKEN; it does match NEQ,
 *   NOT_IN and NOT_CONTAINS_TOKEN (unconfirmed).
 * - `sorts`: one rule, `{propertyName, direction: ASCENDING|DESCENDING}` (or a bare property name,
 *   ascending); records without the value come last; ties, and the order without a rule, by record
 *   id ascending (HubSpot's default order is unconfirmed).
 */
export const MAX_FILTER_GROUPS = 5;
export const MAX_FILTERS_PER_GROUP = 10;
export const MAX_FILTERS = 25;
export const MAX_SORTS = 1;

export const OPERATORS = [
  'EQ',
  'NEQ',
  'LT',
  'LTE',
  'GT',
  'GTE',
  'BETWEEN',
  'IN',
  'NOT_IN',
  'HAS_PROPERTY',
  'NOT_HAS_PROPERTY',
  'CONTAINS_TOKEN',
  'NOT_CONTAINS_TOKEN',
] as const;
export type Operator = (typeof OPERATORS)[number];

export interface SearchFilter {
  propertyName: string;
  operator: Operator;
  value?: string;
  highValue?: string;
  values?: string[];
}

export interface SearchSort {
  propertyName: string;
  direction: 'ASCENDING' | 'DESCENDING';
}

export interface SearchQuery {
  filterGroups: SearchFilter[][];
  sorts: SearchSort[];
  /** Free text over the object's default searchable text properties. */
  query?: string;
}

/** The text properties a free-text `query` looks in (HubSpot searches "default searchable properties"). */
const QUERY_PROPERTIES: Record<CrmObjectType, string[]> = {
  deals: ['dealname', 'description'],
  notes: ['hs_note_body'],
  tasks: ['hs_task_subject', 'hs_task_body'],
};

function invalid(message: string, inField: string): never {
  throw validationError(message, [{ message, in: inField }]);
}

function scalar(raw: unknown, field: string): string | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw === 'string' || typeof raw === 'number' || typeof raw === 'boolean') return String(raw);
  return invalid(`Invalid input JSON: ${field} must be a string`, field);
}

function parseFilter(raw: unknown, where: string): SearchFilter {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) invalid(`Invalid input JSON: ${where} must be an object`, where);
  const f = raw as Record<string, unknown>;
  if (typeof f.propertyName !== 'string' || f.propertyName === '') invalid(`Invalid input JSON: ${where}.propertyName is required`, `${where}.propertyName`);
  const operator = f.operator;
  if (typeof operator !== 'string' || !(OPERATORS as readonly string[]).includes(operator)) {
    invalid(`Invalid input JSON: ${where}.operator must be one of ${OPERATORS.join(', ')}`, `${where}.operator`);
  }
  const filter: SearchFilter = { propertyName: f.propertyName, operator: operator as Operator };
  const value = scalar(f.value, `${where}.value`);
  const highValue = scalar(f.highValue, `${where}.highValue`);
  if (value !== undefined) filter.value = value;
  if (highValue !== undefined) filter.highValue = highValue;
  if (f.values !== undefined) {
    if (!Array.isArray(f.values)) invalid(`Invalid input JSON: ${where}.values must be an array`, `${where}.values`);
    filter.values = f.values.map((v, i) => scalar(v, `${where}.values[${i}]`) ?? '');
  }
  const needs = (field: 'value' | 'highValue' | 'values'): void => {
    if (filter[field] === undefined) invalid(`Operator ${filter.operator} on ${filter.propertyName} needs ${field}`, `${where}.${field}`);
  };
  if (filter.operator === 'IN' || filter.operator === 'NOT_IN') needs('values');
  else if (filter.operator === 'BETWEEN') {
    needs('value');
    needs('highValue');
  } else if (filter.operator !== 'HAS_PROPERTY' && filter.operator !== 'NOT_HAS_PROPERTY') needs('value');
  return filter;
}

function parseSort(raw: unknown, where: string): SearchSort {
  if (typeof raw === 'string' && raw !== '') return { propertyName: raw, direction: 'ASCENDING' };
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return invalid(`Invalid input JSON: ${where} must be an object`, where);
  const s = raw as Record<string, unknown>;
  if (typeof s.propertyName !== 'string' || s.propertyName === '') invalid(`Invalid input JSON: ${where}.propertyName is required`, `${where}.propertyName`);
  const direction = s.direction ?? 'ASCENDING';
  if (direction !== 'ASCENDING' && direction !== 'DESCENDING') invalid(`Invalid input JSON: ${where}.direction must be ASCENDING or DESCENDING`, `${where}.direction`);
  return { propertyName: s.propertyName, direction };
}

/** The request body's query parts, or HubSpot's 400 for a malformed or too large one. */
export function parseSearchQuery(body: Record<string, unknown>): SearchQuery {
  const rawGroups = body.filterGroups ?? [];
  if (!Array.isArray(rawGroups)) invalid('Invalid input JSON: filterGroups must be an array', 'filterGroups');
  if (rawGroups.length > MAX_FILTER_GROUPS) {
    invalid(`Too many filter groups: ${rawGroups.length}. A search can have at most ${MAX_FILTER_GROUPS} filterGroups.`, 'filterGroups');
  }
  const filterGroups = rawGroups.map((group, g) => {
    const filters = (group as { filters?: unknown } | null)?.filters ?? [];
    if (!Array.isArray(filters)) invalid(`Invalid input JSON: filterGroups[${g}].filters must be an array`, `filterGroups[${g}].filters`);
    if (filters.length > MAX_FILTERS_PER_GROUP) {
      invalid(`Too many filters in filterGroups[${g}]: ${filters.length}. A filter group can have at most ${MAX_FILTERS_PER_GROUP} filters.`, `filterGroups[${g}].filters`);
    }
    return filters.map((f, i) => parseFilter(f, `filterGroups[${g}].filters[${i}]`));
  });
  const total = filterGroups.reduce((sum, g) => sum + g.length, 0);
  if (total > MAX_FILTERS) invalid(`Too many filters: ${total}. A search can have at most ${MAX_FILTERS} filters in all its filterGroups.`, 'filterGroups');

  const rawSorts = body.sorts ?? [];
  if (!Array.isArray(rawSorts)) invalid('Invalid input JSON: sorts must be an array', 'sorts');
  if (rawSorts.length > MAX_SORTS) invalid(`Too many sorts: ${rawSorts.length}. A search can use only one sorting rule at a time.`, 'sorts');
  const sorts = rawSorts.map((s, i) => parseSort(s, `sorts[${i}]`));

  const query = scalar(body.query, 'query');
  return { filterGroups, sorts, ...(query !== undefined && query.trim() !== '' ? { query } : {}) };
}

type Kind = 'number' | 'instant' | 'text' | 'caseless';

function kindOf(property: PropertyDefinition): Kind {
  if (property.type === 'number') return 'number';
  if (property.type === 'datetime' || property.type === 'date') return 'instant';
  return property.type === 'string' ? 'caseless' : 'text';
}

/** A value as it compares: numbers and instants as numbers, text as (lower-cased) strings. */
function comparable(kind: Kind, raw: string): number | string {
  if (kind === 'number') return Number(raw);
  if (kind === 'instant') return /^-?\d{1,16}$/.test(raw) ? Number(raw) : Date.parse(raw);
  return kind === 'caseless' ? raw.toLowerCase() : raw;
}

function filterOperand(kind: Kind, raw: string, filter: SearchFilter): number | string {
  const value = comparable(kind, raw);
  if (typeof value === 'number' && Number.isNaN(value)) {
    invalid(`${raw} is not a valid ${kind === 'number' ? 'number' : 'date'} for ${filter.propertyName} (operator ${filter.operator})`, 'filterGroups');
  }
  return value;
}

function compare(a: number | string, b: number | string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function tokens(text: string): string[] {
  return text
    .toLowerCase()
    .split(/[^\p{L}\p{N}_]+/u)
    .filter((t) => t !== '');
}

function tokenPattern(value: string): RegExp {
  const escaped = value
    .toLowerCase()
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${escaped}$`, 'u');
}

interface CompiledFilter {
  name: string;
  test: (stored: string | undefined) => boolean;
}

/** A stored value as it compares; undefined when the record has none (or one that does not parse). */
function storedValue(kind: Kind, stored: string | undefined): number | string | undefined {
  if (stored === undefined || stored === '') return undefined;
  const value = comparable(kind, stored);
  return typeof value === 'number' && Number.isNaN(value) ? undefined : value;
}

function compileFilter(filter: SearchFilter, property: PropertyDefinition): CompiledFilter {
  const kind = kindOf(property);
  const operand = (raw: string | undefined) => filterOperand(kind, raw ?? '', filter);
  const where = (predicate: (value: number | string) => boolean, whenMissing = false) => (stored: string | undefined) => {
    const value = storedValue(kind, stored);
    return value === undefined ? whenMissing : predicate(value);
  };
  switch (filter.operator) {
    case 'HAS_PROPERTY':
      return { name: filter.propertyName, test: where(() => true) };
    case 'NOT_HAS_PROPERTY':
      return { name: filter.propertyName, test: where(() => false, true) };
    case 'EQ':
    case 'NEQ':
    case 'LT':
    case 'LTE':
    case 'GT':
    case 'GTE': {
      const v = operand(filter.value);
      const accept = { EQ: (c: number) => c === 0, NEQ: (c: number) => c !== 0, LT: (c: number) => c < 0, LTE: (c: number) => c <= 0, GT: (c: number) => c > 0, GTE: (c: number) => c >= 0 }[filter.operator];
      return { name: filter.propertyName, test: where((value) => accept(compare(value, v)), filter.operator === 'NEQ') };
    }
    case 'BETWEEN': {
      const low = operand(filter.value);
      const high = operand(filter.highValue);
      return { name: filter.propertyName, test: where((value) => compare(value, low) >= 0 && compare(value, high) <= 0) };
    }
    case 'IN':
    case 'NOT_IN': {
      const set = (filter.values ?? []).map(operand);
      const inSet = (value: number | string) => set.some((v) => compare(value, v) === 0);
      return filter.operator === 'IN'
        ? { name: filter.propertyName, test: where(inSet) }
        : { name: filter.propertyName, test: where((value) => !inSet(value), true) };
    }
    case 'CONTAINS_TOKEN':
    case 'NOT_CONTAINS_TOKEN': {
      const pattern = tokenPattern(filter.value ?? '');
      const contains = (stored: string | undefined) => tokens(stored ?? '').some((t) => pattern.test(t));
      return filter.operator === 'CONTAINS_TOKEN'
        ? { name: filter.propertyName, test: (stored) => contains(stored) }
        : { name: filter.propertyName, test: (stored) => !contains(stored) };
    }
  }
}

/** The records of a type that match, in the order asked for; 400 for a property the type does not have. */
export function runSearch(records: CrmRecord[], type: CrmObjectType, search: SearchQuery, catalog: PropertyCatalog): CrmRecord[] {
  const propertyOf = (name: string, where: string): PropertyDefinition =>
    catalog.find(type, name) ?? invalid(`Property "${name}" does not exist on ${type} (${where})`, where);

  const groups = search.filterGroups
    .map((group, g) => group.map((filter, i) => compileFilter(filter, propertyOf(filter.propertyName, `filterGroups[${g}].filters[${i}]`))))
    .filter((group) => group.length > 0);
  const queryTokens = search.query ? tokens(search.query) : [];
  const matchesQuery = (record: CrmRecord): boolean => {
    if (queryTokens.length === 0) return true;
    const words = QUERY_PROPERTIES[type].flatMap((name) => tokens(record.values.get(name) ?? ''));
    return queryTokens.every((q) => words.some((w) => w.startsWith(q)));
  };
  const matched = records.filter(
    (record) => matchesQuery(record) && (groups.length === 0 || groups.some((group) => group.every((f) => f.test(record.values.get(f.name))))),
  );

  const byId = (a: CrmRecord, b: CrmRecord) => compare(Number(a.id), Number(b.id));
  const sort = search.sorts[0];
  if (!sort) return matched.sort(byId);
  const kind = kindOf(propertyOf(sort.propertyName, 'sorts[0]'));
  const sign = sort.direction === 'DESCENDING' ? -1 : 1;
  return matched.sort((a, b) => {
    const va = storedValue(kind, a.values.get(sort.propertyName));
    const vb = storedValue(kind, b.values.get(sort.propertyName));
    if (va === undefined || vb === undefined) return va === vb ? byId(a, b) : va === undefined ? 1 : -1;
    return sign * compare(va, vb) || byId(a, b);
  });
}
