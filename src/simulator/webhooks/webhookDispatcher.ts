import { request as httpRequest, type ClientRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { CrmChange } from '../crm/crmStore';
import { subscriptionsFor, type Subscription } from './subscriptions';
import { signedWebhookHeaders } from './webhookSigner';

/**
 * Webhook delivery as HubSpot does it (https://developers.hubspot.com/docs/api/webhooks):
 * events that happen close together go out in batches of at most 100 in one POST, v3-signed over
 * the exact URL called; HubSpot waits 5 seconds for an answer; any non-2xx answer, timeout or
 * connection error is retried (up to 10 times) with the same events and `attemptNumber` + 1; at
 * most `maxConcurrentRequests` requests are in flight. Order is not guaranteed and duplicates
 * happen: both can be switched on to prove a receiver idempotent.
 */
export interface WebhookEvent {
  eventId: number;
  subscriptionId: number;
  portalId: number;
  appId: number;
  occurredAt: number;
  subscriptionType: string;
  attemptNumber: number;
  objectId: number;
  propertyName?: string;
  propertyValue?: string;
  changeSource: string;
  sourceId?: string;
  objectTypeId?: string;
  changeFlag?: 'CREATED' | 'DELETED';
  isSensitive?: boolean;
}

export interface DeliveryAttempt {
  url: string;
  attemptNumber: number;
  /** The events as sent (attemptNumber included). */
  events: WebhookEvent[];
  startedAt: number;
  durationMs: number;
  /** The receiver's status code, when it answered. */
  status?: number;
  /** `timeout` or the connection error's message, when it did not. */
  error?: string;
  outcome: 'delivered' | 'retrying' | 'failed';
}

export interface DeliverySettings {
  /** Where events are POSTed; events wait until one is set. */
  targetUrl?: string;
  maxConcurrentRequests: number;
  /** HubSpot waits 5 s. */
  timeoutMs: number;
  /** Delay before retry n+1 after attempt n failed; the last entry repeats. HubSpot spreads retries over 24 h. */
  retryDelaysMs: number[];
  /** HubSpot retries up to 10 times. */
  maxRetries: number;
  /** How long events are collected into one batch. */
  batchWindowMs: number;
  maxBatchSize: number;
  /** Share of events (0..1) delivered a second time in a later request. */
  duplicateRate: number;
  /** Shuffle events across and within batches, and send queued batches in random order. */
  reorder: boolean;
}

export interface DispatcherOptions extends DeliverySettings {
  clientSecret: string;
  portalId: number;
  appId: number;
  subscriptions: Subscription[];
  /** Seed of the random choices (duplicates, reordering), so a failing run can be replayed. */
  seed: number;
  now: () => number;
}

interface Job {
  events: WebhookEvent[];
  attempt: number;
}

interface Waiter {
  resolve: () => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

/** mulberry32: a small seeded generator, enough for test choices. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function chunk<T>(items: T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size));
  return chunks;
}

export class WebhookDispatcher {
  private settings: DeliverySettings;
  private readonly random: () => number;
  private nextEventId = 1_000_000_001;
  private readonly generated: WebhookEvent[] = [];
  private readonly attempts: DeliveryAttempt[] = [];
  private pending: WebhookEvent[] = [];
  private queue: Job[] = [];
  private readonly inFlight = new Map<Job, ClientRequest>();
  private readonly retryTimers = new Set<NodeJS.Timeout>();
  private flushTimer: NodeJS.Timeout | undefined;
  private waiters: Waiter[] = [];
  private paused = false;
  private stopped = false;

  constructor(private readonly options: DispatcherOptions) {
    this.settings = {
      ...(options.targetUrl !== undefined ? { targetUrl: new URL(options.targetUrl).toString() } : {}),
      maxConcurrentRequests: options.maxConcurrentRequests,
      timeoutMs: options.timeoutMs,
      retryDelaysMs: options.retryDelaysMs,
      maxRetries: options.maxRetries,
      batchWindowMs: options.batchWindowMs,
      maxBatchSize: options.maxBatchSize,
      duplicateRate: options.duplicateRate,
      reorder: options.reorder,
    };
    this.random = seededRandom(options.seed);
  }

  /** Turns a CRM change into events for every subscription it matches. */
  handle(change: CrmChange): void {
    if (this.stopped) return;
    for (const subscription of subscriptionsFor(this.options.subscriptions, change)) {
      const event: WebhookEvent = {
        eventId: this.nextEventId++,
        subscriptionId: subscription.id,
        portalId: this.options.portalId,
        appId: this.options.appId,
        occurredAt: change.occurredAt,
        subscriptionType: subscription.subscriptionType,
        attemptNumber: 0,
        objectId: Number(change.objectId),
        ...(change.kind === 'propertyChange' ? { propertyName: change.propertyName, propertyValue: change.propertyValue } : {}),
        changeSource: change.source.changeSource,
        ...(change.source.sourceId !== undefined ? { sourceId: change.source.sourceId } : {}),
        ...(subscription.objectTypeId !== undefined ? { objectTypeId: subscription.objectTypeId } : {}),
        ...(change.kind === 'creation' ? { changeFlag: 'CREATED' as const } : {}),
        ...(change.kind === 'deletion' ? { changeFlag: 'DELETED' as const } : {}),
        ...(change.kind === 'propertyChange' ? { isSensitive: false } : {}),
      };
      this.generated.push(event);
      this.pending.push(event);
    }
    if (this.pending.length > 0 && !this.flushTimer) {
      this.flushTimer = setTimeout(() => {
        this.flushTimer = undefined;
        this.flush();
      }, this.settings.batchWindowMs);
    }
  }

  /** Every event generated so far (attemptNumber 0), oldest first. */
  events(): WebhookEvent[] {
    return this.generated.map((e) => ({ ...e }));
  }

  /** Every delivery attempt so far, in the order they finished. */
  deliveries(): DeliveryAttempt[] {
    return this.attempts.map((a) => ({ ...a, events: a.events.map((e) => ({ ...e })) }));
  }

  get targetUrl(): string | undefined {
    return this.settings.targetUrl;
  }

  setTargetUrl(url: string): void {
    this.settings.targetUrl = new URL(url).toString();
    this.flush();
  }

  configure(settings: Partial<DeliverySettings>): void {
    const defined = Object.fromEntries(Object.entries(settings).filter(([, v]) => v !== undefined)) as Partial<DeliverySettings>;
    this.settings = { ...this.settings, ...defined };
    if (defined.targetUrl !== undefined) this.settings.targetUrl = new URL(defined.targetUrl).toString();
    this.pump();
  }

  /** Holds new requests (events keep queueing) until resume(). */
  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    this.flush();
  }

  /** Batches what is pending now, without waiting for the batch window. */
  flush(): void {
    if (this.flushTimer) {
      clearTimeout(this.flushTimer);
      this.flushTimer = undefined;
    }
    if (this.stopped || !this.settings.targetUrl || this.pending.length === 0) {
      this.pump();
      return;
    }
    const events = this.pending;
    this.pending = [];
    if (this.settings.reorder) this.shuffle(events);
    const duplicates = events.filter(() => this.settings.duplicateRate > 0 && this.random() < this.settings.duplicateRate);
    for (const batch of chunk(events, this.settings.maxBatchSize)) this.queue.push({ events: batch, attempt: 0 });
    for (const batch of chunk(duplicates, this.settings.maxBatchSize)) this.queue.push({ events: batch, attempt: 0 });
    this.pump();
  }

  /**
   * Resolves when every event generated so far has been delivered or given up on (retries
   * included). Rejects after `timeoutMs`, or at once when events wait for a target URL.
   */
  async idle(timeoutMs = 30_000): Promise<void> {
    this.flush();
    if (this.isIdle()) return;
    if (!this.settings.targetUrl) throw new Error(`${this.pending.length} webhook event(s) wait for a target URL: set webhookTargetUrl or call sim.webhooks.setTargetUrl()`);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w.timer !== timer);
        reject(
          new Error(
            `webhooks not idle after ${timeoutMs} ms: ${this.queue.length} queued${this.paused ? ' (delivery is paused)' : ''}, ` +
              `${this.inFlight.size} in flight, ${this.retryTimers.size} waiting to retry`,
          ),
        );
      }, timeoutMs);
      this.waiters.push({ resolve, reject, timer });
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.flushTimer) clearTimeout(this.flushTimer);
    for (const timer of this.retryTimers) clearTimeout(timer);
    this.retryTimers.clear();
    for (const request of this.inFlight.values()) request.destroy();
    this.inFlight.clear();
    this.queue = [];
    this.pending = [];
    this.settleWaiters();
  }

  private isIdle(): boolean {
    return this.pending.length === 0 && this.queue.length === 0 && this.inFlight.size === 0 && this.retryTimers.size === 0 && !this.flushTimer;
  }

  private settleWaiters(): void {
    if (!this.isIdle() && !this.stopped) return;
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) {
      clearTimeout(w.timer);
      w.resolve();
    }
  }

  private pump(): void {
    while (!this.stopped && !this.paused && this.settings.targetUrl && this.inFlight.size < this.settings.maxConcurrentRequests && this.queue.length > 0) {
      const index = this.settings.reorder ? Math.floor(this.random() * this.queue.length) : 0;
      const [job] = this.queue.splice(index, 1);
      if (job) this.send(job, this.settings.targetUrl);
    }
    this.settleWaiters();
  }

  private send(job: Job, url: string): void {
    const events = job.events.map((e) => ({ ...e, attemptNumber: job.attempt }));
    const body = JSON.stringify(events);
    const startedAt = this.options.now();
    const began = Date.now();
    const headers = { ...signedWebhookHeaders(this.options.clientSecret, url, body, startedAt), 'Content-Length': String(Buffer.byteLength(body)) };
    const target = new URL(url);
    const request = (target.protocol === 'https:' ? httpsRequest : httpRequest)(target, { method: 'POST', headers, agent: false });
    this.inFlight.set(job, request);

    let settled = false;
    const finish = (result: { status?: number; error?: string }): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (!this.inFlight.delete(job)) return; // stopped meanwhile
      const ok = result.status !== undefined && result.status >= 200 && result.status < 300;
      const retry = !ok && job.attempt < this.settings.maxRetries;
      this.attempts.push({
        url,
        attemptNumber: job.attempt,
        events,
        startedAt,
        durationMs: Date.now() - began,
        ...result,
        outcome: ok ? 'delivered' : retry ? 'retrying' : 'failed',
      });
      if (retry) this.scheduleRetry(job);
      this.pump();
    };
    const timer = setTimeout(() => {
      finish({ error: 'timeout' });
      request.destroy();
    }, this.settings.timeoutMs);
    request.on('response', (response) => {
      response.resume();
      response.on('end', () => finish({ status: response.statusCode ?? 0 }));
      response.on('error', () => finish({ status: response.statusCode ?? 0 }));
    });
    request.on('error', (error) => finish({ error: error.message }));
    request.end(body);
  }

  private scheduleRetry(job: Job): void {
    const delays = this.settings.retryDelaysMs;
    const delay = delays[Math.min(job.attempt, delays.length - 1)] ?? 0;
    const timer = setTimeout(() => {
      this.retryTimers.delete(timer);
      this.queue.push({ events: job.events, attempt: job.attempt + 1 });
      this.pump();
    }, delay);
    this.retryTimers.add(timer);
  }

  private shuffle<T>(items: T[]): void {
    for (let i = items.length - 1; i > 0; i--) {
      const j = Math.floor(this.random() * (i + 1));
      [items[i], items[j]] = [items[j]!, items[i]!];
    }
  }
}
