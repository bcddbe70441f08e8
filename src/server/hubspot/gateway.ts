import type { Client } from '@hubspot/api-client';
import { AssociationSpecAssociationCategoryEnum } from '@hubspot/api-client/lib/codegen/crm/objects/notes';
import type { FilterOperatorEnum } from '@hubspot/api-client/lib/codegen/crm/deals';
import {
  PropertyCreateFieldTypeEnum,
  PropertyCreateTypeEnum,
} from '@hubspot/api-client/lib/codegen/crm/properties';
import type { HubSpotClients } from './clients';
import { assertOutsideTransaction } from '../storage/transactionScope';

/**
 * Dealgate's one adapter over HubSpot's API: every call Dealgate makes goes through here, so the
 * rest of the service speaks in deal facts, not SDK models. Errors are the SDK's ApiException
 * ({code, body, headers}); `classifyHubSpotError` tells callers whether to retry.
 */

/** The deal properties Dealgate reads. */
export const DEAL_PROPERTIES = [
  'dealname',
  'amount',
  // HubSpot's conversion of the amount to the account's currency (calculated; absent on accounts
  // with one currency, where it equals the amount).
  'amount_in_home_currency',
  'dealstage',
  'pipeline',
  'hubspot_owner_id',
  'dealgate_commitment',
  'dealgate_commitment_summary',
  'dealgate_effort_weeks',
  'dealgate_status',
] as const;

export interface StageChange {
  value: string;
  timestamp: number;
  sourceType: string;
  sourceId: string | null;
  updatedByUserId: string | null;
}

export interface HubSpotDeal {
  id: string;
  name: string | null;
  amount: number | null;
  /** `amount_in_home_currency`, when HubSpot set it. */
  amountInHomeCurrency: number | null;
  stage: string | null;
  pipeline: string | null;
  ownerId: string | null;
  commitment: boolean;
  commitmentSummary: string | null;
  effortWeeks: number | null;
  status: string | null;
  updatedAt: number;
  /** Newest first, when asked for. */
  stageHistory: StageChange[];
  /**
   * When Dealgate sent the read (its own clock). HubSpot answered with what it had at some moment
   * after this: a write of Dealgate's delivered since may be missing from these facts.
   */
  readAt: number;
}

export interface PipelineStageInfo {
  id: string;
  label: string;
  displayOrder: number;
  isClosed: boolean;
  /** HubSpot marks lost stages as closed with probability 0. */
  isLost: boolean;
}

export interface PipelineInfo {
  id: string;
  label: string;
  displayOrder: number;
  stages: PipelineStageInfo[];
}

export interface NewEngagement {
  dealId: string;
  body: string;
  /** Tasks only. */
  subject?: string;
  ownerId?: string;
  dueAt?: number;
  /** Tasks only: when HubSpot reminds the owner (hs_task_reminders, epoch ms). */
  reminderAt?: number;
}

/** A note or task as HubSpot has it: its id and body (the body may hold Dealgate's reference). */
export interface EngagementRecord {
  id: string;
  body: string | null;
}

/** What a batch update of tasks did: the ids HubSpot updated, and those it does not have (deleted). */
export interface TaskUpdateOutcome {
  updated: string[];
  missing: string[];
}

/** `hs_task_status` of a done task. */
export const TASK_COMPLETED = 'COMPLETED';

export interface HubSpotOwner {
  id: string;
  userId: string | null;
  email: string | null;
  /** HubSpot leaves either name empty when the user never gave it. */
  firstName: string | null;
  lastName: string | null;
}

/** A filter of HubSpot's CRM search (https://developers.hubspot.com/docs/api/crm/search#filter-search-results). */
export interface DealSearchFilter {
  propertyName: string;
  operator: 'EQ' | 'NEQ' | 'LT' | 'LTE' | 'GT' | 'GTE' | 'BETWEEN' | 'IN' | 'NOT_IN' | 'HAS_PROPERTY' | 'NOT_HAS_PROPERTY' | 'CONTAINS_TOKEN';
  /** Dates and datetimes as milliseconds since the epoch, written as a string. */
  value?: string;
  values?: string[];
  highValue?: string;
}

