import { z } from 'zod';
import { invalidRequest } from '../shared/errors';
import { validate } from '../shared/validation';
import type { NewInboxEvent } from '../storage/inboxStore';

/**
 * One event of a HubSpot webhook batch, as documented at
 * https://developers.hubspot.com/docs/api/webhooks#webhooks-payloads. Strict on the fields Dealgate
 * uses, lenient to anything else HubSpot adds (unknown fields pass through untouched).
 */
const id = z.union([z.number().int().nonnegative(), z.string().regex(/^\d{1,20}$/)]);

/**
 * Bounds on what an event may carry, checked at the door so that every batch the route answers 200
 * can be read again by the inbox worker (which stores each event as JSON: a field nested thousands
 * of levels deep overflowed the stack there, after the 200, and the whole batch was dropped).
 * HubSpot's events are flat and a property value holds at most 65,536 characters, so neither bound
 * refuses anything HubSpot sends; unknown fields stay accepted within them.
 */
export const MAX_FIELD_DEPTH = 16;
export const MAX_PROPERTY_VALUE_LENGTH = 65_536;

/** Whether `value` nests objects and arrays at most `levels` deep (a scalar is 0, `{}` and `[]` are 1). */
export function nestsWithin(value: unknown, levels: number): boolean {
  if (typeof value !== 'object' || value === null) return true;
  if (levels <= 0) return false;
  if (Array.isArray(value)) {
    for (const item of value) if (!nestsWithin(item, levels - 1)) return false;
    return true;
  }
  for (const key in value) if (Object.hasOwn(value, key) && !nestsWithin((value as Record<string, unknown>)[key], levels - 1)) return false;
  return true;
}

const tooDeep = `is nested deeper than ${MAX_FIELD_DEPTH} levels of objects and arrays (HubSpot's event fields are flat)`;

export const webhookEvent = z.looseObject({
  eventId: id.optional(),
  subscriptionId: id.optional(),
  portalId: z.number().int().positive(),
  appId: id.optional(),
  occurredAt: z.number().int().nonnegative(),
  subscriptionType: z.string().min(1).max(200),
  attemptNumber: z.number().int().nonnegative().optional(),
  objectId: id,
  propertyName: z.string().max(200).optional(),
  propertyValue: z.string().max(MAX_PROPERTY_VALUE_LENGTH).nullable().optional(),
  changeSource: z.string().max(200).optional(),
  sourceId: z.union([z.string(), z.number()]).nullable().optional(),
}).superRefine((event, ctx) => {
  for (const key of Object.keys(event)) {
    if (!nestsWithin(event[key], MAX_FIELD_DEPTH)) ctx.addIssue({ code: 'custom', path: [key], message: tooDeep });
  }
});
export type WebhookEvent = z.infer<typeof webhookEvent>;

/**
 * HubSpot documents at most 100 events per request. We accept up to 200: a batch we refused would
 * be retried for a day and then dropped with every event in it, so a little headroom is safer than
 * a hard stop at the documented number. A longer array is refused on its length alone, before any
 * event is looked at, and (refuseCostlyBody) before the body is parsed when it is long enough to cost.
 */
export const DOCUMENTED_MAX_BATCH = 100;
export const MAX_BATCH = 2 * DOCUMENTED_MAX_BATCH;

export const webhookBatch = z
  .array(webhookEvent)
  .max(MAX_BATCH, { message: `a webhook batch holds at most ${DOCUMENTED_MAX_BATCH} events` });

/**
 * The webhook hot path's validation: a hand-written check of exactly the rules of `webhookEvent`,
 * used before zod because zod costs about 0.7 µs per event (70 µs a batch, twice per batch: at
 * the route and when the journal is expanded). It is conservative: it accepts only what zod would
 * accept, with the same result (the event as parsed, unknown fields kept); anything else, and
 * anything it is unsure of (a `__proto__` key, a non-plain object), goes to zod, which accepts it
 * or refuses it with the field-by-field 400 as before. tests/webhooks/webhookBatchCheck.test.ts
 * holds the two to the same answers on generated input.
 */
