/**
 * Failures a test asks for, applied to API calls before they are handled: added latency, the
 * next N calls answering 5xx or 429 (or doing the work and answering 5xx all the same, as a
 * gateway that times out in front of a HubSpot that finished), and calls that hang (past the
 * client's timeout).
 */
export interface RequestInfo {
  method: string;
  path: string;
  /** `METHOD /route`, e.g. `PATCH /crm/v3/objects/deals/{objectId}` (see RequestLog). */
  endpoint: string;
}

/** Which calls a fault applies to: an endpoint prefix (`PATCH /crm/v3/objects/deals`), a pattern, or a predicate. */
export type RequestMatcher = string | RegExp | ((request: RequestInfo) => boolean);

export interface FailOptions {
  /** 500 by default; 429 answers HubSpot's rate limit body. */
  status?: number;
  /** For 429: which limit was hit. */
  policy?: 'TEN_SECONDLY_ROLLING' | 'DAILY' | 'SECONDLY';
  match?: RequestMatcher;
  /**
   * true: the call is handled as usual (a create creates) and its answer is then replaced by the
   * failure: the caller hears a 5xx for work HubSpot did. Default false (nothing is done).
   */
  applied?: boolean;
}

export interface HangOptions {
  /** How long to hold the request before handling it normally; omit to hold it until the simulator stops. */
  ms?: number;
  match?: RequestMatcher;
}

/** An answer held back after its call was handled (holdNextAnswer). */
export interface HeldAnswer {
  /** Resolves once the call has been handled (the read taken, the write done); its answer still waits. */
  readonly handled: Promise<void>;
  /** Sends the answer. */
  release(): void;
}

/** The simulator's side of a held answer: it says when the call was handled, and waits for the release. */
export interface AnswerHold {
  handled(): void;
  readonly released: Promise<void>;
}

export interface FaultPlan {
  latencyMs: number;
  fail?: Failure;
  hang?: { ms?: number };
  holdAnswer?: AnswerHold;
}

interface Failure {
  status: number;
  policy: 'TEN_SECONDLY_ROLLING' | 'DAILY' | 'SECONDLY';
  /** The call is handled first; only its answer is the failure. */
  applied: boolean;
}

interface Countdown<T> {
  remaining: number;
  match?: RequestMatcher;
  value: T;
}

function matches(matcher: RequestMatcher | undefined, request: RequestInfo): boolean {
  if (matcher === undefined) return true;
  if (typeof matcher === 'string') return request.endpoint.startsWith(matcher);
  if (matcher instanceof RegExp) return matcher.test(request.endpoint);
  return matcher(request);
}

function takeFrom<T>(list: Countdown<T>[], request: RequestInfo): T | undefined {
  const entry = list.find((c) => c.remaining > 0 && matches(c.match, request));
  if (!entry) return undefined;
  entry.remaining -= 1;
  if (entry.remaining === 0) list.splice(list.indexOf(entry), 1);
  return entry.value;
}

export class FaultInjector {
  private latencies: { ms: number; match?: RequestMatcher }[] = [];
  private failures: Countdown<Failure>[] = [];
  private hangs: Countdown<{ ms?: number }>[] = [];
  private answerHolds: Countdown<AnswerHold>[] = [];
  private hangsBegun = 0;
  private hangsDone = 0;

  /** Every matching call waits this long first (0 removes all latency). */
  latency(ms: number, match?: RequestMatcher): void {
    if (ms <= 0) this.latencies = [];
    else this.latencies.push({ ms, ...(match !== undefined ? { match } : {}) });
  }

  /** The next `count` matching calls fail with `status` (500 unless told). */
  failNext(count: number, options: FailOptions = {}): void {
    this.failures.push({
      remaining: count,
      ...(options.match !== undefined ? { match: options.match } : {}),
      value: { status: options.status ?? 500, policy: options.policy ?? 'TEN_SECONDLY_ROLLING', applied: options.applied === true },
    });
  }

  /** The next `count` matching calls hang. */
  hangNext(count = 1, options: HangOptions = {}): void {
    this.hangs.push({ remaining: count, ...(options.match !== undefined ? { match: options.match } : {}), value: options.ms !== undefined ? { ms: options.ms } : {} });
  }

  /**
   * The next matching call is handled at once and its answer held until `release()`: an answer slow
   * on its way back, so the caller acts on what HubSpot had when it handled the call while later
   * writes land meanwhile (unlike a hang, which holds the call before it is handled).
   */
  holdNextAnswer(options: { match?: RequestMatcher } = {}): HeldAnswer {
    let markHandled = () => {};
    let release = () => {};
    const handled = new Promise<void>((resolve) => (markHandled = resolve));
    const released = new Promise<void>((resolve) => (release = resolve));
    this.answerHolds.push({ remaining: 1, ...(options.match !== undefined ? { match: options.match } : {}), value: { handled: markHandled, released } });
    return { handled, release };
  }

  /** How many calls a hang fault has held so far (the held call has reached HubSpot). */
  hangsStarted(): number {
    return this.hangsBegun;
  }

  /** How many held calls have been handled since (their work done, answered or not: the caller may be gone). */
  hangsFinished(): number {
    return this.hangsDone;
  }

  /** The route handled a held call. */
  hangHandled(): void {
    this.hangsDone += 1;
  }

  clear(): void {
    this.latencies = [];
    this.failures = [];
    this.hangs = [];
    this.answerHolds = [];
  }

  /** What happens to this call; consumes one of the counted faults it matches. */
  plan(request: RequestInfo): FaultPlan {
    const latencyMs = this.latencies.filter((l) => matches(l.match, request)).reduce((sum, l) => sum + l.ms, 0);
    const hang = takeFrom(this.hangs, request);
    if (hang) this.hangsBegun += 1;
    const fail = hang ? undefined : takeFrom(this.failures, request);
    const holdAnswer = fail ? undefined : takeFrom(this.answerHolds, request);
    return { latencyMs, ...(fail ? { fail } : {}), ...(hang ? { hang } : {}), ...(holdAnswer ? { holdAnswer } : {}) };
  }
}