export interface DealSearchRequest {
  /** OR of the groups, AND of the filters inside one (at most 5 groups, 25 filters in all). */
  filterGroups: { filters: DealSearchFilter[] }[];
  /** HubSpot applies one sort rule per search. */
  sorts?: { propertyName: string; direction: 'ASCENDING' | 'DESCENDING' }[];
  /** Returned besides `hs_lastmodifieddate`, which is always asked for. */
  properties?: string[];
  /** Up to 200. */
  limit?: number;
  /** The previous page's `after`. HubSpot answers at most 10,000 results of one query. */
  after?: string;
}

export interface FoundDeal {
  id: string;
  /** `hs_lastmodifieddate` in milliseconds (HubSpot answers it as an ISO date). */
  lastModifiedAt: number;
  /** The properties asked for, as HubSpot answered them. */
  properties: Record<string, string | null>;
}

export interface DealSearchPage {
  deals: FoundDeal[];
  /** How many deals match the query in all. */
  total: number;
  /** Give it back as `after` for the next page; undefined on the last one. */
  after: string | undefined;
}

export interface PropertyDefinition {
  name: string;
  label: string;
  type: PropertyCreateTypeEnum;
  fieldType: PropertyCreateFieldTypeEnum;
  description: string;
  options?: { label: string; value: string; displayOrder: number }[];
}

/** Awaited by a gateway call of several HubSpot requests before each one after the first. */
export type PaceNext = () => Promise<unknown>;

export interface HubSpotGateway {
  getDeal(portalId: number, dealId: string, options?: { withStageHistory?: boolean }): Promise<HubSpotDeal | undefined>;
  /** Up to 100 ids per call; unknown ids are left out. */
  batchReadDeals(portalId: number, dealIds: string[], options?: { withStageHistory?: boolean }): Promise<HubSpotDeal[]>;
  updateDeal(portalId: number, dealId: string, properties: Record<string, string>): Promise<void>;
  /** Up to 100 deals per call. */
  batchUpdateDeals(portalId: number, updates: { id: string; properties: Record<string, string> }[]): Promise<void>;
  /** Up to 100 notes per call; returns the created ids in order. */
  createNotes(portalId: number, notes: NewEngagement[]): Promise<string[]>;
  createTasks(portalId: number, tasks: NewEngagement[]): Promise<string[]>;
  /** Up to 100 tasks per call; each created task's id and body as HubSpot answered (match them by body, not by order). */
  createTaskRecords(portalId: number, tasks: NewEngagement[]): Promise<EngagementRecord[]>;
  /**
   * Up to 100 tasks per call (`POST /crm/v3/objects/tasks/batch/update`). Tasks HubSpot does not
   * have (deleted; a 207 naming them as OBJECT_NOT_FOUND, or a 404) are answered as `missing`, not
   * thrown; any other failure throws.
   */
  batchUpdateTasks(portalId: number, updates: { id: string; properties: Record<string, string> }[]): Promise<TaskUpdateOutcome>;
  getPipelines(portalId: number): Promise<PipelineInfo[]>;
  /**
   * The account's owners (tasks are assigned to owners; reviewers are configured as user ids).
   * `paceNext`: awaited before each request after the first (the pages): a caller that counts
   * HubSpot's budget per request (the outbox's rate governor) draws a permit for each.
   */
  getOwners(portalId: number, paceNext?: PaceNext): Promise<HubSpotOwner[]>;
  /**
   * The owners of users deactivated in HubSpot (GET /crm/v3/owners?archived=true), their user id
   * read from `userIdIncludingInactive` (HubSpot drops `userId` then): for the names of people who
   * left, never to assign anything to. `paceNext` as for getOwners.
   */
  getDeactivatedOwners(portalId: number, paceNext?: PaceNext): Promise<HubSpotOwner[]>;
  /** Bodies of the notes or tasks associated with a deal (the outbox looks for its reference before repeating a create). */
  listDealEngagementBodies(portalId: number, dealId: string, kind: 'note' | 'task'): Promise<string[]>;
  /** The notes or tasks associated with a deal, with their ids (the outbox records the id of a task it finds by reference). */
  listDealEngagements(portalId: number, dealId: string, kind: 'note' | 'task', paceNext?: PaceNext): Promise<EngagementRecord[]>;
  /** Creates the group and each property; an existing one (409) counts as done. */
  ensureProperties(portalId: number, group: { name: string; label: string }, properties: PropertyDefinition[]): Promise<void>;
  /** One page of HubSpot's CRM search over deals (POST /crm/v3/objects/deals/search). */
  searchDeals(portalId: number, request: DealSearchRequest): Promise<DealSearchPage>;
}

