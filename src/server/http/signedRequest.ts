import express, { type RequestHandler } from 'express';
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
export function verifyHubSpotRequest(options: { clientSecret: string; publicBaseUrl: string; clock: Clock }): RequestHandler {
  return (req, _res, next) => {
    const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
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
    if (!result.ok) {
      next(unauthorized(`request refused: ${describeVerificationFailure(result.reason)}`));
      return;
    }
    if (raw.length === 0) {
      req.body = undefined;
      next();
      return;
    }
    const type = req.get('content-type') ?? '';
    if (!/^application\/([\w.+-]*\+)?json\b/i.test(type)) {
      next(new DealgateError('unsupported_media_type', 'the request body must be JSON (Content-Type: application/json)'));
      return;
    }
    try {
      req.body = JSON.parse(raw.toString('utf8')) as unknown;
    } catch {
      next(new DealgateError('invalid_request', 'the request body is not valid JSON'));
      return;
    }
    next();
  };
}
