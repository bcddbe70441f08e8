import { signedHeaders } from '../../src/server/hubspot/signature';

/**
 * Calls the card API the way a card's `hubspot.fetch` does: HubSpot appends the caller's
 * `userId`, `userEmail`, `appId` and `portalId` to the URL, sends the body as JSON and signs
 * method + URL (query included) + body + timestamp with the app's client secret (v3).
 *
 *   const { status, json } = await cardRequest(server.url, secret, { method: 'GET', path: '/api/v1/deals/123/gate', userId: '7', portalId: 42 });
 */
export interface CardRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Path under the service, e.g. `/api/v1/deals/123/gate` (may carry its own query string). */
  path: string;
  userId: string | number;
  portalId: number;
  /** Sent as JSON; omitted for undefined. */
  body?: unknown;
  /** Defaults: userEmail `user<userId>@example.com`, appId 3141592. */
  userEmail?: string;
  appId?: number;
  /** Signature timestamp (ms); defaults to now. */
  timestamp?: number;
  /** The URL HubSpot would call when the service sits behind a proxy; defaults to `baseUrl`. */
  publicBaseUrl?: string;
}

export interface CardResponse<T = unknown> {
  status: number;
  json: T;
}

/** The path with HubSpot's query parameters appended, as the signature covers it. */
export function hubspotFetchPath(request: Pick<CardRequest, 'path' | 'userId' | 'portalId' | 'userEmail' | 'appId'>): string {
  const params = new URLSearchParams({
    userId: String(request.userId),
    userEmail: request.userEmail ?? `user${request.userId}@example.com`,
    appId: String(request.appId ?? 3_141_592),
    portalId: String(request.portalId),
  });
  return request.path + (request.path.includes('?') ? '&' : '?') + params.toString();
}

/**
 * Signatures this process already sent for requests that change something. The service accepts
 * each such signature once (a replay is a 409 `replayed`), and HubSpot never sends two calls with
 * one signature; tests on a ManualClock, though, send the same request twice in the same
 * "millisecond". A second identical request is signed one millisecond later, as two real calls
 * would be: a distinct request, not a replay. Tests of replays send the same headers themselves.
 */
const sentSignatures = new Set<string>();

function signOnce(secret: string, request: { method: string; uri: string; body: string }, timestamp: number): Record<string, string> {
  for (let at = timestamp; ; at += 1) {
    const headers = signedHeaders(secret, request, at);
    const signature = Object.values(headers).join(' ');
    if (request.method === 'GET' || !sentSignatures.has(signature)) {
      if (request.method !== 'GET') sentSignatures.add(signature);
      return headers;
    }
  }
}

export async function cardRequest<T = unknown>(baseUrl: string, secret: string, request: CardRequest): Promise<CardResponse<T>> {
  const path = hubspotFetchPath(request);
  const raw = request.body === undefined ? '' : JSON.stringify(request.body);
  const headers: Record<string, string> = signOnce(
    secret,
    { method: request.method, uri: (request.publicBaseUrl ?? baseUrl) + path, body: raw },
    request.timestamp ?? Date.now(),
  );
  if (raw !== '') headers['content-type'] = 'application/json';
  const response = await fetch(baseUrl + path, { method: request.method, headers, body: raw === '' ? undefined : raw });
  const text = await response.text();
  return { status: response.status, json: (text === '' ? null : JSON.parse(text)) as T };
}
