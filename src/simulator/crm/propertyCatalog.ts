import { alreadyExists, invalidPropertyValues, resourceNotFound, validationError, type PropertyValidationResult } from '../hubspotErrors';
import type { CrmObjectType } from './objectTypes';

/**
 * Property groups and property definitions per object type, as the CRM properties API
 * (/crm/v3/properties/{objectType}) shows them, with HubSpot's built-in properties pre-seeded.
 * https://developers.hubspot.com/docs/api/crm/properties
 */
export type PropertyType = 'string' | 'number' | 'date' | 'datetime' | 'enumeration' | 'bool';
const PROPERTY_TYPES: readonly PropertyType[] = ['string', 'number', 'date', 'datetime', 'enumeration', 'bool'];
const FIELD_TYPES = ['textarea', 'text', 'date', 'file', 'number', 'select', 'radio', 'checkbox', 'booleancheckbox', 'calculation_equation', 'html', 'phonenumber'];

export interface PropertyOption {
  label: string;
  value: string;
  displayOrder: number;
  hidden: boolean;
  description?: string;
}

export interface PropertyDefinition {
  name: string;
  label: string;
  type: PropertyType;
  fieldType: string;
  groupName: string;
  description: string;
  displayOrder: number;
  hidden: boolean;
  formField: boolean;
  hasUniqueValue: boolean;
  hubspotDefined: boolean;
  calculated: boolean;
  externalOptions: boolean;
  options: PropertyOption[];
  createdAt: string;
  updatedAt: string;
  archived: boolean;
  modificationMetadata: { archivable: boolean; readOnlyDefinition: boolean; readOnlyValue: boolean };
}

export interface PropertyGroup {
  name: string;
  label: string;
  displayOrder: number;
  archived: boolean;
}

/** The fields a caller gives when creating a property (POST /crm/v3/properties/{objectType}). */
export interface PropertyInput {
  name: string;
  label: string;
  type: PropertyType;
  fieldType: string;
  groupName: string;
  description?: string;
  displayOrder?: number;
  hidden?: boolean;
  formField?: boolean;
  hasUniqueValue?: boolean;
  options?: { label: string; value: string; displayOrder?: number; hidden?: boolean; description?: string }[];
}

interface BuiltIn {
  name: string;
  label: string;
  type: PropertyType;
  fieldType: string;
  group: string;
  readOnly?: boolean;
  /** HubSpot computes it (read only too). */
  calculated?: boolean;
  options?: string[];
}

const common: BuiltIn[] = [
  { name: 'createdate', label: 'Create Date', type: 'datetime', fieldType: 'date', group: 'system' },
  { name: 'hs_createdate', label: 'Create date', type: 'datetime', fieldType: 'date', group: 'system', readOnly: true },
  { name: 'hs_lastmodifieddate', label: 'Last Modified Date', type: 'datetime', fieldType: 'date', group: 'system', readOnly: true },
  { name: 'hs_object_id', label: 'Record ID', type: 'number', fieldType: 'number', group: 'system', readOnly: true },
  { name: 'hubspot_owner_id', label: 'Owner', type: 'enumeration', fieldType: 'select', group: 'system' },
];

