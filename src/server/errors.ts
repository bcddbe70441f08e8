/**
 * The closed set of errors Dealgate reports to callers. Each carries a string code; the HTTP
 * status for each code lives in one table, used by the one error middleware.
 */
export const errorStatus = {
  invalid_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  /** A signed card request whose signature was already accepted (http/signedRequest.ts). */
  replayed: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  hubspot_unavailable: 502,
  not_ready: 503,
  internal: 500,
} as const;

export type ErrorCode = keyof typeof errorStatus;

export class DealgateError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'DealgateError';
  }

  get status(): number {
    return errorStatus[this.code];
  }
}

export const invalidRequest = (message: string, details?: unknown) =>
  new DealgateError('invalid_request', message, details);
export const unauthorized = (message: string) => new DealgateError('unauthorized', message);
export const forbidden = (message: string) => new DealgateError('forbidden', message);
/** An account Dealgate holds no credentials for (HubSpotClients.serves says no): the card API and the provisioner refuse it alike. */
export const notInstalled = (portalId: number) => forbidden(`account ${portalId} has not installed Dealgate: install it through /oauth/install`);
export const notFound = (message: string) => new DealgateError('not_found', message);
export const conflict = (message: string, details?: unknown) => new DealgateError('conflict', message, details);

export interface ErrorBody {
  error: { code: ErrorCode; message: string; details?: unknown };
}

export function errorBody(error: DealgateError): ErrorBody {
  return {
    error: {
      code: error.code,
      message: error.message,
      ...(error.details === undefined ? {} : { details: error.details }),
    },
  };
}
