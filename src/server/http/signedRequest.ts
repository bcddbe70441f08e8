import express, { type Request, type RequestHandler, type Response } from 'express';
import type { Clock } from '../shared/clock';
import { DealgateError, unauthorized } from '../shared/errors';
import {
  MAX_SIGNATURE_AGE_MS,
  SIGNATURE_HEADER,
  TIMESTAMP_HEADER,
  describeVerificationFailure,
  verifySignatureV3,
} from '../hubspot/signature';
import type { SeenSignatureRepository } from '../storage/seenSignatureStore';

export const MAX_BODY_BYTES = 1024 * 1024;

/** The raw bytes, kept for signature verification before any parsing. */
export const rawBody: RequestHandler = express.raw({ type: () => true, limit: MAX_BODY_BYTES });

/**
 * Verifies HubSpot's v3 signature over the raw body and the public URL (PUBLIC_BASE_URL plus the
 * path and query string as called), then parses the JSON body. Nothing reads the body or the
 * query's identity before this passes. Use after `rawBody`.
 */
export function verifyHubSpotRequest(options: VerifyOptions & SingleUseOptions): RequestHandler {
  const once = options.seen ? singleUse(options.seen, options.clock) : undefined;
  // Express 5 hands what a handler throws (or its promise rejects with) to the error handler, as next(error) would.
  return async (req, res, next) => {
    const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const refused = signatureFailure(options, req, raw);
    if (refused) throw refused;
    req.body = parseVerifiedJson(req, raw);
    await once?.(req, res);
    next();
  };
}

export interface VerifyOptions {
  clientSecret: string;
  publicBaseUrl: string;
  clock: Clock;
}

export interface SingleUseOptions {
  /** Where accepted signatures are kept: given, a request that changes something is accepted once per signature. */
  seen?: SeenSignatureRepository;
}

/**
 * How long a seen signature is kept: its window (a timestamp up to 5 minutes either side of now
 * passes the check) plus as much again, for clocks of instances sharing the table that disagree.
 */
export const SEEN_SIGNATURE_RETENTION_MS = 2 * MAX_SIGNATURE_AGE_MS;
const PRUNE_INTERVAL_MS = 60 * 1000;

/** GET and HEAD change nothing: a replay of one applies nothing, so they are not recorded (no write on a read). */
export function changesState(method: string): boolean {
  return method !== 'GET' && method !== 'HEAD';
}

export const replayed = (firstStatus: number | null) =>
  new DealgateError(
    'replayed',
    firstStatus === null
      ? 'this request was already received and is still being carried out; nothing was done twice: reload to see the current state'
      : 'this request was already received and answered; nothing was done again: reload to see the current state',
    { firstStatus },
  );

/**
 * Single-use signatures. A verified request that changes something claims its signature before
 * any handler runs; a copy (same method, URL, body and timestamp: the same signature) is refused
 * with 409 `replayed`, whether the first one finished or still runs. Once the answer is sent the
 * claim is settled with its status: a 5xx releases it, because HubSpot retries a 5xx (and a
 * connection error) once with the same body, possibly the same signature, and a 5xx from Dealgate
 * means the change did not land (the services write in one transaction). A request whose answer
 * never went out (the process died, the connection dropped) stays claimed: its outcome is unknown,
 * so a retry is refused rather than risk doing it twice, and the card reloads to show what happened.
 */
function singleUse(seen: SeenSignatureRepository, clock: Clock): (req: Request, res: Response) => Promise<void> {
  let prunedAt = Number.NEGATIVE_INFINITY;
  return async (req, res) => {
    if (!changesState(req.method)) return;
    // Both headers passed verifySignatureV3: present, a fresh millisecond timestamp, the exact signature.
    const signature = req.get(SIGNATURE_HEADER) ?? '';
    const signedAt = Number(req.get(TIMESTAMP_HEADER));
    const now = clock.now();
    if (now - prunedAt >= PRUNE_INTERVAL_MS) {
      await seen.prune(now - SEEN_SIGNATURE_RETENTION_MS);
      prunedAt = now;
    }
    if (!(await seen.claim(signature, signedAt, now))) throw replayed((await seen.get(signature))?.status ?? null);
    res.once('finish', () => {
      seen.settle(signature, res.statusCode).catch(() => {
        // The database refused the write: the claim stays (outcome unknown), so a retry is refused, never applied twice.
      });
    });
  };
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
