import { createHash, createHmac } from 'node:crypto';

/**
 * How HubSpot signs the requests it sends, written apart from the service's verifier so that a
 * test checking one against the other is a real cross-check.
 * https://developers.hubspot.com/docs/apps/developer-platform/build-apps/authentication/request-validation
 *
 * v3: base64 of HMAC-SHA256, keyed with the app's client secret, over
 *     method + URI + body + timestamp, where the URI is the full URL called with HubSpot's list of
 *     percent-encoded characters decoded first.
 * v1 (still sent on webhooks): hex SHA-256 of client secret + body.
 */
const DECODED_IN_URI: [string, string][] = [
  ['%3A', ':'],
  ['%2F', '/'],
  ['%3F', '?'],
  ['%40', '@'],
  ['%21', '!'],
  ['%24', '$'],
  ['%27', "'"],
  ['%28', '('],
  ['%29', ')'],
  ['%2A', '*'],
  ['%2C', ','],
  ['%3B', ';'],
];

function decodeForSigning(uri: string): string {
  let decoded = uri;
  for (const [encoded, plain] of DECODED_IN_URI) {
    decoded = decoded.split(encoded).join(plain).split(encoded.toLowerCase()).join(plain);
  }
  return decoded;
}

export function signV3(clientSecret: string, method: string, uri: string, body: string, timestamp: number): string {
  const message = `${method.toUpperCase()}${decodeForSigning(uri)}${body}${timestamp}`;
  return createHmac('sha256', clientSecret).update(message, 'utf8').digest('base64');
}

export function signV1(clientSecret: string, body: string): string {
  return createHash('sha256').update(clientSecret + body, 'utf8').digest('hex');
}

/** The headers of a signed POST as HubSpot sends them. */
export function signedWebhookHeaders(clientSecret: string, uri: string, body: string, timestamp: number): Record<string, string> {
  return {
    'Content-Type': 'application/json',
    'X-HubSpot-Signature-v3': signV3(clientSecret, 'POST', uri, body, timestamp),
    'X-HubSpot-Request-Timestamp': String(timestamp),
    'X-HubSpot-Signature': signV1(clientSecret, body),
    'X-HubSpot-Signature-Version': 'v1',
    'User-Agent': 'HubSpot Connect 2.0 (http://dev.hubspot.com/) - simulator',
  };
}