const builtIns: Record<CrmObjectType, { groups: { name: string; label: string }[]; properties: BuiltIn[] }> = {
  deals: {
    groups: [
      { name: 'dealinformation', label: 'Deal information' },
      { name: 'system', label: 'System information' },
    ],
    properties: [
      { name: 'dealname', label: 'Deal Name', type: 'string', fieldType: 'text', group: 'dealinformation' },
      { name: 'amount', label: 'Amount', type: 'number', fieldType: 'number', group: 'dealinformation' },
      // Options are the account's currencies: checked by the deal store.
      { name: 'deal_currency_code', label: 'Currency', type: 'enumeration', fieldType: 'select', group: 'dealinformation' },
      // amount converted to the company currency by the deal's exchange rate; HubSpot calculates it.
      { name: 'amount_in_home_currency', label: 'Amount in company currency', type: 'number', fieldType: 'number', group: 'dealinformation', readOnly: true, calculated: true },
      // Options of dealstage and pipeline depend on the pipelines: checked by the deal store.
      { name: 'dealstage', label: 'Deal Stage', type: 'enumeration', fieldType: 'radio', group: 'dealinformation' },
      { name: 'pipeline', label: 'Pipeline', type: 'enumeration', fieldType: 'select', group: 'dealinformation' },
      { name: 'closedate', label: 'Close Date', type: 'datetime', fieldType: 'date', group: 'dealinformation' },
      { name: 'description', label: 'Deal Description', type: 'string', fieldType: 'textarea', group: 'dealinformation' },
      { name: 'dealtype', label: 'Deal Type', type: 'enumeration', fieldType: 'radio', group: 'dealinformation', options: ['newbusiness', 'existingbusiness'] },
      ...common,
    ],
  },
  notes: {
    groups: [
      { name: 'engagement', label: 'Engagement' },
      { name: 'system', label: 'System information' },
    ],
    properties: [
      { name: 'hs_note_body', label: 'Note body', type: 'string', fieldType: 'html', group: 'engagement' },
      { name: 'hs_timestamp', label: 'Activity date', type: 'datetime', fieldType: 'date', group: 'engagement' },
      { name: 'hs_attachment_ids', label: 'Attached file IDs', type: 'enumeration', fieldType: 'checkbox', group: 'engagement' },
      ...common,
    ],
  },
  tasks: {
    groups: [
      { name: 'task', label: 'Task information' },
      { name: 'system', label: 'System information' },
    ],
    properties: [
      { name: 'hs_task_body', label: 'Notes', type: 'string', fieldType: 'html', group: 'task' },
      { name: 'hs_task_subject', label: 'Task Title', type: 'string', fieldType: 'text', group: 'task' },
      { name: 'hs_task_status', label: 'Task Status', type: 'enumeration', fieldType: 'select', group: 'task', options: ['NOT_STARTED', 'IN_PROGRESS', 'WAITING', 'COMPLETED', 'DEFERRED'] },
      { name: 'hs_task_priority', label: 'Priority', type: 'enumeration', fieldType: 'select', group: 'task', options: ['NONE', 'LOW', 'MEDIUM', 'HIGH'] },
      { name: 'hs_task_type', label: 'Task Type', type: 'enumeration', fieldType: 'select', group: 'task', options: ['EMAIL', 'CALL', 'TODO', 'LINKED_IN'] },
      { name: 'hs_timestamp', label: 'Due date', type: 'datetime', fieldType: 'date', group: 'task' },
      // Checked by checkTaskReminders (taskReminders.ts): Unix milliseconds only.
      { name: 'hs_task_reminders', label: 'Reminder', type: 'string', fieldType: 'text', group: 'task' },
      ...common,
    ],
  },
};

/** Values the catalog cannot judge alone (options that live elsewhere, such as pipeline stages). */
const OPEN_ENUMERATIONS = new Set(['dealstage', 'pipeline', 'hubspot_owner_id', 'hs_attachment_ids', 'deal_currency_code']);

export class PropertyCatalog {
  private readonly groups = new Map<CrmObjectType, Map<string, PropertyGroup>>();
  private readonly properties = new Map<CrmObjectType, Map<string, PropertyDefinition>>();

  constructor(private readonly now: () => number) {
    const created = new Date(Date.UTC(2019, 0, 1)).toISOString();
    for (const [type, spec] of Object.entries(builtIns) as [CrmObjectType, (typeof builtIns)[CrmObjectType]][]) {
      const groups = new Map<string, PropertyGroup>();
      spec.groups.forEach((g, i) => groups.set(g.name, { name: g.name, label: g.label, displayOrder: i, archived: false }));
      this.groups.set(type, groups);
      const properties = new Map<string, PropertyDefinition>();
      spec.properties.forEach((p, i) =>
        properties.set(p.name, {
          ...definitionDefaults(created),
          name: p.name,
          label: p.label,
          type: p.type,
          fieldType: p.fieldType,
          groupName: p.group,
          displayOrder: i,
          hubspotDefined: true,
          calculated: p.calculated ?? false,
          options: (p.options ?? []).map((value, order) => ({ label: value, value, displayOrder: order, hidden: false })),
          modificationMetadata: { archivable: false, readOnlyDefinition: true, readOnlyValue: p.readOnly ?? false },
        }),
      );
      this.properties.set(type, properties);
    }
  }

