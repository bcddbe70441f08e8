import { objectNotFound, invalidPropertyValues, validationError } from '../hubspotErrors';
import { checkTaskReminders } from './taskReminders';
import { AssociationGraph, resolveAssociationInput, type AssociationInput, type AssociationLink } from './associations';
import { calculatedSource, type ChangeSource } from './changeSource';
import type { CurrencyBook } from './currencies';
import { ALWAYS_RETURNED, DEFAULT_READ_PROPERTIES, SINGULAR, type CrmObjectType } from './objectTypes';
import type { OwnerDirectory } from './owners';
import { DEFAULT_PIPELINE_ID, type PipelineRegistry } from './pipelines';
import type { PropertyCatalog } from './propertyCatalog';

/**
 * The account's CRM records (deals, notes, tasks): current values, every property's history, and
 * associations. Every write goes through `create`/`update`/`archive` with a ChangeSource, which
 * records history the way HubSpot does and tells listeners (the webhook dispatcher) what changed.
 */
export interface HistoryEntry {
  value: string;
  /** Milliseconds since the epoch. */
  timestamp: number;
  sourceType: string;
  sourceId?: string;
  sourceLabel?: string;
  updatedByUserId?: number;
}

export interface CrmRecord {
  type: CrmObjectType;
  id: string;
  createdAt: number;
  updatedAt: number;
  archived: boolean;
  archivedAt?: number;
  values: Map<string, string>;
  /** Oldest first. */
  history: Map<string, HistoryEntry[]>;
}

export type CrmChange =
  | { kind: 'creation' | 'deletion'; objectType: CrmObjectType; objectId: string; occurredAt: number; source: ChangeSource }
  | {
      kind: 'propertyChange';
      objectType: CrmObjectType;
      objectId: string;
      occurredAt: number;
      source: ChangeSource;
      propertyName: string;
      propertyValue: string;
    };

/** The JSON HubSpot answers for one record (SimplePublicObject / ...WithAssociations). */
export interface ApiRecord {
  id: string;
  properties: Record<string, string | null>;
  propertiesWithHistory?: Record<string, ApiHistoryEntry[]>;
  associations?: Record<string, { results: { id: string; type: string }[] }>;
  createdAt: string;
  updatedAt: string;
  archived: boolean;
  archivedAt?: string;
}

export interface ApiHistoryEntry {
  value: string;
  timestamp: string;
  sourceType: string;
  sourceId?: string;
  sourceLabel?: string;
  updatedByUserId?: number;
}

export interface ReadOptions {
  /** Undefined: HubSpot's default properties for the type. */
  properties?: string[];
  propertiesWithHistory?: string[];
  associations?: CrmObjectType[];
}

export interface WriteOptions {
  /** Record the change without telling listeners (seeding). */
  silent?: boolean;
  /** When the change happened; defaults to now (seeding the past). */
  at?: number;
}

const SYSTEM_VALUES = new Set<string>(ALWAYS_RETURNED);
const ENGAGEMENTS: CrmObjectType[] = ['notes', 'tasks'];
const DATETIME = /^\d{4}-\d{2}-\d{2}T/;

export class CrmStore {
  private readonly records = new Map<CrmObjectType, Map<string, CrmRecord>>();
  private readonly listeners: ((change: CrmChange) => void)[] = [];
  private readonly nextId: Record<CrmObjectType, number> = { deals: 21_000_000_001, notes: 61_000_000_001, tasks: 71_000_000_001 };
  readonly associations = new AssociationGraph();
  private lastTick = 0;

  constructor(
    private readonly catalog: PropertyCatalog,
    private readonly pipelines: PipelineRegistry,
    private readonly owners: OwnerDirectory,
    private readonly currencies: CurrencyBook,
    private readonly now: () => number,
  ) {
    for (const type of ['deals', 'notes', 'tasks'] as const) this.records.set(type, new Map());
  }

  onChange(listener: (change: CrmChange) => void): void {
    this.listeners.push(listener);
  }

