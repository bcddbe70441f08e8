import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * HubSpot's v3 request signature, used by webhooks and by `hubspot.fetch` from cards.
 * https://developers.hubspot.com/docs/apps/developer-platform/build-apps/authentication/request-validation
 *
 * signature = base64(HMAC-SHA256(clientSecret, method + uri + body + timestamp))
 * where uri is the full URL HubSpot called, query string included.
 */
export const SIGNATURE_HEADER = 'x-hubspot-signature-v3';
export const TIMESTAMP_HEADER = 'x-hubspot-request-timestamp';
export const MAX_SIGNATURE_AGE_MS = 5 * 60 * 1000;

/**
 * HubSpot decodes these percent-encoded characters in the URI before hashing (its documentation
 * lists them; the list is unconfirmed against live traffic, so we decode exactly these and no more).
 */
const decodedBeforeHashing: Record<string, string> = {
  '%3A': ':',
  '%2F': '/',
  '%3F': '?',
  '%40': '@',
  '%21': '!',
  '%24': '$',
  '%27': "'",
  '%28': '(',
  '%29': ')',
  '%2A': '*',
  '%2C': ',',
  '%3B': ';',
};

export function normalizeSignedUri(uri: string): string {
  return uri.replace(/%(3A|2F|3F|40|21|24|27|28|29|2A|2C|3B)/gi, (match) => decodedBeforeHashing[match.toUpperCase()] ?? match);
}

export interface SignableRequest {
  method: string;
  /** Full URL as HubSpot called it: scheme, host, path and query string. */
  uri: string;
  /** Raw body bytes (empty for GET). */
  body: Buffer | string;
  /** X-HubSpot-Request-Timestamp, milliseconds since the epoch, as sent. */
  timestamp: string;
}

export function computeSignatureV3(secret: string, request: SignableRequest): string {
  const hmac = createHmac('sha256', secret);
  hmac.update(request.method.toUpperCase() + normalizeSignedUri(request.uri), 'utf8');
  hmac.update(typeof request.body === 'string' ? Buffer.from(request.body, 'utf8') : request.body);
  hmac.update(request.timestamp, 'utf8');
  return hmac.digest('base64');
}

export type VerificationFailure =
  | 'missing_signature'
  | 'missing_timestamp'
  | 'malformed_timestamp'
  | 'stale_timestamp'
  | 'bad_signature';

export type VerificationResult = { ok: true } | { ok: false; reason: VerificationFailure };

const failureMessages: Record<VerificationFailure, string> = {
  missing_signature: 'the X-HubSpot-Signature-v3 header is missing',
  missing_timestamp: 'the X-HubSpot-Request-Timestamp header is missing',
  malformed_timestamp: 'the X-HubSpot-Request-Timestamp header is not a millisecond timestamp',
  stale_timestamp: 'the request timestamp is more than 5 minutes away from now (replayed or clock skew)',
  bad_signature:
    'the signature does not match: check that HUBSPOT_CLIENT_SECRET matches the app and PUBLIC_BASE_URL is the URL HubSpot calls',
};

export function describeVerificationFailure(reason: VerificationFailure): string {
  return failureMessages[reason];
}

/**
 * Rule 1: the timestamp is fresh. Rule 2: the signature matches, compared in constant time.
 * Pure: the caller supplies the clock's reading.
 */
export function verifySignatureV3(
  secret: string,
  request: Omit<SignableRequest, 'timestamp'> & { timestamp: string | undefined; signature: string | undefined },
  nowMs: number,
): VerificationResult {
  if (!request.signature) return { ok: false, reason: 'missing_signature' };
  if (!request.timestamp) return { ok: false, reason: 'missing_timestamp' };
  if (!/^\d{1,16}$/.test(request.timestamp)) return { ok: false, reason: 'malformed_timestamp' };
  const timestamp = Number(request.timestamp);
  if (Math.abs(nowMs - timestamp) > MAX_SIGNATURE_AGE_MS) return { ok: false, reason: 'stale_timestamp' };

  const expected = Buffer.from(computeSignatureV3(secret, { ...request, timestamp: request.timestamp }), 'utf8');
  const given = Buffer.from(request.signature, 'utf8');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return { ok: false, reason: 'bad_signature' };
  }
  return { ok: true };
}

/** Headers a HubSpot-like caller sends (tests, the simulator, the benchmarks). */
export function signedHeaders(
  secret: string,
  request: Omit<SignableRequest, 'timestamp'>,
  nowMs: number,
): Record<string, string> {
  const timestamp = String(nowMs);
  return {
    [SIGNATURE_HEADER]: computeSignatureV3(secret, { ...request, timestamp }),
    [TIMESTAMP_HEADER]: timestamp,
  };
}