  listGroups(type: CrmObjectType): PropertyGroup[] {
    return [...this.groupsOf(type).values()];
  }

  getGroup(type: CrmObjectType, name: string): PropertyGroup {
    const group = this.groupsOf(type).get(name);
    if (!group) throw resourceNotFound(`Unable to find property group '${name}' for object type ${type}`);
    return group;
  }

  /** 409 when the group exists, like HubSpot. */
  createGroup(type: CrmObjectType, input: { name?: unknown; label?: unknown; displayOrder?: unknown }): PropertyGroup {
    if (typeof input.name !== 'string' || input.name === '') throw validationError('name is required', [{ message: 'name is required', in: 'name' }]);
    if (typeof input.label !== 'string' || input.label === '') throw validationError('label is required', [{ message: 'label is required', in: 'label' }]);
    const groups = this.groupsOf(type);
    if (groups.has(input.name)) throw alreadyExists(`A property group named '${input.name}' already exists.`, input.name);
    const group: PropertyGroup = {
      name: input.name,
      label: input.label,
      displayOrder: typeof input.displayOrder === 'number' ? input.displayOrder : -1,
      archived: false,
    };
    groups.set(group.name, group);
    return group;
  }

  list(type: CrmObjectType): PropertyDefinition[] {
    return [...this.propertiesOf(type).values()];
  }

  find(type: CrmObjectType, name: string): PropertyDefinition | undefined {
    return this.propertiesOf(type).get(name);
  }

  get(type: CrmObjectType, name: string): PropertyDefinition {
    const property = this.find(type, name);
    if (!property) throw resourceNotFound(`Unable to find property '${name}' for object type ${type}`);
    return property;
  }

  /** 409 when the property exists; 400 when a required field is missing or the group is unknown. */
  create(type: CrmObjectType, input: Partial<Record<keyof PropertyInput, unknown>>): PropertyDefinition {
    const missing = (['name', 'label', 'type', 'fieldType', 'groupName'] as const).filter((f) => typeof input[f] !== 'string' || input[f] === '');
    if (missing.length > 0) {
      throw validationError(
        `Invalid input JSON: missing required field(s) ${missing.join(', ')}`,
        missing.map((f) => ({ message: `${f} is required`, in: f })),
      );
    }
    const name = input.name as string;
    if (!/^[a-z][a-z0-9_]*$/.test(name)) {
      throw validationError(`Property name '${name}' is invalid: use lower case letters, digits and underscores, starting with a letter.`);
    }
    const properties = this.propertiesOf(type);
    if (properties.has(name)) throw alreadyExists(`A property named '${name}' already exists.`, name);
    const propertyType = input.type as string;
    if (!PROPERTY_TYPES.includes(propertyType as PropertyType)) throw validationError(`'${propertyType}' is not a valid property type`);
    const fieldType = input.fieldType as string;
    if (!FIELD_TYPES.includes(fieldType)) throw validationError(`'${fieldType}' is not a valid field type`);
    const groupName = input.groupName as string;
    if (!this.groupsOf(type).has(groupName)) throw validationError(`Property group '${groupName}' does not exist for object type ${type}`);
    const options = Array.isArray(input.options) ? (input.options as PropertyInput['options'] & object) : [];
    if (propertyType === 'enumeration' && options.length === 0 && fieldType !== 'checkbox') {
      throw validationError(`Enumeration property '${name}' needs at least one option`);
    }
    const at = new Date(this.now()).toISOString();
    const definition: PropertyDefinition = {
      ...definitionDefaults(at),
      name,
      label: input.label as string,
      type: propertyType as PropertyType,
      fieldType,
      groupName,
      description: typeof input.description === 'string' ? input.description : '',
      displayOrder: typeof input.displayOrder === 'number' ? input.displayOrder : -1,
      hidden: input.hidden === true,
      formField: input.formField === true,
      hasUniqueValue: input.hasUniqueValue === true,
      options: options.map((o, i) => ({
        label: o.label,
        value: o.value,
        displayOrder: o.displayOrder ?? i,
        hidden: o.hidden ?? false,
        ...(o.description !== undefined ? { description: o.description } : {}),
      })),
      modificationMetadata: { archivable: true, readOnlyDefinition: false, readOnlyValue: false },
    };
    properties.set(name, definition);
    return definition;
  }

