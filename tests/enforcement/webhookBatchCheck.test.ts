import fc from 'fast-check';
import { DealgateError } from '../../src/server/shared/errors';
import {
  MAX_BATCH,
  MAX_FIELD_DEPTH,
  MAX_PROPERTY_VALUE_LENGTH,
  nestsWithin,
  parseWebhookBatch,
  refuseCostlyBody,
  webhookBatch,
  type WebhookEvent,
} from '../../src/server/hubspot/webhookEvent';

/** `levels` of objects and arrays, alternating, around a scalar. */
function nested(levels: number): unknown {
  let value: unknown = 1;
  for (let i = 0; i < levels; i++) value = i % 2 === 0 ? [value] : { v: value };
  return value;
}

/**
 * The ingest path checks batches by hand before zod (parseWebhookBatch). The hand check may only
 * ever accept what the zod schema accepts, with the same events; these generate input around
 * every rule of the schema (types, signs, integer and safe-integer limits, string lengths, digit
 * strings, null, absent, unknown fields, odd objects) and compare the two.
 */
const anyValue = fc.oneof(
  fc.constant(undefined),
  fc.constant(null),
  fc.boolean(),
  fc.integer({ min: -3, max: 3 }),
  fc.constantFrom(0, -0, 1, 2 ** 53 - 1, 2 ** 53, 2 ** 60, 1.5, -1, Number.NaN, Number.POSITIVE_INFINITY, 1e21),
  fc.double(),
  fc.constantFrom('', '0', '123', '00012', '1'.repeat(20), '1'.repeat(21), '-1', '1.5', ' 1', '1\n', 'abc', 'deal.propertyChange'),
  fc.string({ maxLength: 5 }),
  fc.constantFrom('x'.repeat(200), 'x'.repeat(201)),
  fc.constant({}),
  fc.constant([]),
  fc.constant([1]),
  fc.constantFrom('x'.repeat(MAX_PROPERTY_VALUE_LENGTH), 'x'.repeat(MAX_PROPERTY_VALUE_LENGTH + 1)),
  fc.constantFrom(MAX_FIELD_DEPTH - 1, MAX_FIELD_DEPTH, MAX_FIELD_DEPTH + 1, 6_000).map(nested),
);
/** What HubSpot might add one day: any JSON within the depth bound (the mutations below go past it). */
const unknownValue = fc.oneof(
  { weight: 4, arbitrary: fc.jsonValue({ maxDepth: 4 }) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: MAX_FIELD_DEPTH }).map(nested) },
);

const validId = fc.oneof(fc.nat(), fc.stringMatching(/^\d{1,20}$/));
const validEvent = fc.record(
  {
    eventId: validId,
    subscriptionId: validId,
    portalId: fc.integer({ min: 1, max: 2 ** 40 }),
    appId: validId,
    occurredAt: fc.nat(),
    subscriptionType: fc.string({ minLength: 1, maxLength: 200 }),
    attemptNumber: fc.nat(),
    objectId: validId,
    propertyName: fc.string({ maxLength: 200 }),
    propertyValue: fc.option(fc.string(), { nil: null }),
    changeSource: fc.string({ maxLength: 200 }),
    sourceId: fc.oneof(fc.string(), fc.integer(), fc.constant(null)),
    isSensitive: fc.boolean(),
    somethingNew: unknownValue,
  },
  { requiredKeys: ['portalId', 'occurredAt', 'subscriptionType', 'objectId'], noNullPrototype: true },
);
const fields = ['eventId', 'subscriptionId', 'portalId', 'appId', 'occurredAt', 'subscriptionType', 'attemptNumber', 'objectId', 'propertyName', 'propertyValue', 'changeSource', 'sourceId', 'somethingNew'];
/** A valid event with one to three fields replaced by anything (or an odd object altogether). */
const mutatedEvent = fc.oneof(
  { weight: 8, arbitrary: fc.tuple(validEvent, fc.uniqueArray(fc.constantFrom(...fields), { minLength: 1, maxLength: 3 }), fc.array(anyValue, { minLength: 3, maxLength: 3 })).map(([e, keys, values]) => {
    const copy: Record<string, unknown> = { ...e };
    keys.forEach((k, i) => (copy[k] = values[i]));
    return copy;
  }) },
  { weight: 1, arbitrary: anyValue },
  { weight: 1, arbitrary: validEvent.map((e) => Object.assign(Object.create(null) as object, e)) },
  { weight: 1, arbitrary: validEvent.map((e) => JSON.parse(`{"__proto__":{"polluted":true},${JSON.stringify(e).slice(1)}`) as unknown) },
);

function zodAnswer(input: unknown): { ok: true; events: unknown } | { ok: false } {
  const result = webhookBatch.safeParse(input);
  return result.success ? { ok: true, events: result.data } : { ok: false };
}

function handAnswer(input: unknown, brackets?: number): { ok: true; events: WebhookEvent[] } | { ok: false; error: unknown } {
  try {
    return { ok: true, events: parseWebhookBatch(input, brackets) };
  } catch (error) {
    return { ok: false, error };
  }
}

