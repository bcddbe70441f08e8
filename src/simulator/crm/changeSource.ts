/**
 * Who made a change, in the two vocabularies HubSpot uses for it: the property history entry
 * (`sourceType`, `sourceId`, `updatedByUserId`) and the webhook event (`changeSource`, `sourceId`).
 * A user in HubSpot's UI shows as `CRM_UI` with `sourceId: "userId:<id>"`; an app's OAuth or
 * static token as `INTEGRATION` with the app id as `sourceId`.
 * https://developers.hubspot.com/docs/api/crm/properties#property-history
 */
export interface ChangeSource {
  sourceType: string;
  sourceId?: string;
  sourceLabel?: string;
  updatedByUserId?: number;
  /** The webhook event's `changeSource`. */
  changeSource: string;
}

export function userSource(userId: number, changeSource = 'CRM_UI'): ChangeSource {
  return { sourceType: changeSource, sourceId: `userId:${userId}`, updatedByUserId: userId, changeSource };
}

export function integrationSource(appId: number): ChangeSource {
  return { sourceType: 'INTEGRATION', sourceId: String(appId), changeSource: 'INTEGRATION' };
}

/** A token that is not an app's (a legacy key or personal access): HubSpot records plain `API`. */
export function apiSource(): ChangeSource {
  return { sourceType: 'API', changeSource: 'API' };
}

/** A value HubSpot computes itself (calculated properties such as amount_in_home_currency). */
export function calculatedSource(): ChangeSource {
  return { sourceType: 'CALCULATED', changeSource: 'CALCULATED' };
}
