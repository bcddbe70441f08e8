/**
 * `npm run bench`: every Dealgate figure beside a baseline measured in the same run, printed with
 * the command and the machine, and written to bench/results.json. Figures are never asserted.
 *
 *   npm run bench                       # everything (about 4 minutes)
 *   npm run bench -- --only ingest      # some sections: ingest, gate, bulk, card, scale, neighbour, instances (comma-separated)
 *   npm run bench -- --quick            # shorter runs, for trying the harness (not for the README)
 *
 * The load generator (this process) is pinned to core 0 and each service process to core 1 with
 * taskset when it exists (BENCHMARKING.md).
 */
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { machineInfo, type MachineInfo } from './lib/machine';
import { canPin, pinSelf, repoRoot } from './lib/processes';
import { benchIngest } from './ingest';
import { benchGateReaction } from './gateReaction';
import { benchBulkMove } from './bulkMove';
import { benchCardLoad } from './cardLoad';
import { benchDataScale, LARGE, SMALL } from './dataScale';
import { benchNoisyNeighbour } from './noisyNeighbour';
import { benchInstances, instancesSection } from './instances';
import { bulkSection, cardSection, dataScaleSection, gateSection, ingestSection, neighbourSection, report, type Section } from './report';

const SECTIONS = ['ingest', 'gate', 'bulk', 'card', 'scale', 'neighbour', 'instances'] as const;
type SectionName = (typeof SECTIONS)[number];

/** What `npm run bench -- ...` asked for: the sections to run (all by default) and whether runs are short. */
function parseOptions(): { only: string[]; quick: boolean } {
  const { values } = parseArgs({ options: { only: { type: 'string' }, quick: { type: 'boolean', default: false } } });
  const only = values.only ? values.only.split(',').map((s) => s.trim()) : [...SECTIONS];
  for (const name of only) if (!(SECTIONS as readonly string[]).includes(name)) throw new Error(`unknown section "${name}" (one of ${SECTIONS.join(', ')})`);
  return { only, quick: values.quick ?? false };
}

/** Runs one section if it was asked for: its title, its figures, how long it took, reported as it ends. */
type SectionRunner = <T>(name: SectionName, title: string, body: () => Promise<T>, toSection: (r: T) => Section) => Promise<void>;

function sectionRunner(only: string[], sections: Partial<Record<SectionName, Section>>, log: (line: string) => void): SectionRunner {
  return async (name, title, body, toSection) => {
    if (!only.includes(name)) return;
    log(`\n## ${title}`);
    const started = Date.now();
    const result = await body();
    const section = toSection(result);
    section.seconds = Math.round((Date.now() - started) / 1000);
    sections[name] = section;
    for (const line of report(section)) log(line);
  };
}

interface RunSettings {
  quick: boolean;
  serviceCore: number | undefined;
  log: (line: string) => void;
}

/** One account's paths: webhook ingest, the gate's reaction, a bulk move, the card. */
async function runPathSections(run: SectionRunner, { quick, serviceCore, log }: RunSettings): Promise<void> {
  await run(
    'ingest',
    'Webhook ingest',
    () =>
      benchIngest({
        reps: 3,
        warmupMs: quick ? 1_000 : 2_000,
        durationMs: quick ? 2_000 : 6_000,
        connections: 16,
        latencyRate: 'half-max',
        latencyDurationMs: quick ? 3_000 : 10_000,
        serviceCore,
        log,
      }),
    ingestSection,
  );

  await run(
    'gate',
    'Gate reaction',
    () => benchGateReaction({ moves: quick ? 100 : 1_000, warmupMoves: 20, blocks: 4, serviceCore, log }),
    gateSection,
  );
  await run('bulk', 'Bulk move', () => benchBulkMove({ deals: 1_000, rateLimitPerTenSeconds: 110, serviceCore, log }), bulkSection);
  await run(
    'card',
    'Card load',
    () => benchCardLoad({ rate: 200, durationMs: quick ? 3_000 : 8_000, warmupMs: 2_000, deals: 50, reps: 3, serviceCore, log }),
    cardSection,
  );
}

