import { Router, type RequestHandler } from 'express';
import type { Clock } from '../clock';
import type { Store } from '../storage/store';
import { rawBody, verifyHubSpotRequest } from '../http/signedRequest';
import { validate } from '../http/validate';
import { webhookBatch } from './webhookEvent';

export const WEBHOOK_PATH = '/webhooks/hubspot';

export interface WebhookRouteDeps {
  config: { hubspot: { clientSecret: string }; publicBaseUrl: string };
  store: Store;
  clock: Clock;
  /** Called after a batch is stored, so the inbox worker can start at once instead of at its next poll. */
  onStored?: () => void;
}

/** Keeps the raw bytes for the journal: the verifier replaces req.body with the parsed JSON. */
const keepRawBody: RequestHandler = (req, res, next) => {
  res.locals.rawWebhookBody = req.body;
  next();
};

/**
 * POST /webhooks/hubspot: verify the v3 signature over the raw bytes (401, nothing stored), validate
 * the batch (400, nothing stored), append it to the inbox journal (one insert, durable before we
 * answer), answer 200. The inbox worker splits it into events, deduplicated, right after. Nothing
 * else happens before the answer: HubSpot waits 5 seconds, then retries.
 * https://developers.hubspot.com/docs/api/webhooks#webhooks-payloads
 */
export function webhookRoute(deps: WebhookRouteDeps): Router {
  const router = Router();
  router.post(
    WEBHOOK_PATH,
    rawBody,
    keepRawBody,
    verifyHubSpotRequest({ clientSecret: deps.config.hubspot.clientSecret, publicBaseUrl: deps.config.publicBaseUrl, clock: deps.clock }),
    (req, res) => {
      const batch = validate(webhookBatch, req.body, 'webhook batch');
      if (batch.length > 0) deps.store.inbox.journal(res.locals.rawWebhookBody as Buffer, deps.clock.now());
      res.status(200).json({ received: batch.length });
      if (batch.length > 0) deps.onStored?.();
    },
  );
  return router;
}