// HubSpot-defined association types: https://developers.hubspot.com/docs/api/crm/associations
export { PropertyCreateFieldTypeEnum, PropertyCreateTypeEnum };

export const NOTE_TO_DEAL = 214;
export const TASK_TO_DEAL = 216;

function toNumber(value: string | null | undefined): number | null {
  if (value === null || value === undefined || value.trim() === '') return null;
  const n = Number(value);
  return Number.isFinite(n) ? n : null;
}

interface SdkDeal {
  id: string;
  properties: { [key: string]: string | null };
  propertiesWithHistory?: { [key: string]: { value: string; timestamp: Date; sourceType: string; sourceId?: string; updatedByUserId?: number }[] };
  updatedAt: Date;
}

export function toHubSpotDeal(deal: SdkDeal, readAt: number): HubSpotDeal {
  const p = deal.properties;
  const history = deal.propertiesWithHistory?.dealstage ?? [];
  return {
    id: deal.id,
    name: p.dealname ?? null,
    amount: toNumber(p.amount),
    amountInHomeCurrency: toNumber(p.amount_in_home_currency),
    stage: p.dealstage ?? null,
    pipeline: p.pipeline ?? null,
    ownerId: p.hubspot_owner_id ?? null,
    commitment: p.dealgate_commitment === 'true',
    commitmentSummary: p.dealgate_commitment_summary ?? null,
    effortWeeks: toNumber(p.dealgate_effort_weeks),
    status: p.dealgate_status ?? null,
    updatedAt: deal.updatedAt.getTime(),
    stageHistory: history
      .map((h) => ({
        value: h.value,
        timestamp: h.timestamp.getTime(),
        sourceType: h.sourceType,
        sourceId: h.sourceId ?? null,
        updatedByUserId: h.updatedByUserId === undefined ? null : String(h.updatedByUserId),
      }))
      .sort((a, b) => b.timestamp - a.timestamp),
    readAt,
  };
}

export interface HubSpotErrorInfo {
  status: number | undefined;
  retryable: boolean;
  rateLimited: boolean;
  message: string;
}

/** 429, 5xx and network failures are worth retrying; other 4xx are not. */
export function classifyHubSpotError(error: unknown): HubSpotErrorInfo {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  const status = typeof code === 'number' ? code : undefined;
  const body = typeof error === 'object' && error !== null ? (error as { body?: unknown }).body : undefined;
  const bodyMessage =
    typeof body === 'object' && body !== null && typeof (body as { message?: unknown }).message === 'string'
      ? (body as { message: string }).message
      : undefined;
  const message = bodyMessage ?? (error instanceof Error ? error.message : String(error));
  if (status === undefined) return { status, retryable: true, rateLimited: false, message };
  return { status, retryable: status === 429 || status >= 500, rateLimited: status === 429, message };
}

function isConflict(error: unknown): boolean {
  return classifyHubSpotError(error).status === 409;
}

interface BatchErrorLike {
  category?: string;
  context?: { [key: string]: string[] | undefined };
  message?: string;
}

/** The ids a batch error (207 entry or 404 body) names as not found, if it is that error. */
function notFoundIds(error: BatchErrorLike | undefined): string[] | undefined {
  if (!error || error.category !== 'OBJECT_NOT_FOUND') return undefined;
  const ids = error.context?.ids ?? error.context?.id;
  return Array.isArray(ids) ? ids.map(String) : undefined;
}

function engagementInput(e: NewEngagement, kind: 'note' | 'task', now: number) {
  const properties: Record<string, string> =
    kind === 'note'
      ? { hs_note_body: e.body, hs_timestamp: new Date(now).toISOString() }
      : {
          hs_task_body: e.body,
          hs_task_subject: e.subject ?? 'Dealgate',
          hs_task_status: 'NOT_STARTED',
          hs_task_priority: 'HIGH',
          hs_timestamp: new Date(e.dueAt ?? now).toISOString(),
          ...(e.ownerId ? { hubspot_owner_id: e.ownerId } : {}),
          // https://developers.hubspot.com/docs/api/crm/tasks: "You must use Unix timestamp in milliseconds."
          ...(e.reminderAt !== undefined ? { hs_task_reminders: String(e.reminderAt) } : {}),
        };
  return {
    properties,
    associations: [
      {
        to: { id: e.dealId },
        types: [
          {
            associationCategory: AssociationSpecAssociationCategoryEnum.HubspotDefined,
            associationTypeId: kind === 'note' ? NOTE_TO_DEAL : TASK_TO_DEAL,
          },
        ],
      },
    ],
  };
}

