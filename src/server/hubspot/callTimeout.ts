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

/**
 * A call's time bound that stops running while the call waits for something that is not HubSpot
 * (a permit of the account's budget between the requests of one call): only HubSpot's own time
 * counts toward the timeout.
 */
export interface PausableTimeout {
  /** `work`, or a CallTimeout once the running (unpaused) time reaches the bound. */
  race<T>(work: Promise<T>): Promise<T>;
  /** Runs `wait` with the clock stopped; throws the CallTimeout if the call was already abandoned. */
  paused<T>(wait: () => Promise<T>): Promise<T>;
}

export function pausableTimeout(ms: number): PausableTimeout {
  let remaining = ms;
  let startedAt = 0;
  let timer: NodeJS.Timeout | undefined;
  let expired: CallTimeout | undefined;
  let fail: (error: CallTimeout) => void = () => undefined;
  const timeout = new Promise<never>((_, reject) => {
    fail = reject;
  });
  const run = () => {
    startedAt = Date.now();
    timer = setTimeout(() => {
      expired = new CallTimeout(ms);
      fail(expired);
    }, remaining);
  };
  const stop = () => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
  };
  return {
    race(work) {
      run();
      return Promise.race([work, timeout]).finally(stop);
    },
    async paused(wait) {
      if (expired) throw expired;
      stop();
      remaining = Math.max(0, remaining - (Date.now() - startedAt));
      try {
        return await wait();
      } finally {
        if (!expired) run();
      }
    },
  };
}
