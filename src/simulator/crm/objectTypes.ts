/**
 * The CRM object types the simulator keeps, and the names HubSpot accepts for them in paths
 * (plural name, singular name, or the object type id: deals are 0-3, notes 0-46, tasks 0-27).
 * https://developers.hubspot.com/docs/api/crm/understanding-the-crm#object-type-id
 */
export type CrmObjectType = 'deals' | 'notes' | 'tasks';

export const CRM_OBJECT_TYPES: readonly CrmObjectType[] = ['deals', 'notes', 'tasks'];

const aliases: Record<string, CrmObjectType> = {
  deals: 'deals',
  deal: 'deals',
  '0-3': 'deals',
  notes: 'notes',
  note: 'notes',
  '0-46': 'notes',
  tasks: 'tasks',
  task: 'tasks',
  '0-27': 'tasks',
};

export function resolveObjectType(raw: string): CrmObjectType | undefined {
  return aliases[raw.toLowerCase()];
}

/** Singular names, as HubSpot spells them in association labels (`deal_to_note`). */
export const SINGULAR: Record<CrmObjectType, string> = { deals: 'deal', notes: 'note', tasks: 'task' };

/** Properties every object answers with, whatever was asked for. */
export const ALWAYS_RETURNED = ['createdate', 'hs_lastmodifieddate', 'hs_object_id'] as const;

/** What a read without `properties` returns (HubSpot's defaults per object type). */
export const DEFAULT_READ_PROPERTIES: Record<CrmObjectType, readonly string[]> = {
  deals: ['amount', 'closedate', 'createdate', 'dealname', 'dealstage', 'hs_lastmodifieddate', 'hs_object_id', 'pipeline'],
  notes: ['hs_createdate', 'hs_lastmodifieddate', 'hs_object_id'],
  tasks: ['hs_createdate', 'hs_lastmodifieddate', 'hs_object_id'],
};
