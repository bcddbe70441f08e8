/**
 * A bound on how long a worker waits for one HubSpot call. @hubspot/api-client has no timeout of
 * its own, so a call HubSpot never answers would hold its worker (and every account behind it)
 * for as long as the socket lives.
 */
export class CallTimeout extends Error {
  constructor(ms: number) {
    super(`HubSpot did not answer within ${ms} ms`);
  }
}

/** `work`, or a CallTimeout after `ms`. The call itself goes on; its late answer is not awaited. */
export function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new CallTimeout(ms)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
