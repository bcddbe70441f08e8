/**
 * The closed set of errors Dealgate reports to callers. Each carries a string code naming what
 * went wrong, never a transport's status: the HTTP status of each code lives in one table at the
 * edge (http/errorHandler.ts), used by the one error middleware.
 */
export const ERROR_CODES = [
  'invalid_request',
  'unauthorized',
  'forbidden',
  'not_found',
  'conflict',
  /** A signed card request whose signature was already accepted (http/signedRequest.ts). */
  'replayed',
  'payload_too_large',
  'unsupported_media_type',
  'hubspot_unavailable',
  'not_ready',
  'internal',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export class DealgateError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'DealgateError';
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
