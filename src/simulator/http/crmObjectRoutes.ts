import { Router, type Request } from 'express';
import type { AccessGrant } from '../auth/tokenAuthority';
import type { AssociationInput } from '../crm/associations';
import type { ChangeSource } from '../crm/changeSource';
import type { CrmRecord, CrmStore } from '../crm/crmStore';
import { DEFAULT_READ_PROPERTIES, SINGULAR, resolveObjectType, type CrmObjectType } from '../crm/objectTypes';
import { validationError } from '../hubspotErrors';
import { apiRoute, type ApiCall, type TrafficControls } from './apiRoute';

/**
 * /crm/v3/objects/{objectType}: single and batch create, read, update and archive, for deals,
 * notes and tasks; and /crm/v4/objects/.../associations/... to list what is associated.
 * https://developers.hubspot.com/docs/api/crm/deals
 */
const MAX_BATCH_INPUTS = 100;

export function objectTypeParam(raw: string | undefined): CrmObjectType {
  const type = raw ? resolveObjectType(raw) : undefined;
  if (!type) throw validationError(`Unable to infer object type from: ${raw ?? ''}`);
  return type;
}

/** `properties=a&properties=b` and `properties=a,b` both work, as in HubSpot. */
export function listParam(value: Request['query'][string]): string[] | undefined {
  if (value === undefined) return undefined;
  const parts = (Array.isArray(value) ? value : [value]).filter((v): v is string => typeof v === 'string');
  return parts.flatMap((p) => p.split(',')).map((p) => p.trim()).filter((p) => p !== '');
}

function sourceOf(call: ApiCall): ChangeSource {
  const grant: AccessGrant | undefined = call.grant;
  if (!grant) throw new Error('CRM routes need an authenticated call');
  return grant.source;
}

function objectBody(call: ApiCall): Record<string, unknown> {
  const body = call.body;
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw validationError('Invalid input JSON: expected an object');
  return body as Record<string, unknown>;
}

function propertiesOf(input: Record<string, unknown>): Record<string, unknown> {
  const properties = input.properties ?? {};
  if (typeof properties !== 'object' || properties === null || Array.isArray(properties)) throw validationError('Invalid input JSON: properties must be an object');
  return properties as Record<string, unknown>;
}

function batchInputs(call: ApiCall): Record<string, unknown>[] {
  const inputs = objectBody(call).inputs;
  if (!Array.isArray(inputs)) throw validationError('Invalid input JSON: inputs is required', [{ message: 'inputs is required', in: 'inputs' }]);
  if (inputs.length > MAX_BATCH_INPUTS) {
    throw validationError(`Batch input of ${inputs.length} exceeds the limit of ${MAX_BATCH_INPUTS} inputs`, [{ message: 'too many inputs', in: 'inputs' }]);
  }
  return inputs.map((i) => {
    if (typeof i !== 'object' || i === null) throw validationError('Invalid input JSON: each input must be an object');
    return i as Record<string, unknown>;
  });
}

function idOf(input: Record<string, unknown>): string {
  const id = input.id;
  if (typeof id !== 'string' && typeof id !== 'number') throw validationError('Invalid input JSON: id is required', [{ message: 'id is required', in: 'id' }]);
  return String(id);
}

/** What a write answers: the properties written plus the type's defaults. */
function written(store: CrmStore, record: CrmRecord, names: string[]): ReturnType<CrmStore['present']> {
  return store.present(record, { properties: [...new Set([...DEFAULT_READ_PROPERTIES[record.type], ...names])] });
}

function batchEnvelope(startedAt: string, results: unknown[], errors: unknown[]): { status: number; body: Record<string, unknown> } {
  const completedAt = new Date().toISOString();
  const body: Record<string, unknown> = { status: 'COMPLETE', results, startedAt, completedAt };
  if (errors.length === 0) return { status: 200, body };
  return { status: 207, body: { ...body, numErrors: errors.length, errors } };
}

function missingObjects(type: CrmObjectType, verb: 'get' | 'update', ids: string[]): Record<string, unknown> {
  return {
    status: 'error',
    category: 'OBJECT_NOT_FOUND',
    message: `Could not ${verb} some ${SINGULAR[type].toUpperCase()} objects, they may be deleted or not exist. Check that ids are valid.`,
    context: { ids },
    errors: [],
  };
}

