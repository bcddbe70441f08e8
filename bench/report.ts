import type { IngestResult } from './ingest';
import { fmt, fmtSpread, round, type Spread } from './lib/stats';

/** One printed figure: the measurement, its same-run baseline and their ratio. */
export interface Figure {
  name: string;
  value: string;
  baseline?: string;
  ratio?: string;
}

export interface Target {
  what: string;
  target: string;
  measured: string;
  met: boolean;
}

export interface Section {
  title: string;
  figures: Figure[];
  targets: Target[];
  details: unknown;
  seconds?: number;
}

export function report(section: Section): string[] {
  const lines: string[] = [];
  for (const f of section.figures) {
    lines.push(`  ${f.name}: ${f.value}${f.baseline ? ` | baseline ${f.baseline}` : ''}${f.ratio ? ` | ratio ${f.ratio}` : ''}`);
  }
  for (const t of section.targets) lines.push(`  target ${t.what} ${t.target}: ${t.measured} -> ${t.met ? 'MET' : 'NOT MET'}`);
  return lines;
}

const spreadJson = (s: Spread, digits = 2) => ({ median: round(s.median, digits), min: round(s.min, digits), max: round(s.max, digits), runs: s.runs.map((v) => round(v, digits)) });

export function ingestSection(r: IngestResult): Section {
  const reps = r.service.batchesPerSecond.runs.length;
  return {
    title: 'Webhook ingest',
    figures: [
      {
        name: `batches/s (${r.eventsPerBatch} events each, ${r.connections} connections, median of ${reps} × ${r.repDurationMs / 1000} s, range)`,
        value: fmtSpread(r.service.batchesPerSecond),
        baseline: `${fmtSpread(r.baseline.batchesPerSecond)} (bare node:http HMAC + one-row insert)`,
        ratio: fmtSpread(r.ratioBatchesPerSecond, 2),
      },
      {
        name: 'events/s acknowledged',
        value: fmtSpread(r.service.eventsPerSecond),
        baseline: fmtSpread(r.baseline.eventsPerSecond),
      },
      {
        name: 'events/s sustained (acknowledged and expanded into the deduplicated inbox, catch-up included)',
        value: fmtSpread(r.service.sustainedEventsPerSecond),
      },
      {
        name: `ack latency at ${r.latencyAt} batches/s open loop (p50 / p99 / max, ms)`,
        value: `${fmt(r.serviceLatencyMs.p50, 2)} / ${fmt(r.serviceLatencyMs.p99, 2)} / ${fmt(r.serviceLatencyMs.max, 1)}`,
        baseline: `${fmt(r.baselineLatencyMs.p50, 2)} / ${fmt(r.baselineLatencyMs.p99, 2)} / ${fmt(r.baselineLatencyMs.max, 1)}`,
        ratio: `p99 ${fmt(r.serviceLatencyMs.p99 / r.baselineLatencyMs.p99, 2)}`,
      },
      { name: 'service peak RSS during the ingest runs', value: r.servicePeakRssMiB === null ? 'unknown (no /proc)' : `${r.servicePeakRssMiB} MiB` },
      { name: 'non-2xx answers (service / baseline)', value: `${r.service.non2xx + r.serviceLatencyMs.non2xx} / ${r.baseline.non2xx + r.baselineLatencyMs.non2xx}` },
    ],
    targets: [
      { what: 'events/s sustained', target: '>= 100,000', measured: fmt(r.service.sustainedEventsPerSecond.median), met: r.service.sustainedEventsPerSecond.median >= 100_000 },
      { what: 'batches/s ratio to the bare baseline', target: '>= 0.5', measured: fmt(r.ratioBatchesPerSecond.median, 2), met: r.ratioBatchesPerSecond.median >= 0.5 },
      { what: `ack latency p99 at ${r.latencyAt} batches/s`, target: '< 20 ms', measured: `${fmt(r.serviceLatencyMs.p99, 2)} ms`, met: r.serviceLatencyMs.p99 < 20 },
      { what: 'peak RSS', target: '< 200 MB', measured: `${r.servicePeakRssMiB ?? '?'} MiB`, met: r.servicePeakRssMiB !== null && r.servicePeakRssMiB * 1.048576 < 200 },
    ],
    details: {
      ...r,
      service: { ...r.service, batchesPerSecond: spreadJson(r.service.batchesPerSecond), eventsPerSecond: spreadJson(r.service.eventsPerSecond, 0), sustainedEventsPerSecond: spreadJson(r.service.sustainedEventsPerSecond, 0), drainMs: spreadJson(r.service.drainMs, 0) },
      baseline: { ...r.baseline, batchesPerSecond: spreadJson(r.baseline.batchesPerSecond), eventsPerSecond: spreadJson(r.baseline.eventsPerSecond, 0) },
      ratioBatchesPerSecond: spreadJson(r.ratioBatchesPerSecond, 3),
    },
  };
}
