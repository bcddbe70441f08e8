import webhooksMeta from '../../app/webhooks/webhooks-hsmeta.json';
import type { CrmChange } from '../crm/crmStore';
import { SINGULAR, type CrmObjectType } from '../crm/objectTypes';

/**
 * The app's webhook subscriptions, read from the project's `webhooks-hsmeta.json` (never restated
 * here), in either of HubSpot's two forms: `legacyCrmObjects` (`deal.propertyChange`) and
 * `crmObjects` (`object.propertyChange` with `objectType`).
 * https://developers.hubspot.com/docs/apps/developer-platform/add-features/webhooks
 */
export interface Subscription {
  id: number;
  /** As the event carries it: `deal.propertyChange`, `object.propertyChange`, ... */
  subscriptionType: string;
  objectType: CrmObjectType;
  action: 'creation' | 'deletion' | 'propertyChange';
  propertyName?: string;
  /** Set for the `crmObjects` form, whose events name the object type by id. */
  objectTypeId?: string;
  active: boolean;
}

export interface SubscriptionSpec {
  subscriptionType: string;
  propertyName?: string;
  objectType?: string;
  active?: boolean;
}

export interface WebhooksConfig {
  settings?: { targetUrl?: string; maxConcurrentRequests?: number };
  subscriptions?: { legacyCrmObjects?: SubscriptionSpec[]; crmObjects?: SubscriptionSpec[] };
}

const OBJECT_TYPE_IDS: Partial<Record<CrmObjectType, string>> = { deals: '0-3' };
const FIRST_SUBSCRIPTION_ID = 4_100_001;

function pluralOf(singular: string): CrmObjectType | undefined {
  const entry = (Object.entries(SINGULAR) as [CrmObjectType, string][]).find(([, s]) => s === singular);
  return entry?.[0];
}

function parseAction(action: string | undefined): Subscription['action'] | undefined {
  return action === 'creation' || action === 'deletion' || action === 'propertyChange' ? action : undefined;
}

/** The project's own webhook configuration. */
export function projectWebhooksConfig(): WebhooksConfig {
  return webhooksMeta.config;
}

export function loadSubscriptions(config: WebhooksConfig): Subscription[] {
  const result: Subscription[] = [];
  let id = FIRST_SUBSCRIPTION_ID;
  for (const spec of config.subscriptions?.legacyCrmObjects ?? []) {
    const [object, rawAction] = spec.subscriptionType.split('.');
    const objectType = pluralOf(object ?? '');
    const action = parseAction(rawAction);
    if (!objectType || !action) throw new Error(`the simulator does not support webhook subscription type ${spec.subscriptionType}`);
    result.push({
      id: id++,
      subscriptionType: spec.subscriptionType,
      objectType,
      action,
      ...(spec.propertyName !== undefined ? { propertyName: spec.propertyName } : {}),
      active: spec.active ?? true,
    });
  }
  for (const spec of config.subscriptions?.crmObjects ?? []) {
    const action = parseAction(spec.subscriptionType.split('.')[1]);
    const objectType = pluralOf(spec.objectType ?? '');
    if (!objectType || !action) throw new Error(`the simulator does not support webhook subscription ${spec.subscriptionType} on ${spec.objectType}`);
    result.push({
      id: id++,
      subscriptionType: spec.subscriptionType,
      objectType,
      action,
      ...(spec.propertyName !== undefined ? { propertyName: spec.propertyName } : {}),
      ...(OBJECT_TYPE_IDS[objectType] ? { objectTypeId: OBJECT_TYPE_IDS[objectType] } : {}),
      active: spec.active ?? true,
    });
  }
  return result;
}

export function subscriptionsFor(subscriptions: Subscription[], change: CrmChange): Subscription[] {
  return subscriptions.filter(
    (s) =>
      s.active &&
      s.objectType === change.objectType &&
      s.action === change.kind &&
      (change.kind !== 'propertyChange' || s.propertyName === change.propertyName),
  );
}