export function parseWebhookBatch(input: unknown, bracketBytes?: number): WebhookEvent[] {
  if (Array.isArray(input) && input.length > MAX_BATCH) throw tooManyEvents(input.length);
  // The body's `{` and `[` bytes (refuseCostlyBody): one per event and the batch's own mean no field
  // holds an object or array (each one parsed needs a bracket byte), so the depth walk has nothing to see.
  if (isPlainWebhookBatch(input, Array.isArray(input) && bracketBytes === input.length + 1)) return input;
  return validate(webhookBatch, input, 'webhook batch');
}

function tooManyEvents(count: number | string) {
  return invalidRequest(
    `webhook batch: ${count} events; HubSpot sends at most ${DOCUMENTED_MAX_BATCH} a request, and at most ${MAX_BATCH} are accepted`,
    { issues: [{ path: 'webhook batch', message: `holds more than ${MAX_BATCH} events` }] },
  );
}

function isPlainWebhookBatch(input: unknown, flat: boolean): input is WebhookEvent[] {
  if (!Array.isArray(input) || input.length > MAX_BATCH) return false;
  for (const event of input) if (!isPlainWebhookEvent(event, flat)) return false;
  return true;
}

const digits = /^\d{1,20}$/;
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isId = (v: unknown): boolean => isCount(v) || (typeof v === 'string' && digits.test(v));
const isShortString = (v: unknown): v is string => typeof v === 'string' && v.length <= 200;

function isPlainWebhookEvent(e: unknown, flat: boolean): e is WebhookEvent {
  if (typeof e !== 'object' || e === null || Object.getPrototypeOf(e) !== Object.prototype || Object.hasOwn(e, '__proto__')) return false;
  const o = e as Record<string, unknown>;
  return (
    typeof o.portalId === 'number' &&
    Number.isSafeInteger(o.portalId) &&
    o.portalId > 0 &&
    isCount(o.occurredAt) &&
    isShortString(o.subscriptionType) &&
    o.subscriptionType.length > 0 &&
    isId(o.objectId) &&
    (o.eventId === undefined || isId(o.eventId)) &&
    (o.subscriptionId === undefined || isId(o.subscriptionId)) &&
    (o.appId === undefined || isId(o.appId)) &&
    (o.attemptNumber === undefined || isCount(o.attemptNumber)) &&
    (o.propertyName === undefined || isShortString(o.propertyName)) &&
    (o.propertyValue === undefined || o.propertyValue === null || (typeof o.propertyValue === 'string' && o.propertyValue.length <= MAX_PROPERTY_VALUE_LENGTH)) &&
    (o.changeSource === undefined || isShortString(o.changeSource)) &&
    (o.sourceId === undefined || o.sourceId === null || typeof o.sourceId === 'string' || (typeof o.sourceId === 'number' && Number.isFinite(o.sourceId))) &&
    (flat || fieldsNestWithin(o))
  );
}

/** The depth bound, looking only into fields that hold an object or array (HubSpot's hold none). */
function fieldsNestWithin(o: Record<string, unknown>): boolean {
  for (const key in o) {
    const value = o[key];
    if (typeof value === 'object' && value !== null && !nestsWithin(value, MAX_FIELD_DEPTH)) return false;
  }
  return true;
}

/**
 * What JSON.parse would cost, bounded before it runs. A signed 1 MB body of brackets costs JSON.parse
 * 60 to 110 ms (500,000 levels deep, or 240,000 small arrays); a 10,000-event batch costs it 5 ms
 * before its length is known. HubSpot's batches hold one object per event and one array, so the
 * body is looked at only when it holds more than BRACKETS_LOOKED_PAST `{` or `[` bytes (two native
 * byte searches, about a microsecond on a 100-event batch): then one pass over the bytes, stopping
 * at the first bound passed, refuses what validation would refuse anyway (more than MAX_BATCH
 * events, a field nested deeper than MAX_FIELD_DEPTH) and more than MAX_CONTAINERS objects and
 * arrays in all. Strings are skipped (a bracket inside one counts for nothing). A body that is not
 * JSON may get one of these refusals instead of "not valid JSON": both are 400s.
 */
export const MAX_CONTAINERS = 10_000;
const BRACKETS_LOOKED_PAST = 1_000;
const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;

