import { gateStatuses } from '../../../extensions/contract/api';
import { DELIVERY_STATUSES, type DeliveryStatus } from '../domain/delivery';
import { PropertyCreateFieldTypeEnum, PropertyCreateTypeEnum, type PropertyDefinition } from '../hubspot/gateway';
/**
 * The deal properties Dealgate creates in every account it is installed in (DESIGN.md, "HubSpot
 * side"), in the `dealgate` property group. Reps write the commitment properties; Dealgate writes
 * the status and decision properties as a projection of its own records.
 */
export const DEALGATE_PROPERTY_GROUP = { name: 'dealgate', label: 'Dealgate' };

const statusLabels: Record<(typeof gateStatuses)[number], string> = {
  not_required: 'Not required',
  required: 'Review required',
  pending: 'Review pending',
  overdue: 'Review overdue',
  approved: 'Approved',
  approved_with_conditions: 'Approved with conditions',
  rejected: 'Rejected',
};

const deliveryStatusLabels: Record<DeliveryStatus, string> = {
  planned: 'Planned',
  in_progress: 'In progress',
  at_risk: 'At risk',
  delivered: 'Delivered',
  slipped: 'Slipped',
  deprioritized: 'Deprioritized',
};

/**
 * What engineering said yes to (issue 14), for HubSpot views and reports: the delivery's status,
 * its promised date (a date property: HubSpot takes YYYY-MM-DD, https://developers.hubspot.com/docs/api/crm/properties
 * "date" values) and its owner's HubSpot user id. Written by Dealgate from its delivery record.
 */
export const DELIVERY_PROPERTIES: PropertyDefinition[] = [
  {
    name: 'dealgate_delivery_status',
    label: 'Delivery status',
    type: PropertyCreateTypeEnum.Enumeration,
    fieldType: PropertyCreateFieldTypeEnum.Select,
    description: 'Where engineering stands on the commitment it approved, written by Dealgate.',
    options: DELIVERY_STATUSES.map((value, displayOrder) => ({ label: deliveryStatusLabels[value], value, displayOrder })),
  },
  {
    name: 'dealgate_promised_date',
    label: 'Promised delivery date',
    type: PropertyCreateTypeEnum.Date,
    fieldType: PropertyCreateFieldTypeEnum.Date,
    description: 'The day engineering promised to deliver the approved commitment by, written by Dealgate.',
  },
  {
    name: 'dealgate_delivery_owner',
    label: 'Delivery owner',
    type: PropertyCreateTypeEnum.String,
    fieldType: PropertyCreateFieldTypeEnum.Text,
    description: 'HubSpot user who owns the delivery of the approved commitment, written by Dealgate.',
  },
];

export const DEALGATE_PROPERTIES: PropertyDefinition[] = [
  {
    name: 'dealgate_commitment',
    label: 'Custom technical commitment',
    type: PropertyCreateTypeEnum.Bool,
    fieldType: PropertyCreateFieldTypeEnum.Booleancheckbox,
    description: 'The deal includes a custom technical commitment (a feature, an integration, custom work promised to the customer).',
    options: [
      { label: 'Yes', value: 'true', displayOrder: 0 },
      { label: 'No', value: 'false', displayOrder: 1 },
    ],
  },
  {
    name: 'dealgate_commitment_summary',
    label: 'Commitment summary',
    type: PropertyCreateTypeEnum.String,
    fieldType: PropertyCreateFieldTypeEnum.Textarea,
    description: 'What the customer asked for.',
  },
  {
    name: 'dealgate_effort_weeks',
    label: 'Estimated effort (engineer-weeks)',
    type: PropertyCreateTypeEnum.Number,
    fieldType: PropertyCreateFieldTypeEnum.Number,
    description: 'Estimated engineering effort of the commitment, in engineer-weeks.',
  },
  {
    name: 'dealgate_status',
    label: 'Dealgate status',
    type: PropertyCreateTypeEnum.Enumeration,
    fieldType: PropertyCreateFieldTypeEnum.Select,
    description: 'Technical review status, written by Dealgate.',
    options: gateStatuses.map((value, displayOrder) => ({ label: statusLabels[value], value, displayOrder })),
  },
  {
    name: 'dealgate_decided_by',
    label: 'Reviewed by',
    type: PropertyCreateTypeEnum.String,
    fieldType: PropertyCreateFieldTypeEnum.Text,
    description: 'Who answered the technical review (their name in HubSpot when Dealgate wrote it), written by Dealgate.',
  },
  {
    name: 'dealgate_decided_at',
    label: 'Reviewed at',
    type: PropertyCreateTypeEnum.Datetime,
    fieldType: PropertyCreateFieldTypeEnum.Date,
    description: 'When the technical review was answered, written by Dealgate.',
  },
  {
    name: 'dealgate_conditions',
    label: 'Review conditions',
    type: PropertyCreateTypeEnum.String,
    fieldType: PropertyCreateFieldTypeEnum.Textarea,
    description: 'The extra weeks or tradeoff of a yes-but answer, written by Dealgate.',
  },
  ...DELIVERY_PROPERTIES,
];

/** The commitment properties reps write (from the card through a review request, or in HubSpot). */
export const COMMITMENT_PROPERTIES = ['dealgate_commitment', 'dealgate_commitment_summary', 'dealgate_effort_weeks'] as const;