describe('parseWebhookBatch (the hand check in front of zod)', () => {
  it('accepts a batch exactly when zod does, with the same events', () => {
    fc.assert(
      fc.property(fc.oneof(fc.array(fc.oneof(validEvent, mutatedEvent), { maxLength: 4 }), anyValue), (input) => {
        const zod = zodAnswer(input);
        const hand = handAnswer(input);
        expect(hand.ok).toBe(zod.ok);
        if (zod.ok && hand.ok) expect(hand.events).toEqual(zod.events);
        // The route's shortcut: the body's bracket count as refuseCostlyBody gives it changes nothing.
        let brackets: number | undefined;
        try {
          brackets = refuseCostlyBody(Buffer.from(JSON.stringify(input) ?? ''));
        } catch {
          return;
        }
        expect(handAnswer(input, brackets).ok).toBe(zod.ok);
      }),
      { numRuns: 5_000 },
    );
  });

  it('refuses what zod refuses with the same 400 naming the field', () => {
    const result = handAnswer([{ portalId: 1, occurredAt: -5, subscriptionType: 'deal.creation', objectId: 1 }]);
    expect(result.ok).toBe(false);
    const error = (result as { error: unknown }).error;
    expect(error).toBeInstanceOf(DealgateError);
    expect((error as DealgateError).code).toBe('invalid_request');
    expect((error as DealgateError).message).toContain('0.occurredAt');
  });

  it('answers a well-formed batch without zod (returns the parsed events themselves)', () => {
    fc.assert(
      fc.property(fc.array(validEvent, { maxLength: MAX_BATCH }), (batch) => {
        expect(parseWebhookBatch(batch)).toBe(batch);
      }),
      { numRuns: 300 },
    );
  });

  it('leaves an event with a __proto__ key to zod, which drops the key', () => {
    const polluted = JSON.parse('[{"__proto__":{"x":1},"portalId":1,"occurredAt":1,"subscriptionType":"deal.creation","objectId":1}]') as unknown[];
    const parsed = parseWebhookBatch(polluted);
    expect(parsed).not.toBe(polluted);
    expect(Object.hasOwn(parsed[0] as object, '__proto__')).toBe(false);
  });

  it(`refuses an event with a field nested deeper than ${MAX_FIELD_DEPTH} levels, naming the field (400)`, () => {
    const event = { portalId: 1, occurredAt: 1, subscriptionType: 'deal.creation', objectId: 1 };
    expect(parseWebhookBatch([{ ...event, extra: nested(MAX_FIELD_DEPTH) }])).toHaveLength(1);
    for (const levels of [MAX_FIELD_DEPTH + 1, 6_000, 100_000]) {
      const result = handAnswer([event, { ...event, extra: nested(levels) }]);
      expect(result.ok).toBe(false);
      expect((result as { error: DealgateError }).error.code).toBe('invalid_request');
      expect((result as { error: DealgateError }).error.message).toBe(
        `1.extra: is nested deeper than ${MAX_FIELD_DEPTH} levels of objects and arrays (HubSpot's event fields are flat)`,
      );
    }
  });

  it('measures nesting as documented', () => {
    expect([nestsWithin(1, 0), nestsWithin({}, 0), nestsWithin({}, 1), nestsWithin([[]], 1), nestsWithin([[]], 2)]).toEqual([true, false, true, false, true]);
    expect(nestsWithin(nested(6_000), MAX_FIELD_DEPTH)).toBe(false);
  });

  it(`refuses a property value over ${MAX_PROPERTY_VALUE_LENGTH} characters, naming the field`, () => {
    const event = { portalId: 1, occurredAt: 1, subscriptionType: 'deal.propertyChange', objectId: 1, propertyValue: 'x'.repeat(MAX_PROPERTY_VALUE_LENGTH) };
    expect(parseWebhookBatch([event])).toHaveLength(1);
    expect(() => parseWebhookBatch([{ ...event, propertyValue: `${event.propertyValue}x` }])).toThrow(/^0\.propertyValue: /);
  });

  it('refuses an oversized batch on its length alone, saying so, without looking at its events', () => {
    // Events zod would take seconds over, and that are not even events: only the count is read.
    const batch = Array.from({ length: 10_000 }, () => 'not an event');
    const result = handAnswer(batch);
    expect(result.ok).toBe(false);
    expect((result as { error: DealgateError }).error.message).toBe(
      'webhook batch: 10000 events; HubSpot sends at most 100 a request, and at most 200 are accepted',
    );
  });

  it('refuses more than MAX_BATCH events', () => {
    const event = { portalId: 1, occurredAt: 1, subscriptionType: 'deal.creation', objectId: 1 };
    expect(parseWebhookBatch(Array.from({ length: MAX_BATCH }, () => event))).toHaveLength(MAX_BATCH);
    expect(() => parseWebhookBatch(Array.from({ length: MAX_BATCH + 1 }, () => event))).toThrow(DealgateError);
  });
});
