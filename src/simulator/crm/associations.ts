import { validationError } from '../hubspotErrors';
import type { CrmObjectType } from './objectTypes';

/**
 * HubSpot-defined association types between the objects the simulator keeps, both directions.
 * https://developers.hubspot.com/docs/api/crm/associations#association-type-id-values
 */
interface AssociationType {
  from: CrmObjectType;
  to: CrmObjectType;
  typeId: number;
}

const HUBSPOT_DEFINED: AssociationType[] = [
  { from: 'deals', to: 'notes', typeId: 213 },
  { from: 'notes', to: 'deals', typeId: 214 },
  { from: 'deals', to: 'tasks', typeId: 215 },
  { from: 'tasks', to: 'deals', typeId: 216 },
];

export const NOTE_TO_DEAL = 214;
export const TASK_TO_DEAL = 216;

export interface AssociationLink {
  toType: CrmObjectType;
  toId: string;
  typeId: number;
  category: 'HUBSPOT_DEFINED';
}

/** An association as a create request gives it (`associations[]` of SimplePublicObjectInputForCreate). */
export interface AssociationInput {
  to?: { id?: unknown };
  types?: { associationCategory?: unknown; associationTypeId?: unknown }[];
}

export function associationTypeFor(from: CrmObjectType, to: CrmObjectType): number | undefined {
  return HUBSPOT_DEFINED.find((t) => t.from === from && t.to === to)?.typeId;
}

/** Resolves what a create request asks to associate; 400 for a type HubSpot would not accept here. */
export function resolveAssociationInput(from: CrmObjectType, input: AssociationInput): { toType: CrmObjectType; toId: string; typeId: number } {
  const toId = input.to?.id;
  if (typeof toId !== 'string' && typeof toId !== 'number') {
    throw validationError('Invalid input JSON: association.to.id is required', [{ message: 'association.to.id is required', in: 'associations' }]);
  }
  const types = input.types ?? [];
  if (types.length === 0) {
    throw validationError('Invalid input JSON: association types are required', [{ message: 'association types are required', in: 'associations' }]);
  }
  let known: AssociationType | undefined;
  for (const spec of types) {
    known = HUBSPOT_DEFINED.find((t) => t.from === from && t.typeId === Number(spec.associationTypeId));
    if (spec.associationCategory !== 'HUBSPOT_DEFINED' || !known) {
      throw validationError(
        `${String(spec.associationCategory)} ${String(spec.associationTypeId)} is not a valid association type for ${from}`,
        [{ message: 'invalid association type', in: 'associations' }],
      );
    }
  }
  if (!known) throw new Error('unreachable: association types were checked');
  return { toType: known.to, toId: String(toId), typeId: known.typeId };
}

/** Links both ways, like HubSpot: creating note→deal (214) makes deal→note (213) visible too. */
export class AssociationGraph {
  private readonly links = new Map<string, AssociationLink[]>();

  link(fromType: CrmObjectType, fromId: string, toType: CrmObjectType, toId: string): void {
    this.add(fromType, fromId, toType, toId);
    this.add(toType, toId, fromType, fromId);
  }

  of(type: CrmObjectType, id: string, toType?: CrmObjectType): AssociationLink[] {
    const all = this.links.get(`${type}:${id}`) ?? [];
    return toType ? all.filter((l) => l.toType === toType) : [...all];
  }

  private add(fromType: CrmObjectType, fromId: string, toType: CrmObjectType, toId: string): void {
    const typeId = associationTypeFor(fromType, toType);
    if (typeId === undefined) throw new Error(`no HubSpot-defined association from ${fromType} to ${toType}`);
    const key = `${fromType}:${fromId}`;
    const list = this.links.get(key) ?? [];
    if (!list.some((l) => l.toType === toType && l.toId === toId)) list.push({ toType, toId, typeId, category: 'HUBSPOT_DEFINED' });
    this.links.set(key, list);
  }
}
