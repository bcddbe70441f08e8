import { Router } from 'express';
import type { Clock } from '../clock';
import type { Logger } from '../logger';
import type { Store } from '../storage/store';
import { rawBody, verifyHubSpotRequest } from '../http/signedRequest';
import { validate } from '../http/validate';
import { isDealEvent, toInboxEvent, webhookBatch } from './webhookEvent';
import type { NewInboxEvent } from './inboxStore';

export const WEBHOOK_PATH = '/webhooks/hubspot';

export interface WebhookRouteDeps {
  config: { hubspot: { clientSecret: string }; publicBaseUrl: string };
  store: Store;
  clock: Clock;
  logger: Logger;
  /** Called after a batch is stored, so the inbox worker can start at once instead of at its next poll. */
  onStored?: (stored: number) => void;
}

/**
 * POST /webhooks/hubspot: verify the v3 signature over the raw bytes (401, nothing stored), validate
 * the batch (400), store it in the inbox in one transaction (duplicates ignored), answer 200. Nothing
 * else happens before the answer: HubSpot waits 5 seconds, then retries.
 * https://developers.hubspot.com/docs/api/webhooks#webhooks-payloads
 */
export function webhookRoute(deps: WebhookRouteDeps): Router {
  const router = Router();
  router.post(
    WEBHOOK_PATH,
    rawBody,
    verifyHubSpotRequest({ clientSecret: deps.config.hubspot.clientSecret, publicBaseUrl: deps.config.publicBaseUrl, clock: deps.clock }),
    (req, res) => {
      const batch = validate(webhookBatch, req.body, 'webhook batch');
      const events: NewInboxEvent[] = [];
      for (const event of batch) if (isDealEvent(event.subscriptionType)) events.push(toInboxEvent(event));
      const stored = deps.store.inbox.insertBatch(events, deps.clock.now());
      res.status(200).json({ received: batch.length, stored });
      if (stored > 0) deps.onStored?.(stored);
      else if (deps.logger.isLevelEnabled('debug')) deps.logger.debug({ received: batch.length }, 'webhook batch held only duplicates or other objects');
    },
  );
  return router;
}