function associationsParam(call: ApiCall): CrmObjectType[] | undefined {
  return listParam(call.query.associations)
    ?.map((t) => resolveObjectType(t))
    .filter((t): t is CrmObjectType => t !== undefined);
}

const OBJECT_PATH = '/crm/v3/objects/:objectType';

export function crmObjectRoutes(store: CrmStore, controls: TrafficControls): Router {
  const router = Router();
  batchRoutes(router, store, controls);
  recordRoutes(router, store, controls);
  associationRoutes(router, store, controls);
  return router;
}

function batchRoutes(router: Router, store: CrmStore, controls: TrafficControls): void {
  router.post(
    `${OBJECT_PATH}/batch/read`,
    apiRoute(controls, (call) => {
      const type = objectTypeParam(call.params.objectType);
      const startedAt = new Date().toISOString();
      const body = objectBody(call);
      if (body.idProperty !== undefined && body.idProperty !== 'hs_object_id') throw validationError('The simulator reads by record id only (idProperty is not supported)');
      const properties = Array.isArray(body.properties) ? (body.properties as string[]) : undefined;
      const propertiesWithHistory = Array.isArray(body.propertiesWithHistory) ? (body.propertiesWithHistory as string[]) : undefined;
      const ids = batchInputs(call).map(idOf);
      const found = ids.map((id) => store.find(type, id)).filter((r): r is CrmRecord => r !== undefined);
      const missing = ids.filter((id) => !store.find(type, id));
      const results = found.map((r) => store.present(r, { ...(properties ? { properties } : {}), ...(propertiesWithHistory ? { propertiesWithHistory } : {}) }));
      return batchEnvelope(startedAt, results, missing.length > 0 ? [missingObjects(type, 'get', missing)] : []);
    }),
  );

  router.post(
    `${OBJECT_PATH}/batch/create`,
    apiRoute(controls, (call) => {
      const type = objectTypeParam(call.params.objectType);
      const startedAt = new Date().toISOString();
      const inputs = batchInputs(call);
      // All or nothing: HubSpot refuses the whole batch when one input is invalid.
      for (const input of inputs) store.check(type, propertiesOf(input), undefined, (input.associations as AssociationInput[] | undefined) ?? []);
      const records = inputs.map((input) =>
        store.create(type, propertiesOf(input), sourceOf(call), { associations: (input.associations as AssociationInput[] | undefined) ?? [] }),
      );
      const results = records.map((r, i) => written(store, r, Object.keys(propertiesOf(inputs[i]!))));
      const { body } = batchEnvelope(startedAt, results, []);
      return { status: 201, body };
    }),
  );

  router.post(
    `${OBJECT_PATH}/batch/update`,
    apiRoute(controls, (call) => {
      const type = objectTypeParam(call.params.objectType);
      const startedAt = new Date().toISOString();
      const inputs = batchInputs(call);
      const ids = inputs.map(idOf);
      const duplicates = [...new Set(ids.filter((id, i) => ids.indexOf(id) !== i))];
      if (duplicates.length > 0) throw validationError(`Duplicate IDs found in batch input: [${duplicates.join(', ')}]. IDs must be unique`);
      for (const input of inputs) {
        const existing = store.find(type, idOf(input));
        if (existing) store.check(type, propertiesOf(input), existing, []);
      }
      // Unknown or deleted ids fail alone, the others are updated: 200 when all were, else 207 Multi-Status
      // (HubSpot changelog, "Simplifying batch update response codes for CRM v3 APIs"). The error's
      // wording for update is unconfirmed; its shape (OBJECT_NOT_FOUND, context.ids) is batch read's.
      const missing = ids.filter((id) => !store.find(type, id));
      const results = inputs
        .filter((input) => store.find(type, idOf(input)))
        .map((input) => written(store, store.update(type, idOf(input), propertiesOf(input), sourceOf(call)), Object.keys(propertiesOf(input))));
      return batchEnvelope(startedAt, results, missing.length > 0 ? [missingObjects(type, 'update', missing)] : []);
    }),
  );

  router.post(
    `${OBJECT_PATH}/batch/archive`,
    apiRoute(controls, (call) => {
      const type = objectTypeParam(call.params.objectType);
      for (const id of batchInputs(call).map(idOf)) if (store.find(type, id)) store.archive(type, id, sourceOf(call));
      return { status: 204 };
    }),
  );
}