/**
 * A deal HubSpot answered 404 for is asked about again only after this long. Card requests call
 * HubSpot outside the workers' rate governor and share the account's 10-second limit with
 * enforcement; without the memo, requests naming deal ids the account does not have (another
 * account's, made up) each spent a call, and a burst of them ran the account into 429s.
 */
export const MISSING_DEAL_MEMO_MS = 60_000;
const MISSING_DEAL_MEMO_SIZE = 10_000;

/** What every call of one gateway shares: the client (never inside a store transaction), the clock, the memo of missing deals. */
interface GatewayScope {
  client: (portalId: number) => Promise<Client>;
  now: () => number;
  /** The deal properties Dealgate reads (DEAL_PROPERTIES). */
  properties: string[];
  /** `portalId:dealId` -> until when HubSpot's 404 stands. */
  missingDeals: Map<string, number>;
}

export function createHubSpotGateway(clients: HubSpotClients, now: () => number = Date.now): HubSpotGateway {
  const scope: GatewayScope = {
    client: (portalId) => {
      // Every call to HubSpot gets its client here, so none can happen inside a store transaction.
      assertOutsideTransaction(`a HubSpot call for account ${portalId}`);
      return clients.forPortal(portalId);
    },
    now,
    properties: [...DEAL_PROPERTIES],
    missingDeals: new Map<string, number>(),
  };
  return { ...dealCalls(scope), ...taskCalls(scope), ...engagementCalls(scope), ...accountCalls(scope) };
}

/** Deals: reads (a 404 memoized for MISSING_DEAL_MEMO_MS), updates, search. */
function dealCalls(scope: GatewayScope): Pick<HubSpotGateway, 'getDeal' | 'batchReadDeals' | 'updateDeal' | 'batchUpdateDeals' | 'searchDeals'> {
  return {
    async getDeal(portalId, dealId, options = {}) {
      const key = `${portalId}:${dealId}`;
      const missingUntil = scope.missingDeals.get(key);
      if (missingUntil !== undefined) {
        if (missingUntil > scope.now()) return undefined;
        scope.missingDeals.delete(key);
      }
      const api = await scope.client(portalId);
      const readAt = scope.now();
      try {
        const deal = await api.crm.deals.basicApi.getById(dealId, scope.properties, options.withStageHistory ? ['dealstage'] : undefined);
        return toHubSpotDeal(deal, readAt);
      } catch (error) {
        if (classifyHubSpotError(error).status !== 404) throw error;
        if (scope.missingDeals.size >= MISSING_DEAL_MEMO_SIZE) scope.missingDeals.delete(scope.missingDeals.keys().next().value as string);
        scope.missingDeals.set(key, scope.now() + MISSING_DEAL_MEMO_MS);
        return undefined;
      }
    },

    async batchReadDeals(portalId, dealIds, options = {}) {
      if (dealIds.length === 0) return [];
      const api = await scope.client(portalId);
      const readAt = scope.now();
      const result = await api.crm.deals.batchApi.read({
        inputs: dealIds.map((id) => ({ id })),
        properties: scope.properties,
        propertiesWithHistory: options.withStageHistory ? ['dealstage'] : [],
      });
      return result.results.map((deal) => toHubSpotDeal(deal, readAt));
    },

    async updateDeal(portalId, dealId, props) {
      const api = await scope.client(portalId);
      await api.crm.deals.basicApi.update(dealId, { properties: props });
    },

    async batchUpdateDeals(portalId, updates) {
      if (updates.length === 0) return;
      const api = await scope.client(portalId);
      await api.crm.deals.batchApi.update({ inputs: updates.map((u) => ({ id: u.id, properties: u.properties })) });
    },

    async searchDeals(portalId, request) {
      const api = await scope.client(portalId);
      const asked = [...new Set([LAST_MODIFIED, ...(request.properties ?? [])])];
      const result = await api.crm.deals.searchApi.doSearch({
        filterGroups: request.filterGroups.map((g) => ({ filters: g.filters.map((f) => ({ ...f, operator: f.operator as FilterOperatorEnum })) })),
        // The SDK types sorts as strings; HubSpot documents them as {propertyName, direction} objects.
        ...(request.sorts ? { sorts: request.sorts as unknown as string[] } : {}),
        properties: asked,
        ...(request.limit !== undefined ? { limit: request.limit } : {}),
        ...(request.after !== undefined ? { after: request.after } : {}),
      });
      return {
        deals: result.results.map((d) => ({
          id: d.id,
          lastModifiedAt: millisecondsOf(d.properties[LAST_MODIFIED]) ?? d.updatedAt.getTime(),
          properties: Object.fromEntries(asked.map((name) => [name, d.properties[name] ?? null])),
        })),
        total: result.total,
        after: result.paging?.next?.after,
      };
    },
  };
}

