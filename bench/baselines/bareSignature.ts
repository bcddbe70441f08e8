import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/**
 * The bare baselines' v3 signature check: base64 HMAC-SHA256 over method + public URL + body +
 * timestamp, compared in constant time. Nothing more (no timestamp window, no URI decoding).
 */
export function hasValidV3Signature(req: IncomingMessage, body: Buffer, secret: string, publicBaseUrl: string): boolean {
  const timestamp = String(req.headers['x-hubspot-request-timestamp'] ?? '');
  const given = Buffer.from(String(req.headers['x-hubspot-signature-v3'] ?? ''));
  const expected = Buffer.from(
    createHmac('sha256', secret).update(`${req.method}${publicBaseUrl}${req.url}`).update(body).update(timestamp).digest('base64'),
  );
  return given.length === expected.length && timingSafeEqual(given, expected);
}