function recordRoutes(router: Router, store: CrmStore, controls: TrafficControls): void {
  router.post(
    OBJECT_PATH,
    apiRoute(controls, (call) => {
      const type = objectTypeParam(call.params.objectType);
      const input = objectBody(call);
      const properties = propertiesOf(input);
      const record = store.create(type, properties, sourceOf(call), { associations: (input.associations as AssociationInput[] | undefined) ?? [] });
      return { status: 201, body: written(store, record, Object.keys(properties)) };
    }),
  );

  router.get(
    OBJECT_PATH,
    apiRoute(controls, (call) => {
      const type = objectTypeParam(call.params.objectType);
      const limit = Math.min(100, Math.max(1, Number(call.query.limit ?? 10) || 10));
      const after = typeof call.query.after === 'string' ? Number(call.query.after) : 0;
      const properties = listParam(call.query.properties);
      const propertiesWithHistory = listParam(call.query.propertiesWithHistory);
      const associations = associationsParam(call);
      const page = store.list(type).filter((r) => Number(r.id) > after);
      const results = page
        .slice(0, limit)
        .map((r) => store.present(r, { ...(properties ? { properties } : {}), ...(propertiesWithHistory ? { propertiesWithHistory } : {}), ...(associations ? { associations } : {}) }));
      const last = results[results.length - 1];
      const paging = page.length > limit && last ? { next: { after: last.id, link: `?after=${last.id}` } } : undefined;
      return { status: 200, body: { results, ...(paging ? { paging } : {}) } };
    }),
  );

  router.get(
    `${OBJECT_PATH}/:objectId`,
    apiRoute(controls, (call) => {
      const type = objectTypeParam(call.params.objectType);
      if (call.query.idProperty !== undefined && call.query.idProperty !== 'hs_object_id') throw validationError('The simulator reads by record id only (idProperty is not supported)');
      const record = store.get(type, call.params.objectId ?? '');
      const properties = listParam(call.query.properties);
      const propertiesWithHistory = listParam(call.query.propertiesWithHistory);
      const associations = associationsParam(call);
      return {
        status: 200,
        body: store.present(record, { ...(properties ? { properties } : {}), ...(propertiesWithHistory ? { propertiesWithHistory } : {}), ...(associations ? { associations } : {}) }),
      };
    }),
  );

  router.patch(
    `${OBJECT_PATH}/:objectId`,
    apiRoute(controls, (call) => {
      const type = objectTypeParam(call.params.objectType);
      const properties = propertiesOf(objectBody(call));
      const record = store.update(type, call.params.objectId ?? '', properties, sourceOf(call));
      return { status: 200, body: written(store, record, Object.keys(properties)) };
    }),
  );

  router.delete(
    `${OBJECT_PATH}/:objectId`,
    apiRoute(controls, (call) => {
      store.archive(objectTypeParam(call.params.objectType), call.params.objectId ?? '', sourceOf(call));
      return { status: 204 };
    }),
  );
}

function associationRoutes(router: Router, store: CrmStore, controls: TrafficControls): void {
  // https://developers.hubspot.com/docs/api/crm/associations (v4): toObjectId is a number there.
  router.get(
    '/crm/v4/objects/:objectType/:objectId/associations/:toObjectType',
    apiRoute(controls, (call) => {
      const type = objectTypeParam(call.params.objectType);
      const toType = objectTypeParam(call.params.toObjectType);
      const record = store.get(type, call.params.objectId ?? '');
      const results = store
        .links(type, record.id, toType)
        .filter((l) => store.find(l.toType, l.toId))
        .map((l) => ({ toObjectId: Number(l.toId), associationTypes: [{ category: l.category, typeId: l.typeId, label: null }] }));
      return { status: 200, body: { results } };
    }),
  );
}