  create(
    type: CrmObjectType,
    properties: Record<string, unknown>,
    source: ChangeSource,
    options: WriteOptions & { associations?: AssociationInput[]; id?: string } = {},
  ): CrmRecord {
    const { values, links } = this.check(type, properties, undefined, options.associations ?? []);
    const at = this.tick(options.at);
    const id = options.id ?? String(this.nextId[type]++);
    if (this.recordsOf(type).has(id)) throw new Error(`${SINGULAR[type]} ${id} exists already`);
    if (/^\d+$/.test(id) && Number(id) >= this.nextId[type]) this.nextId[type] = Number(id) + 1;
    const record: CrmRecord = { type, id, createdAt: at, updatedAt: at, archived: false, values: new Map(), history: new Map() };
    record.values.set('createdate', new Date(at).toISOString());
    record.values.set('hs_createdate', new Date(at).toISOString());
    record.values.set('hs_lastmodifieddate', new Date(at).toISOString());
    record.values.set('hs_object_id', id);
    this.recordsOf(type).set(id, record);
    for (const link of links) this.associations.link(type, id, link.toType, link.toId);

    const changed = this.apply(record, values, source, at);
    const calculated = this.calculate(record, at);
    if (!options.silent) {
      this.emit({ kind: 'creation', objectType: type, objectId: id, occurredAt: at, source });
      this.emitChanges(record, changed, source, at);
      this.emitChanges(record, calculated, calculatedSource(), at);
    }
    return record;
  }

  /**
   * Validates a write without applying it (batch endpoints check every input first): the
   * properties as they would be stored, and the associations of a create.
   */
  check(
    type: CrmObjectType,
    properties: Record<string, unknown>,
    existing: CrmRecord | undefined,
    associations: AssociationInput[],
  ): { values: Record<string, string>; links: { toType: CrmObjectType; toId: string }[] } {
    const values = this.validate(type, properties, existing);
    if (!Array.isArray(associations)) throw validationError('Invalid input JSON: associations must be an array');
    const links = associations.map((a) => resolveAssociationInput(type, a));
    for (const link of links) {
      if (!this.find(link.toType, link.toId)) {
        // HubSpot refuses the whole create when an association points nowhere (message unconfirmed).
        throw validationError(`Could not create association: ${SINGULAR[link.toType]} ${link.toId} does not exist`, [
          { message: `${link.toType} ${link.toId} not found`, in: 'associations' },
        ]);
      }
    }
    if (!existing && ENGAGEMENTS.includes(type) && !values.hs_timestamp) {
      // https://developers.hubspot.com/docs/api/crm/notes: hs_timestamp is required (message unconfirmed).
      throw validationError(`Error creating ${SINGULAR[type].toUpperCase()}. Some required properties were not set.`, [
        { message: 'hs_timestamp is required', code: 'REQUIRED_PROPERTY', context: { propertyName: ['hs_timestamp'] } },
      ]);
    }
    return { values, links };
  }

  /** Only values that differ from the current ones make history entries and change events, as in HubSpot. */
  update(type: CrmObjectType, id: string, properties: Record<string, unknown>, source: ChangeSource, options: WriteOptions = {}): CrmRecord {
    const record = this.get(type, id);
    const values = this.validate(type, properties, record);
    const at = this.tick(options.at);
    const changed = this.apply(record, values, source, at);
    const calculated = this.calculate(record, at);
    if (changed.length > 0) {
      record.updatedAt = at;
      record.values.set('hs_lastmodifieddate', new Date(at).toISOString());
    }
    if (!options.silent) {
      this.emitChanges(record, changed, source, at);
      this.emitChanges(record, calculated, calculatedSource(), at);
    }
    return record;
  }

  archive(type: CrmObjectType, id: string, source: ChangeSource, options: WriteOptions = {}): void {
    const record = this.get(type, id);
    const at = this.tick(options.at);
    record.archived = true;
    record.archivedAt = at;
    record.updatedAt = at;
    if (!options.silent) this.emit({ kind: 'deletion', objectType: type, objectId: id, occurredAt: at, source });
  }

  find(type: CrmObjectType, id: string): CrmRecord | undefined {
    const record = this.recordsOf(type).get(id);
    return record && !record.archived ? record : undefined;
  }

  /** 404 with HubSpot's body for unknown or archived ids. */
  get(type: CrmObjectType, id: string): CrmRecord {
    const record = this.find(type, id);
    if (!record) throw objectNotFound(id);
    return record;
  }

  list(type: CrmObjectType): CrmRecord[] {
    return [...this.recordsOf(type).values()].filter((r) => !r.archived).sort((a, b) => Number(a.id) - Number(b.id));
  }

  associated(type: CrmObjectType, id: string, toType: CrmObjectType): CrmRecord[] {
    return this.associations
      .of(type, id, toType)
      .map((l) => this.find(toType, l.toId))
      .filter((r): r is CrmRecord => r !== undefined);
  }

  links(type: CrmObjectType, id: string, toType?: CrmObjectType): AssociationLink[] {
    return this.associations.of(type, id, toType);
  }

