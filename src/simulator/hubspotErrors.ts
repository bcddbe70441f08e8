import { randomUUID } from 'node:crypto';

/**
 * HubSpot's error responses, as its documentation and real responses show them:
 * https://developers.hubspot.com/docs/api/faq/api-error-responses
 * `{"status": "error", "message", "correlationId", "category", "context"?, "errors"?, ...}`.
 * Every failure the simulator answers goes through here, so the bodies stay consistent.
 */
export interface HubSpotErrorBody {
  status: string;
  message: string;
  correlationId: string;
  category?: string;
  subCategory?: string;
  context?: Record<string, string[]>;
  errors?: { message: string; code?: string; in?: string; context?: Record<string, string[]> }[];
  /** MISSING_SCOPES answers only. */
  links?: Record<string, string>;
  /** Rate limit answers only. */
  errorType?: string;
  policyName?: string;
  groupName?: string;
}

/** Thrown inside the simulator; the router turns it into the HTTP answer. */
export class HubSpotError extends Error {
  constructor(
    readonly httpStatus: number,
    readonly body: HubSpotErrorBody,
    readonly headers: Record<string, string> = {},
  ) {
    super(body.message);
    this.name = 'HubSpotError';
  }
}

function body(message: string, fields: Omit<HubSpotErrorBody, 'status' | 'message' | 'correlationId'> = {}): HubSpotErrorBody {
  return { status: 'error', message, correlationId: randomUUID(), ...fields };
}

export function objectNotFound(id: string): HubSpotError {
  return new HubSpotError(404, body('Object not found.  objectId are usually numeric.', { context: { id: [id] }, category: 'OBJECT_NOT_FOUND' }));
}

export function resourceNotFound(message: string): HubSpotError {
  return new HubSpotError(404, body(message, { category: 'OBJECT_NOT_FOUND' }));
}

export function alreadyExists(message: string, name: string): HubSpotError {
  return new HubSpotError(409, body(message, { context: { name: [name] }, category: 'OBJECT_ALREADY_EXISTS' }));
}

export function validationError(message: string, errors?: HubSpotErrorBody['errors']): HubSpotError {
  return new HubSpotError(400, body(message, { category: 'VALIDATION_ERROR', ...(errors ? { errors } : {}) }));
}

/** One failed property of a write, in the shape HubSpot embeds in its message. */
export interface PropertyValidationResult {
  isValid: false;
  message: string;
  error: 'PROPERTY_DOESNT_EXIST' | 'INVALID_OPTION' | 'READ_ONLY_VALUE' | 'INVALID_OWNER_ID' | 'INVALID_DATE' | 'INVALID_LONG';
  name: string;
}

/**
 * A write with an invalid property fails as a whole:
 * 400 `Property values were not valid: [{"isValid":false,"message":"Property \"x\" does not exist",
 * "error":"PROPERTY_DOESNT_EXIST","name":"x"}]` with category VALIDATION_ERROR.
 */
export function invalidPropertyValues(results: PropertyValidationResult[]): HubSpotError {
  return validationError(
    `Property values were not valid: ${JSON.stringify(results)}`,
    results.map((r) => ({ message: r.message, code: r.error, context: { propertyName: [r.name] } })),
  );
}

export const AUTH_DOCS_URL = 'https://developers.hubspot.com/docs/methods/auth/oauth-overview';

export function missingAuthentication(): HubSpotError {
  return new HubSpotError(
    401,
    body(`Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find more details at ${AUTH_DOCS_URL}`, {
      category: 'INVALID_AUTHENTICATION',
    }),
  );
}

export function invalidAuthentication(): HubSpotError {
  return new HubSpotError(
    401,
    body(`The OAuth token used to make this call is invalid. This API supports OAuth 2.0 authentication and you can find more details at ${AUTH_DOCS_URL}`, {
      category: 'INVALID_AUTHENTICATION',
    }),
  );
}

export function expiredAuthentication(expiredAgoMs: number): HubSpotError {
  const seconds = Math.max(1, Math.round(expiredAgoMs / 1000));
  return new HubSpotError(401, body(`The OAuth token used to make this call expired ${seconds} second(s) ago.`, { category: 'EXPIRED_AUTHENTICATION' }));
}

export const SCOPES_DOCS_URL = 'https://developers.hubspot.com/scopes';

/**
 * A token without a scope the endpoint requires: 403, as HubSpot answers it (a real response is
 * quoted in HubSpot/hubspot-api-nodejs#268):
 * `{"status":"error","message":"This app hasn't been granted all required scopes to make this call.
 * Read more about required scopes here: https://developers.hubspot.com/scopes.","correlationId":...,
 * "errors":[{"message":"One or more of the following scopes are required.","context":{"requiredScopes":[...]}}],
 * "links":{"scopes":"https://developers.hubspot.com/scopes"},"category":"MISSING_SCOPES"}`.
 */
export function missingScopes(requiredScopes: readonly string[]): HubSpotError {
  return new HubSpotError(
    403,
    body(`This app hasn't been granted all required scopes to make this call. Read more about required scopes here: ${SCOPES_DOCS_URL}.`, {
      errors: [{ message: 'One or more of the following scopes are required.', context: { requiredScopes: [...requiredScopes] } }],
      links: { scopes: SCOPES_DOCS_URL },
      category: 'MISSING_SCOPES',
    }),
  );
}

export type RateLimitPolicy = 'TEN_SECONDLY_ROLLING' | 'DAILY' | 'SECONDLY';

/**
 * HubSpot's 429: `{"status":"error","message":"You have reached your ten_secondly_rolling limit.",
 * "errorType":"RATE_LIMIT","policyName":"TEN_SECONDLY_ROLLING","groupName":...}`. The
 * `policyName` is what @hubspot/api-client's retry logic keys on. The search endpoints' own
 * per-second limit answers `"message":"You have reached your secondly limit.","policyName":"SECONDLY"`
 * (real responses quoted in HGData/mk-node-hubspot#84 and #89; the SDK retries on that message).
 */
export function rateLimited(policy: RateLimitPolicy, groupName: string, headers: Record<string, string> = {}): HubSpotError {
  const message =
    policy === 'DAILY'
      ? 'You have reached your daily limit.'
      : policy === 'SECONDLY'
        ? 'You have reached your secondly limit.'
        : 'You have reached your ten_secondly_rolling limit.';
  return new HubSpotError(
    429,
    body(message, { errorType: 'RATE_LIMIT', category: 'RATE_LIMITS', policyName: policy, groupName }),
    headers,
  );
}

export function serverError(status: number): HubSpotError {
  return new HubSpotError(status, body('internal error', { category: 'INTERNAL_ERROR' }));
}

/** The OAuth endpoints answer with their own shape: `{"status": "BAD_AUTH_CODE", "message": ...}`. */
export function oauthError(status: 'BAD_AUTH_CODE' | 'BAD_REFRESH_TOKEN' | 'BAD_CLIENT_ID' | 'BAD_CLIENT_SECRET' | 'BAD_REDIRECT_URI' | 'BAD_GRANT_TYPE', message: string): HubSpotError {
  return new HubSpotError(400, { status, message, correlationId: randomUUID() });
}