/** Tasks: batch creates and batch updates. */
function taskCalls(scope: GatewayScope): Pick<HubSpotGateway, 'createTasks' | 'createTaskRecords' | 'batchUpdateTasks'> {
  return {
    async createTasks(portalId, tasks) {
      return (await this.createTaskRecords(portalId, tasks)).map((r) => r.id);
    },

    async createTaskRecords(portalId, tasks) {
      if (tasks.length === 0) return [];
      const api = await scope.client(portalId);
      const at = scope.now();
      const result = await api.crm.objects.tasks.batchApi.create({ inputs: tasks.map((t) => engagementInput(t, 'task', at)) });
      return result.results.map((r) => ({ id: r.id, body: r.properties.hs_task_body ?? null }));
    },

    async batchUpdateTasks(portalId, updates) {
      const outcome: TaskUpdateOutcome = { updated: [], missing: [] };
      if (updates.length === 0) return outcome;
      const api = await scope.client(portalId);
      let inputs = updates.map((u) => ({ id: u.id, properties: u.properties }));
      // A 404 for the whole call naming ids: those are gone, the rest is sent again (HubSpot's
      // documented answer is a 207 that lists them; a 404 for a batch is handled all the same).
      for (let round = 0; round < 2 && inputs.length > 0; round++) {
        try {
          const result = await api.crm.objects.tasks.batchApi.update({ inputs });
          outcome.updated.push(...result.results.map((r) => r.id));
          const errors = 'errors' in result && Array.isArray(result.errors) ? (result.errors as BatchErrorLike[]) : [];
          const other = errors.filter((e) => notFoundIds(e) === undefined);
          for (const e of errors) outcome.missing.push(...(notFoundIds(e) ?? []));
          if (other.length > 0) {
            throw Object.assign(new Error(`HubSpot updated ${result.results.length} of ${inputs.length} tasks: ${other.map((e) => e.message ?? e.category).join('; ')}`), {
              code: 500,
              body: { message: other[0]?.message ?? 'batch update errors' },
            });
          }
          return outcome;
        } catch (error) {
          const info = classifyHubSpotError(error);
          if (info.status !== 404) throw error;
          const body = (error as { body?: BatchErrorLike }).body;
          const named = notFoundIds(body);
          if (!named) break;
          outcome.missing.push(...named);
          inputs = inputs.filter((i) => !named.includes(i.id));
        }
      }
      // A 404 that names no ids: one task at a time, each 404 being that task.
      for (const input of inputs) {
        try {
          await api.crm.objects.tasks.basicApi.update(input.id, { properties: input.properties });
          outcome.updated.push(input.id);
        } catch (error) {
          if (classifyHubSpotError(error).status !== 404) throw error;
          outcome.missing.push(input.id);
        }
      }
      return outcome;
    },
  };
}

