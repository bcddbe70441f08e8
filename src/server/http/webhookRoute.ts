import { Router, type Request } from 'express';
import type { Clock } from '../shared/clock';
import type { Store } from '../storage/store';
import { DealgateError } from '../shared/errors';
import { MAX_BODY_BYTES, parseVerifiedJson, signatureFailure } from './signedRequest';
import { inboxEventsOfBatch, parseWebhookBatch, refuseCostlyBody } from '../hubspot/webhookEvent';

export const WEBHOOK_PATH = '/webhooks/hubspot';

export interface WebhookRouteDeps {
  config: { hubspot: { clientSecret: string }; publicBaseUrl: string };
  store: Store;
  clock: Clock;
  /** Called after a batch is stored, so the inbox worker can start at once instead of at its next poll. */
  onStored?: () => void;
}

/**
 * POST /webhooks/hubspot: verify the v3 signature over the raw bytes (401, nothing stored), validate
 * the batch (400, nothing stored: more than 200 events is refused on the count alone, a field nested
 * deeper than 16 levels or a property value over 65,536 characters by name, so that whatever is
 * answered 200 the inbox worker can read again; a body with more than 1,000 brackets is first
 * checked for those bounds without parsing it, since JSON.parse of a 1 MB body of brackets holds the
 * event loop for up to 0.1 s here; see webhookEvent.ts), append it to the inbox journal (one insert, committed before we
 * answer), answer 200. The inbox worker splits it into events, deduplicated, right after, from the
 * events parsed here when it is still holding them (inboxStore's `parsed` hint), else from the
 * journal. Nothing else happens before the answer: HubSpot waits 5 seconds, then retries.
 * https://developers.hubspot.com/docs/api/webhooks#webhooks-payloads
 *
 * This is the busiest route, so it does its own body reading and answering instead of the
 * express.raw parser and res.json (content-type sniffing, decompression, ETag hashing), which
 * cost more than the signature check; the checks and the error answers are those of every signed
 * route (signatureFailure, parseVerifiedJson, the shared error handler).
 */
export function webhookRoute(deps: WebhookRouteDeps): Router {
  const router = Router();
  const verify = { clientSecret: deps.config.hubspot.clientSecret, publicBaseUrl: deps.config.publicBaseUrl, clock: deps.clock };
  router.post(WEBHOOK_PATH, (req, res, next) => {
    readRawBody(req, MAX_BODY_BYTES).then(async (raw) => {
      const refused = signatureFailure(verify, req, raw);
      if (refused) throw refused;
      const brackets = refuseCostlyBody(raw);
      const batch = parseWebhookBatch(parseVerifiedJson(req, raw), brackets);
      if (batch.length > 0) await deps.store.inbox.journal(raw, deps.clock.now(), () => inboxEventsOfBatch(batch));
      const answer = `{"received":${batch.length}}`;
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(answer) }).end(answer);
      if (batch.length > 0) deps.onStored?.();
    }).catch(next);
  });
  return router;
}

/**
 * The request body as sent, up to `limit` bytes (413 beyond, without reading the rest). HubSpot
 * sends webhook bodies uncompressed; a compressed one is refused (415) rather than verified over
 * bytes HubSpot did not sign.
 */
export function readRawBody(req: Request, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const encoding = (req.headers['content-encoding'] ?? 'identity').toLowerCase();
    if (encoding !== 'identity') {
      reject(new DealgateError('unsupported_media_type', `the request body must not be compressed (Content-Encoding: ${encoding})`));
      return;
    }
    const declared = Number(req.headers['content-length']);
    if (declared > limit) {
      reject(tooLarge(limit));
      return;
    }
    const chunks: Buffer[] = [];
    let length = 0;
    const onData = (chunk: Buffer) => {
      length += chunk.length;
      if (length > limit) {
        cleanup();
        req.resume();
        reject(tooLarge(limit));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, length));
    };
    const onError = (error: Error) => {
      cleanup();
      reject(new DealgateError('invalid_request', `the request body could not be read: ${error.message}`));
    };
    const onAborted = () => onError(new Error('the client closed the connection'));
    const cleanup = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('aborted', onAborted);
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('aborted', onAborted);
  });
}

function tooLarge(limit: number): DealgateError {
  return new DealgateError('payload_too_large', `the request body is larger than allowed (${Math.round(limit / 1024 / 1024)} MB)`);
}
