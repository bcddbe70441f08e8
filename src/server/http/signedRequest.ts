import express, { type Request, type RequestHandler } from 'express';
import type { Clock } from '../clock';
import { DealgateError, unauthorized } from '../errors';
import {
  SIGNATURE_HEADER,
  TIMESTAMP_HEADER,
  describeVerificationFailure,
  verifySignatureV3,
} from '../hubspot/signature';

export const MAX_BODY_BYTES = 1024 * 1024;

/** The raw bytes, kept for signature verification before any parsing. */
export const rawBody: RequestHandler = express.raw({ type: () => true, limit: MAX_BODY_BYTES });

/**
 * Verifies HubSpot's v3 signature over the raw body and the public URL (PUBLIC_BASE_URL plus the
 * path and query string as called), then parses the JSON body. Nothing reads the body or the
 * query's identity before this passes. Use after `rawBody`.
 */
export function verifyHubSpotRequest(options: VerifyOptions): RequestHandler {
  // Express 5 hands what a handler throws to the error handler, as next(error) would.
  return (req, _res, next) => {
    const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const refused = signatureFailure(options, req, raw);
    if (refused) throw refused;
    req.body = parseVerifiedJson(req, raw);
    next();
  };
}

export interface VerifyOptions {
  clientSecret: string;
  publicBaseUrl: string;
  clock: Clock;
}

/** The v3 check of `raw` as received: undefined when HubSpot signed it, else the 401 to answer. */
export function signatureFailure(options: VerifyOptions, req: Request, raw: Buffer): DealgateError | undefined {
  const result = verifySignatureV3(
    options.clientSecret,
    {
      method: req.method,
      uri: options.publicBaseUrl + req.originalUrl,
      body: raw,
      signature: req.get(SIGNATURE_HEADER),
      timestamp: req.get(TIMESTAMP_HEADER),
    },
    options.clock.now(),
  );
  return result.ok ? undefined : unauthorized(`request refused: ${describeVerificationFailure(result.reason)}`);
}

/** The JSON body of a verified request (undefined when empty); 415 if it is not JSON, 400 if it does not parse. */
export function parseVerifiedJson(req: Request, raw: Buffer): unknown {
  if (raw.length === 0) return undefined;
  const type = req.get('content-type') ?? '';
  if (!/^application\/([\w.+-]*\+)?json\b/i.test(type)) {
    throw new DealgateError('unsupported_media_type', 'the request body must be JSON (Content-Type: application/json)');
  }
  try {
    return JSON.parse(raw.toString('utf8')) as unknown;
  } catch {
    throw new DealgateError('invalid_request', 'the request body is not valid JSON');
  }
}