/** Notes, and the notes or tasks associated with a deal. */
function engagementCalls(scope: GatewayScope): Pick<HubSpotGateway, 'createNotes' | 'listDealEngagementBodies' | 'listDealEngagements'> {
  return {
    async createNotes(portalId, notes) {
      if (notes.length === 0) return [];
      const api = await scope.client(portalId);
      const at = scope.now();
      const result = await api.crm.objects.notes.batchApi.create({ inputs: notes.map((n) => engagementInput(n, 'note', at)) });
      return result.results.map((r) => r.id);
    },

    async listDealEngagementBodies(portalId, dealId, kind) {
      return (await this.listDealEngagements(portalId, dealId, kind)).map((e) => e.body ?? '');
    },

    async listDealEngagements(portalId, dealId, kind, paceNext) {
      const api = await scope.client(portalId);
      const toType = kind === 'note' ? 'notes' : 'tasks';
      const ids: string[] = [];
      let after: string | undefined;
      do {
        if (after !== undefined) await paceNext?.();
        const page = await api.crm.associations.v4.basicApi.getPage('deals', dealId, toType, after, 500);
        for (const a of page.results) ids.push(a.toObjectId);
        after = page.paging?.next?.after;
      } while (after);
      const bodyProperty = kind === 'note' ? 'hs_note_body' : 'hs_task_body';
      const found: EngagementRecord[] = [];
      for (let i = 0; i < ids.length; i += 100) {
        const inputs = ids.slice(i, i + 100).map((id) => ({ id }));
        // The associations took the first request; each batch read is one more.
        await paceNext?.();
        const batch =
          kind === 'note'
            ? await api.crm.objects.notes.batchApi.read({ inputs, properties: [bodyProperty], propertiesWithHistory: [] })
            : await api.crm.objects.tasks.batchApi.read({ inputs, properties: [bodyProperty], propertiesWithHistory: [] });
        for (const r of batch.results) found.push({ id: r.id, body: r.properties[bodyProperty] ?? null });
      }
      return found;
    },
  };
}

/** Every page of the account's active owners, or of its archived ones (deactivated users). */
async function ownerPages(scope: GatewayScope, portalId: number, archived: boolean, paceNext: PaceNext | undefined): Promise<HubSpotOwner[]> {
  const api = await scope.client(portalId);
  const owners: HubSpotOwner[] = [];
  let after: string | undefined;
  do {
    if (after !== undefined) await paceNext?.();
    const page = await api.crm.owners.ownersApi.getPage(undefined, after, 500, archived);
    for (const o of page.results) {
      const userId = o.userId ?? (archived ? o.userIdIncludingInactive : undefined);
      owners.push({ id: o.id, userId: userId === undefined || userId === null ? null : String(userId), email: o.email ?? null, firstName: o.firstName || null, lastName: o.lastName || null });
    }
    after = page.paging?.next?.after;
  } while (after);
  return owners;
}

/** The account: its pipelines, owners and Dealgate's properties. */
function accountCalls(scope: GatewayScope): Pick<HubSpotGateway, 'getPipelines' | 'getOwners' | 'getDeactivatedOwners' | 'ensureProperties'> {
  return {
    async getPipelines(portalId) {
      const api = await scope.client(portalId);
      const result = await api.crm.pipelines.pipelinesApi.getAll('deals');
      return result.results.map((p) => ({
        id: p.id,
        label: p.label,
        displayOrder: p.displayOrder,
        stages: p.stages
          .filter((s) => !s.archived)
          .map((s) => {
            const isClosed = s.metadata?.isClosed === 'true';
            const probability = Number(s.metadata?.probability ?? 'NaN');
            return { id: s.id, label: s.label, displayOrder: s.displayOrder, isClosed, isLost: isClosed && probability === 0 };
          })
          .sort((a, b) => a.displayOrder - b.displayOrder),
      }));
    },

    getOwners: (portalId, paceNext) => ownerPages(scope, portalId, false, paceNext),
    getDeactivatedOwners: (portalId, paceNext) => ownerPages(scope, portalId, true, paceNext),

    async ensureProperties(portalId, group, definitions) {
      const api = await scope.client(portalId);
      try {
        await api.crm.properties.groupsApi.create('deals', { name: group.name, label: group.label, displayOrder: -1 });
      } catch (error) {
        if (!isConflict(error)) throw error;
      }
      for (const d of definitions) {
        try {
          await api.crm.properties.coreApi.create('deals', {
            name: d.name,
            label: d.label,
            type: d.type,
            fieldType: d.fieldType,
            groupName: group.name,
            description: d.description,
            ...(d.options ? { options: d.options.map((o) => ({ ...o, hidden: false })) } : {}),
          });
        } catch (error) {
          if (!isConflict(error)) throw error;
        }
      }
    },
  };
}

const LAST_MODIFIED = 'hs_lastmodifieddate';

/** A HubSpot datetime as search answers it (an ISO date; milliseconds as a string in some answers). */
function millisecondsOf(value: string | null | undefined): number | undefined {
  if (value === null || value === undefined || value === '') return undefined;
  const ms = /^\d+$/.test(value) ? Number(value) : Date.parse(value);
  return Number.isFinite(ms) ? ms : undefined;
}