  /** The record as HubSpot's API answers it. */
  present(record: CrmRecord, options: ReadOptions = {}): ApiRecord {
    const names = new Set<string>([...(options.properties ?? DEFAULT_READ_PROPERTIES[record.type]), ...ALWAYS_RETURNED]);
    const properties: Record<string, string | null> = {};
    for (const name of names) {
      // HubSpot leaves out names that are not properties of the object; known but unset ones are null.
      if (!this.catalog.find(record.type, name)) continue;
      properties[name] = record.values.get(name) ?? null;
    }
    const result: ApiRecord = {
      id: record.id,
      properties,
      createdAt: new Date(record.createdAt).toISOString(),
      updatedAt: new Date(record.updatedAt).toISOString(),
      archived: record.archived,
      ...(record.archivedAt !== undefined ? { archivedAt: new Date(record.archivedAt).toISOString() } : {}),
    };
    if (options.propertiesWithHistory && options.propertiesWithHistory.length > 0) {
      const history: Record<string, ApiHistoryEntry[]> = {};
      for (const name of options.propertiesWithHistory) {
        if (!this.catalog.find(record.type, name)) continue;
        history[name] = this.historyOf(record, name).map(presentHistory);
      }
      result.propertiesWithHistory = history;
    }
    if (options.associations && options.associations.length > 0) {
      const associations: Record<string, { results: { id: string; type: string }[] }> = {};
      for (const toType of options.associations) {
        const links = this.associations.of(record.type, record.id, toType).filter((l) => this.find(toType, l.toId));
        if (links.length === 0) continue;
        associations[toType] = { results: links.map((l) => ({ id: l.toId, type: `${SINGULAR[record.type]}_to_${SINGULAR[toType]}` })) };
      }
      result.associations = associations;
    }
    return result;
  }

  /** A property's history, newest first (HubSpot's order). */
  historyOf(record: CrmRecord, name: string): HistoryEntry[] {
    return [...(record.history.get(name) ?? [])].reverse();
  }

  private validate(type: CrmObjectType, properties: Record<string, unknown>, existing: CrmRecord | undefined): Record<string, string> {
    if (typeof properties !== 'object' || properties === null || Array.isArray(properties)) {
      throw validationError('Invalid input JSON: properties must be an object');
    }
    const values = this.catalog.validateWrite(type, properties);
    for (const [name, value] of Object.entries(values)) {
      const property = this.catalog.find(type, name);
      if (property && property.type === 'datetime' && value !== '') values[name] = normalizeDate(name, value);
      if (property && property.type === 'date' && value !== '') values[name] = normalizeDay(name, value);
    }
    if (values.hubspot_owner_id && !this.owners.find(values.hubspot_owner_id)) {
      throw invalidPropertyValues([
        { isValid: false, message: `${values.hubspot_owner_id} is not a valid owner id`, error: 'INVALID_OWNER_ID', name: 'hubspot_owner_id' },
      ]);
    }
    if (type === 'tasks') checkTaskReminders(values);
    if (type === 'deals') {
      this.validateStage(values, existing);
      const code = values.deal_currency_code;
      if (code !== undefined && code !== '' && !this.currencies.has(code)) {
        // https://developers.hubspot.com/changelog/deal-currenct-code-validation
        throw invalidPropertyValues([
          { isValid: false, message: `"${code}" is not a part of the current effective currency codes for portal ${this.currencies.portalId}`, error: 'INVALID_OPTION', name: 'deal_currency_code' },
        ]);
      }
    }
    return values;
  }

  /**
   * HubSpot's calculated deal properties, after a write: amount_in_home_currency is amount at the
   * exchange rate of the deal's currency (equal to amount without a currency code). Only a change
   * of amount or currency recalculates it; a new exchange rate applies from the deal's next change
   * (whether HubSpot recalculates open deals when a rate changes is unconfirmed).
   */
  private calculate(record: CrmRecord, at: number): [string, string][] {
    if (record.type !== 'deals') return [];
    const amount = record.values.get('amount');
    const home = amount === undefined ? '' : (this.currencies.toHome(amount, record.values.get('deal_currency_code')) ?? '');
    return this.apply(record, { amount_in_home_currency: home }, calculatedSource(), at);
  }

  private emitChanges(record: CrmRecord, changed: [string, string][], source: ChangeSource, at: number): void {
    for (const [propertyName, propertyValue] of changed) {
      this.emit({ kind: 'propertyChange', objectType: record.type, objectId: record.id, occurredAt: at, source, propertyName, propertyValue });
    }
  }

