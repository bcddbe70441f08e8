import { CallTimeout, pausableTimeout } from '../../src/server/hubspot/callTimeout';

/**
 * The outbox's bound on one HubSpot call of several requests (a lookup's pages and batch reads):
 * the time it waits for the account's permits between them is not HubSpot's and does not count,
 * so a tight shared budget is not taken for HubSpot not answering (which opened the account's
 * outage circuit and spent an attempt), and a call already given up draws no more permits.
 */
describe('pausableTimeout', () => {
  beforeEach(() => jest.useFakeTimers({ now: 0 }));
  afterEach(() => jest.useRealTimers());

  const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

  it('does not count the time spent in paused() toward the bound', async () => {
    const bound = pausableTimeout(1_000);
    const work = (async () => {
      await sleep(600); // HubSpot's first request
      await bound.paused(() => sleep(5_000)); // waiting for the next permit
      await sleep(300); // the second request
      return 'answered';
    })();
    const raced = bound.race(work);
    await jest.advanceTimersByTimeAsync(6_000);
    await expect(raced).resolves.toBe('answered');
  });

  it('still times out when HubSpot itself takes longer than the bound, pauses left out', async () => {
    const bound = pausableTimeout(1_000);
    const work = (async () => {
      await sleep(600);
      await bound.paused(() => sleep(5_000));
      await sleep(600);
      return 'too late';
    })();
    const raced = bound.race(work);
    const outcome = raced.then(
      () => 'answered',
      (error: unknown) => (error instanceof CallTimeout ? error.message : 'other'),
    );
    await jest.advanceTimersByTimeAsync(7_000);
    expect(await outcome).toBe('HubSpot did not answer within 1000 ms');
  });

  it('lets a call given up draw nothing more: paused() throws the timeout without waiting', async () => {
    const bound = pausableTimeout(1_000);
    let waited = false;
    const work = (async () => {
      await sleep(1_500);
      return await bound.paused(async () => {
        waited = true;
      });
    })();
    const late = work.catch((error: unknown) => error);
    await expect(Promise.all([bound.race(work).catch((error: unknown) => error), jest.advanceTimersByTimeAsync(2_000)]).then(([first]) => first)).resolves.toBeInstanceOf(CallTimeout);
    expect(await late).toBeInstanceOf(CallTimeout);
    expect(waited).toBe(false);
  });
});
