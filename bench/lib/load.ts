import http from 'node:http';
import { round } from './stats';

/**
 * Two load generators on node:http with keep-alive:
 * - closedLoop: N connections each sending back-to-back requests (throughput);
 * - openLoop: requests fired on a fixed schedule, latency counted from each request's *intended*
 *   send time, so a stalled server cannot hide its queueing (BENCHMARKING.md: autocannon's
 *   whole-millisecond, bursty fixed-rate mode misleads for sub-millisecond routes).
 */
export interface BenchRequest {
  method: 'GET' | 'POST' | 'PUT';
  path: string;
  headers?: Record<string, string>;
  body?: Buffer | string;
}

export interface LoadResult {
  requests: number;
  ok: number;
  errors: number;
  statuses: Record<string, number>;
  durationMs: number;
  perSecond: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number };
}

/** Answers that were not 2xx. */
export const non2xx = (load: LoadResult): number => load.requests - load.ok;

/** A load's latency and rate as results.json records them: ms to 3 decimals, requests/s to 1. */
export interface LatencySummary {
  p50: number;
  p90: number;
  p99: number;
  max: number;
  achievedPerSecond: number;
  non2xx: number;
}

export function latencySummary(load: LoadResult): LatencySummary {
  return {
    p50: round(load.latencyMs.p50, 3),
    p90: round(load.latencyMs.p90, 3),
    p99: round(load.latencyMs.p99, 3),
    max: round(load.latencyMs.max, 3),
    achievedPerSecond: round(load.perSecond, 1),
    non2xx: non2xx(load),
  };
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] ?? NaN;
}

function summarize(latencies: number[], statuses: Record<string, number>, errors: number, durationMs: number): LoadResult {
  latencies.sort((a, b) => a - b);
  const requests = latencies.length + errors;
  const ok = Object.entries(statuses)
    .filter(([s]) => s.startsWith('2'))
    .reduce((n, [, c]) => n + c, 0);
  return {
    requests,
    ok,
    errors,
    statuses,
    durationMs,
    perSecond: (ok / durationMs) * 1000,
    latencyMs: {
      p50: percentile(latencies, 50),
      p90: percentile(latencies, 90),
      p99: percentile(latencies, 99),
      max: latencies[latencies.length - 1] ?? NaN,
    },
  };
}

function send(agent: http.Agent, base: URL, request: BenchRequest): Promise<number> {
  return new Promise((resolve, reject) => {
    const body = request.body === undefined ? undefined : Buffer.isBuffer(request.body) ? request.body : Buffer.from(request.body);
    const req = http.request(
      {
        agent,
        host: base.hostname,
        port: base.port,
        method: request.method,
        path: request.path,
        headers: { ...(request.headers ?? {}), ...(body ? { 'content-length': String(body.length) } : {}) },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

export async function closedLoop(options: {
  baseUrl: string;
  connections: number;
  durationMs: number;
  /** Stop after this many requests (sent), if the duration has not run out first. */
  stopAfter?: number;
  next: (sequence: number) => BenchRequest;
}): Promise<LoadResult> {
  const base = new URL(options.baseUrl);
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.connections });
  const stopAfter = options.stopAfter ?? Number.POSITIVE_INFINITY;
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  let errors = 0;
  let sequence = 0;
  const started = performance.now();
  const deadline = started + options.durationMs;
  const worker = async () => {
    while (performance.now() < deadline && sequence < stopAfter) {
      const request = options.next(sequence++);
      const t0 = performance.now();
      try {
        const status = await send(agent, base, request);
        latencies.push(performance.now() - t0);
        statuses[status] = (statuses[status] ?? 0) + 1;
      } catch {
        errors++;
      }
    }
  };
  await Promise.all(Array.from({ length: options.connections }, worker));
  const durationMs = performance.now() - started;
  agent.destroy();
  return summarize(latencies, statuses, errors, durationMs);
}

export async function openLoop(options: {
  baseUrl: string;
  ratePerSecond: number;
  durationMs: number;
  maxSockets?: number;
  next: (sequence: number) => BenchRequest;
}): Promise<LoadResult> {
  const base = new URL(options.baseUrl);
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.maxSockets ?? 64 });
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  let errors = 0;
  const total = Math.round((options.ratePerSecond * options.durationMs) / 1000);
  const interval = 1000 / options.ratePerSecond;
  const started = performance.now();
  const inFlight: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const intended = started + i * interval;
    const wait = intended - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    const request = options.next(i);
    inFlight.push(
      send(agent, base, request).then(
        (status) => {
          latencies.push(performance.now() - intended);
          statuses[status] = (statuses[status] ?? 0) + 1;
        },
        () => {
          errors++;
        },
      ),
    );
  }
  await Promise.all(inFlight);
  const durationMs = performance.now() - started;
  agent.destroy();
  return summarize(latencies, statuses, errors, durationMs);
}
