import appMeta from '../../app/app-hsmeta.json';
import { CRM_OBJECT_TYPES, type CrmObjectType } from '../crm/objectTypes';

/**
 * Which scopes each endpoint the simulator serves requires: the one table the simulator enforces
 * (apiRoute answers 403 MISSING_SCOPES when a token lacks them) and tests check Dealgate's
 * declared scopes against. Endpoints are spelled as the request log spells them
 * (`PATCH /crm/v3/objects/deals/{objectId}`).
 *
 * A requirement is a list of groups; the token must hold at least one scope of every group.
 * HubSpot's reference pages say "This API requires one of the following scopes", and its 403
 * lists them as "One or more of the following scopes are required": that is one group. Reading
 * associations names two objects, and the simulator wants the read scope of both (two groups;
 * whether HubSpot wants both or either is unconfirmed, both is the safe side for Dealgate).
 *
 * Sources (checked December 2026):
 * - deals: https://developers.hubspot.com/docs/api-reference/latest/crm/objects/deals/guide
 *   (crm.objects.deals.read / crm.objects.deals.write).
 * - notes and tasks: .../crm/activities/notes/guide and .../crm/activities/tasks/guide both list
 *   crm.objects.contacts.read / crm.objects.contacts.write (engagements have no scopes of their own).
 * - search: .../crm/search guide: "a CRM scope is required", the searched object's read scope.
 * - pipelines: .../crm/pipelines/guide accepts one of many object scopes; for deal pipelines that
 *   is crm.objects.deals.read (the legacy v1 endpoint wanted "contacts" for deal pipelines).
 * - properties and groups: legacy deal property methods list crm.schemas.deals.read (get) and
 *   crm.schemas.deals.write (create/update). Engagement properties: crm.schemas.contacts.* (unconfirmed).
 * - owners: .../crm/owners/guide: crm.objects.owners.read.
 * - associations v4: .../crm/associations/association-details: one of each object's read scope.
 * - account details: .../account/account-information/guide: oauth.
 * - /oauth/v1/token and /oauth/v1/access-tokens/{token} take no access token (no scope).
 */
export type ScopeRequirement = readonly (readonly string[])[];

export interface ObjectScopes {
  read: string;
  write: string;
  schemaRead: string;
  schemaWrite: string;
}

export const OBJECT_SCOPES: Record<CrmObjectType, ObjectScopes> = {
  deals: { read: 'crm.objects.deals.read', write: 'crm.objects.deals.write', schemaRead: 'crm.schemas.deals.read', schemaWrite: 'crm.schemas.deals.write' },
  notes: { read: 'crm.objects.contacts.read', write: 'crm.objects.contacts.write', schemaRead: 'crm.schemas.contacts.read', schemaWrite: 'crm.schemas.contacts.write' },
  tasks: { read: 'crm.objects.contacts.read', write: 'crm.objects.contacts.write', schemaRead: 'crm.schemas.contacts.read', schemaWrite: 'crm.schemas.contacts.write' },
};

const one = (scope: string): ScopeRequirement => [[scope]];

function objectEndpoints(type: CrmObjectType): [string, ScopeRequirement][] {
  const { read, write, schemaRead, schemaWrite } = OBJECT_SCOPES[type];
  const base = `/crm/v3/objects/${type}`;
  const entries: [string, ScopeRequirement][] = [
    [`POST ${base}`, one(write)],
    [`GET ${base}`, one(read)],
    [`GET ${base}/{objectId}`, one(read)],
    [`PATCH ${base}/{objectId}`, one(write)],
    [`DELETE ${base}/{objectId}`, one(write)],
    [`POST ${base}/batch/read`, one(read)],
    [`POST ${base}/batch/create`, one(write)],
    [`POST ${base}/batch/update`, one(write)],
    [`POST ${base}/batch/archive`, one(write)],
    [`POST ${base}/search`, one(read)],
    [`GET /crm/v3/properties/${type}`, one(schemaRead)],
    [`POST /crm/v3/properties/${type}`, one(schemaWrite)],
    [`GET /crm/v3/properties/${type}/{propertyName}`, one(schemaRead)],
    [`GET /crm/v3/properties/${type}/groups`, one(schemaRead)],
    [`POST /crm/v3/properties/${type}/groups`, one(schemaWrite)],
    [`GET /crm/v3/properties/${type}/groups/{groupName}`, one(schemaRead)],
    // Pipelines of notes and tasks answer an empty list; they need the object's read scope all the same.
    [`GET /crm/v3/pipelines/${type}`, one(read)],
    [`GET /crm/v3/pipelines/${type}/{pipelineId}`, one(read)],
    [`GET /crm/v3/pipelines/${type}/{pipelineId}/stages`, one(read)],
    [`GET /crm/v3/pipelines/${type}/{pipelineId}/stages/{stageId}`, one(read)],
  ];
  for (const toType of CRM_OBJECT_TYPES) {
    const groups = read === OBJECT_SCOPES[toType].read ? [[read]] : [[read], [OBJECT_SCOPES[toType].read]];
    entries.push([`GET /crm/v4/objects/${type}/{objectId}/associations/${toType}`, groups]);
  }
  return entries;
}

/** Every authenticated endpoint the simulator serves, and what it requires. */
export const ENDPOINT_SCOPES: ReadonlyMap<string, ScopeRequirement> = new Map<string, ScopeRequirement>([
  ...CRM_OBJECT_TYPES.flatMap(objectEndpoints),
  ['GET /crm/v3/owners', one('crm.objects.owners.read')],
  ['GET /crm/v3/owners/{ownerId}', one('crm.objects.owners.read')],
  ['GET /account-info/v3/details', one('oauth')],
]);

export function scopeRequirementOf(endpoint: string): ScopeRequirement | undefined {
  return ENDPOINT_SCOPES.get(endpoint);
}

/** The first group none of whose scopes the token holds; undefined when the token suffices. */
export function unmetScopes(requirement: ScopeRequirement, granted: readonly string[]): readonly string[] | undefined {
  const held = new Set(granted);
  return requirement.find((group) => !group.some((scope) => held.has(scope)));
}

/**
 * The scopes the project declares (src/app/app-hsmeta.json `requiredScopes`): what the app asks
 * for at install, so what HubSpot grants its OAuth tokens and what the simulator's static tokens
 * carry unless a test says otherwise.
 */
export function projectScopes(): string[] {
  return [...appMeta.config.auth.requiredScopes];
}