/** Throws the 400 for a body past the bounds; else returns how many `{` and `[` bytes it holds (for parseWebhookBatch). */
export function refuseCostlyBody(raw: Buffer): number {
  const brackets = bracketsWithin(raw, OPEN_BRACE, BRACKETS_LOOKED_PAST) + bracketsWithin(raw, OPEN_BRACKET, BRACKETS_LOOKED_PAST);
  if (brackets <= BRACKETS_LOOKED_PAST) return brackets;
  // Depth 1 is the batch, 2 an event, 3 and on inside an event's fields.
  const maxDepth = MAX_FIELD_DEPTH + 2;
  let depth = 0;
  let containers = 0;
  let events = 0;
  let inString = false;
  let stringStart = 0;
  // The last string closed at an event's level: the name of the field whose value follows.
  let field: [number, number] | undefined;
  let fieldOfValue: [number, number] | undefined;
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i] as number;
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) {
        inString = false;
        if (depth === 2) field = [stringStart, i + 1];
      }
    } else if (c === 0x22) {
      inString = true;
      stringStart = i;
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      depth++;
      containers++;
      if (depth === 2) {
        field = undefined;
        if (++events > MAX_BATCH) throw tooManyEvents(`more than ${MAX_BATCH}`);
      }
      if (depth === 3) fieldOfValue = field;
      if (depth > maxDepth) {
        const path = `${events - 1}${fieldName(raw, fieldOfValue)}`;
        throw invalidRequest(`${path}: ${tooDeep}`, { issues: [{ path, message: tooDeep }] });
      }
      if (containers > MAX_CONTAINERS) {
        const message = `more than ${MAX_CONTAINERS} objects and arrays in one request (HubSpot's events are flat: one object each)`;
        throw invalidRequest(`webhook batch: ${message}`, { issues: [{ path: 'webhook batch', message }] });
      }
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
    }
  }
  return containers;
}

/** `.name` of the field at `at` in `raw`, as validation would name it; '' when it cannot be read. */
function fieldName(raw: Buffer, at: [number, number] | undefined): string {
  if (!at) return '';
  try {
    return `.${String(JSON.parse(raw.toString('utf8', at[0], at[1])))}`;
  } catch {
    return '';
  }
}

/** How many `byte`s `raw` holds, counting no further than `limit + 1`. */
function bracketsWithin(raw: Buffer, byte: number, limit: number): number {
  let count = 0;
  for (let at = raw.indexOf(byte); at !== -1 && count <= limit; at = raw.indexOf(byte, at + 1)) count++;
  return count;
}

/** Deal events Dealgate acts on; other subscription types are acknowledged and dropped. */
export function isDealEvent(subscriptionType: string): boolean {
  return subscriptionType.startsWith('deal.');
}

/**
 * The event's identity across HubSpot's retries. HubSpot keeps eventId across redeliveries but
 * documents it as "not guaranteed to be unique", so the key also carries what the event says
 * (type, object, property, time), which a redelivery repeats exactly. Without an eventId, the new
 * value stands in for it.
 */
export function eventKey(e: WebhookEvent): string {
  const what = `${e.subscriptionType}:${e.objectId}:${e.propertyName ?? ''}:${e.occurredAt}`;
  return e.eventId !== undefined ? `${e.eventId}:${what}` : `-:${what}:${e.propertyValue ?? ''}`;
}

export function toInboxEvent(e: WebhookEvent): NewInboxEvent {
  return {
    portalId: e.portalId,
    eventKey: eventKey(e),
    objectId: String(e.objectId),
    subscriptionType: e.subscriptionType,
    propertyName: e.propertyName ?? null,
    propertyValue: e.propertyValue ?? null,
    changeSource: e.changeSource ?? null,
    sourceId: e.sourceId === undefined || e.sourceId === null ? null : String(e.sourceId),
    occurredAt: e.occurredAt,
    payload: JSON.stringify(e),
  };
}

/**
 * The inbox rows of a journaled batch (verified and validated when it arrived): the deal events,
 * each with its identity. Other objects' events are dropped here.
 */
export function inboxEventsOf(body: Buffer): NewInboxEvent[] {
  return inboxEventsOfBatch(parseWebhookBatch(JSON.parse(body.toString('utf8'))));
}

/** The same, from a batch already parsed and validated (the route hands it to the journal). */
export function inboxEventsOfBatch(batch: readonly WebhookEvent[]): NewInboxEvent[] {
  const events: NewInboxEvent[] = [];
  for (const event of batch) if (isDealEvent(event.subscriptionType)) events.push(toInboxEvent(event));
  return events;
}