/** Scale and isolation: a large account, a noisy neighbour, PostgreSQL and two instances. */
async function runScaleSections(run: SectionRunner, { quick, serviceCore, log }: RunSettings): Promise<void> {
  await run(
    'scale',
    'Data scale',
    () =>
      benchDataScale({
        small: SMALL,
        large: LARGE,
        cardRate: 200,
        homeRate: 20,
        durationMs: quick ? 3_000 : 8_000,
        warmupMs: 2_000,
        reps: 3,
        measuredDeals: 50,
        serviceCore,
        log,
      }),
    dataScaleSection,
  );

  await run(
    'neighbour',
    'Noisy neighbour',
    () =>
      benchNoisyNeighbour({
        importEvents: 100_000,
        importDeals: 10_000,
        connections: 16,
        // B stays within its own HubSpot budget (90 calls per 10 s; a move costs up to three calls: read, revert, note).
        moveEveryMs: 500,
        baselineMoves: 20,
        serviceCore,
        log,
      }),
    neighbourSection,
  );

  await run(
    'instances',
    'Instances: PostgreSQL against SQLite, two instances against one',
    () =>
      benchInstances({
        reps: quick ? 1 : 3,
        // 50/s: one PostgreSQL instance on this machine queues at 100/s (p50 167 ms in a trial run).
        cardRate: 50,
        cardDurationMs: quick ? 2_000 : 5_000,
        gateMoves: quick ? 10 : 30,
        gatePaceMs: 400,
        // 5,000 events: applying them on PostgreSQL runs at about 100 events/s here (trial run), 50 s a repetition.
        ingestBatches: 50,
        connections: 16,
        serviceCore,
        log,
      }),
    instancesSection,
  );
}

/** Merges the sections run into bench/results.json (the others keep their last figures), each with the command and the machine. */
function writeResults(sections: Partial<Record<SectionName, Section>>, command: string, machine: MachineInfo, quick: boolean): void {
  const resultsPath = join(repoRoot, 'bench/results.json');
  const previous = existsSync(resultsPath) ? (JSON.parse(readFileSync(resultsPath, 'utf8')) as { sections?: Record<string, unknown> }) : {};
  const merged = { ...(previous.sections ?? {}) } as Record<string, unknown>;
  for (const [name, section] of Object.entries(sections)) merged[name] = { ...section, command, machine, measuredAt: new Date().toISOString(), quick };
  writeFileSync(resultsPath, JSON.stringify({ sections: merged }, null, 2) + '\n');
}

async function main(): Promise<void> {
  const { only, quick } = parseOptions();

  const pinned = canPin() && pinSelf(0);
  const serviceCore = pinned ? 1 : undefined;
  const machine: MachineInfo = machineInfo(pinned);
  const command = `npm run bench${process.argv.length > 2 ? ' -- ' + process.argv.slice(2).join(' ') : ''}`;
  const log = (line: string) => process.stdout.write(line + '\n');
  log(`$ ${command}`);
  log(`machine: ${machine.cpus} × ${machine.cpuModel}, ${machine.memoryGiB} GiB, ${machine.platform}, node ${machine.node}, commit ${machine.commit}`);
  log(pinned ? 'pinned: generator on core 0, each service on core 1 (taskset)' : 'not pinned (no taskset): expect more noise');
  mkdirSync(join(repoRoot, 'bench/tmp'), { recursive: true });

  const sections: Partial<Record<SectionName, Section>> = {};
  const run = sectionRunner(only, sections, log);
  await runPathSections(run, { quick, serviceCore, log });
  await runScaleSections(run, { quick, serviceCore, log });
  writeResults(sections, command, machine, quick);
  log(`\nwritten to bench/results.json`);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