  /**
   * Checks a write: every property must exist, be writable, and (for closed enumerations and
   * booleans) hold one of its options. Returns the values as HubSpot stores them (booleans in
   * lower case); throws HubSpot's 400 listing every bad property.
   */
  validateWrite(type: CrmObjectType, values: Record<string, unknown>): Record<string, string> {
    const failures: PropertyValidationResult[] = [];
    const accepted: Record<string, string> = {};
    for (const [name, raw] of Object.entries(values)) {
      const property = this.find(type, name);
      const value = raw === null || raw === undefined ? '' : String(raw);
      if (!property) {
        failures.push({ isValid: false, message: `Property "${name}" does not exist`, error: 'PROPERTY_DOESNT_EXIST', name });
        continue;
      }
      if (property.calculated) {
        // The message of a real response (quoted in mautic/mautic#8785); the error code is unconfirmed.
        failures.push({ isValid: false, message: `"${name}" is a calculated property; its value cannot be set.`, error: 'READ_ONLY_VALUE', name });
        continue;
      }
      if (property.modificationMetadata.readOnlyValue) {
        failures.push({ isValid: false, message: `"${name}" is a read only property; its value cannot be set.`, error: 'READ_ONLY_VALUE', name });
        continue;
      }
      const normalized = property.type === 'bool' ? value.toLowerCase() : value;
      if (normalized !== '' && !this.isAllowedOption(property, normalized)) {
        failures.push({
          isValid: false,
          message: `${value} was not one of the allowed options: ${property.options.map((o) => o.value).join(', ')}`,
          error: 'INVALID_OPTION',
          name,
        });
        continue;
      }
      accepted[name] = normalized;
    }
    if (failures.length > 0) throw invalidPropertyValues(failures);
    return accepted;
  }

  private isAllowedOption(property: PropertyDefinition, value: string): boolean {
    if (property.type === 'bool') return value === 'true' || value === 'false';
    if (property.type !== 'enumeration' || OPEN_ENUMERATIONS.has(property.name) || property.options.length === 0) return true;
    const allowed = new Set(property.options.map((o) => o.value));
    // Multiple checkboxes hold several options separated by semicolons.
    const chosen = property.fieldType === 'checkbox' ? value.split(';') : [value];
    return chosen.every((v) => allowed.has(v));
  }

  private groupsOf(type: CrmObjectType): Map<string, PropertyGroup> {
    const groups = this.groups.get(type);
    if (!groups) throw new Error(`no property groups for ${type}`);
    return groups;
  }

  private propertiesOf(type: CrmObjectType): Map<string, PropertyDefinition> {
    const properties = this.properties.get(type);
    if (!properties) throw new Error(`no properties for ${type}`);
    return properties;
  }
}

function definitionDefaults(at: string): Omit<PropertyDefinition, 'name' | 'label' | 'type' | 'fieldType' | 'groupName' | 'displayOrder' | 'options' | 'modificationMetadata'> {
  return {
    description: '',
    hidden: false,
    formField: false,
    hasUniqueValue: false,
    hubspotDefined: false,
    calculated: false,
    externalOptions: false,
    createdAt: at,
    updatedAt: at,
    archived: false,
  };
}