  /**
   * A deal's stage must belong to its pipeline. A deal created with a stage but no pipeline lands
   * in the default pipeline, as in HubSpot.
   */
  private validateStage(values: Record<string, string>, existing: CrmRecord | undefined): void {
    if (!existing && values.dealstage && !values.pipeline) values.pipeline = DEFAULT_PIPELINE_ID;
    const pipelineId = values.pipeline ?? existing?.values.get('pipeline');
    const stageId = values.dealstage ?? existing?.values.get('dealstage');
    if (values.pipeline !== undefined && values.pipeline !== '' && !this.pipelines.find(values.pipeline)) {
      throw invalidPropertyValues([
        {
          isValid: false,
          message: `${values.pipeline} was not one of the allowed options: ${this.pipelines.list().map((p) => p.id).join(', ')}`,
          error: 'INVALID_OPTION',
          name: 'pipeline',
        },
      ]);
    }
    if (values.dealstage === undefined && values.pipeline === undefined) return;
    if (!stageId || !pipelineId) return;
    const pipeline = this.pipelines.find(pipelineId);
    if (pipeline && !pipeline.stages.some((s) => s.id === stageId)) {
      throw invalidPropertyValues([
        {
          isValid: false,
          message: `${stageId} was not one of the allowed options: ${pipeline.stages.map((s) => s.id).join(', ')}`,
          error: 'INVALID_OPTION',
          name: 'dealstage',
        },
      ]);
    }
  }

  private apply(record: CrmRecord, values: Record<string, string>, source: ChangeSource, at: number): [string, string][] {
    const changed: [string, string][] = [];
    for (const [name, value] of Object.entries(values)) {
      if (SYSTEM_VALUES.has(name) && name !== 'createdate') continue;
      if (record.values.get(name) === value || (value === '' && !record.values.has(name))) continue;
      if (value === '') record.values.delete(name);
      else record.values.set(name, value);
      const entries = record.history.get(name) ?? [];
      entries.push({
        value,
        timestamp: at,
        sourceType: source.sourceType,
        ...(source.sourceId !== undefined ? { sourceId: source.sourceId } : {}),
        ...(source.sourceLabel !== undefined ? { sourceLabel: source.sourceLabel } : {}),
        ...(source.updatedByUserId !== undefined ? { updatedByUserId: source.updatedByUserId } : {}),
      });
      record.history.set(name, entries);
      changed.push([name, value]);
    }
    return changed;
  }

  /**
   * Strictly increasing change times, so that two changes never share a timestamp and "newest
   * first" is unambiguous (HubSpot's timestamps are milliseconds too; ties there are unlikely).
   */
  private tick(at?: number): number {
    if (at !== undefined) return at;
    this.lastTick = Math.max(this.now(), this.lastTick + 1);
    return this.lastTick;
  }

  private emit(change: CrmChange): void {
    for (const listener of this.listeners) listener(change);
  }

  private recordsOf(type: CrmObjectType): Map<string, CrmRecord> {
    const records = this.records.get(type);
    if (!records) throw new Error(`no records for ${type}`);
    return records;
  }
}

function presentHistory(entry: HistoryEntry): ApiHistoryEntry {
  return {
    value: entry.value,
    timestamp: new Date(entry.timestamp).toISOString(),
    sourceType: entry.sourceType,
    ...(entry.sourceId !== undefined ? { sourceId: entry.sourceId } : {}),
    ...(entry.sourceLabel !== undefined ? { sourceLabel: entry.sourceLabel } : {}),
    ...(entry.updatedByUserId !== undefined ? { updatedByUserId: entry.updatedByUserId } : {}),
  };
}

/**
 * A date property holds a day: HubSpot takes YYYY-MM-DD or the epoch milliseconds of midnight UTC,
 * refuses any other time ("If you try to set a value that is not midnight UTC, you will receive an
 * error", https://developers.hubspot.com/docs/faq/how-should-timestamps-be-formatted-for-hubspots-apis),
 * and answers the day as YYYY-MM-DD.
 */
function normalizeDay(name: string, value: string): string {
  const ms = /^\d{1,16}$/.test(value) ? Number(value) : /^\d{4}-\d{2}-\d{2}$/.test(value) ? Date.parse(`${value}T00:00:00Z`) : NaN;
  if (Number.isNaN(ms) || ms % 86_400_000 !== 0) {
    throw invalidPropertyValues([{ isValid: false, message: `${value} is not a valid date: a date property takes YYYY-MM-DD or midnight UTC`, error: 'INVALID_DATE', name }]);
  }
  return new Date(ms).toISOString().slice(0, 10);
}

/** HubSpot accepts datetimes as ISO 8601 or epoch milliseconds and answers them as ISO 8601. */
function normalizeDate(name: string, value: string): string {
  const ms = /^\d{1,16}$/.test(value) ? Number(value) : DATETIME.test(value) || /^\d{4}-\d{2}-\d{2}$/.test(value) ? Date.parse(value) : NaN;
  if (Number.isNaN(ms)) {
    throw invalidPropertyValues([{ isValid: false, message: `${value} is not a valid datetime`, error: 'INVALID_DATE', name }]);
  }
  return new Date(ms).toISOString();
}
