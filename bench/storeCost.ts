/**
 * What the store costs on SQLite in process, this tree against another (issue 13: "SQLite keeps
 * its speed", same-run figures within 10% of the synchronous store's). CPU time, not wall time, so
 * the figure holds on a shared machine where end-to-end runs cannot tell 10% apart (README, "Async
 * store against the synchronous one").
 *
 *   npm run bench:store -- --baseline /work/wt-sync-baseline [--pairs 8] [--source]
 *
 * `--baseline`: a checkout of another commit (its node_modules linked to this one's), e.g. the last
 * synchronous store: `git worktree add --detach ../wt-sync-baseline 1298776`. Both trees are built
 * with tsc first and the JavaScript is measured, as `npm start` runs it (buildTrees); `--source`
 * measures them through tsx instead, as the figures before 2026-12-02 were. Each pair runs three
 * processes (VARIANTS: the baseline, the baseline on a database with this tree's webhook_inbox
 * indexes, this tree), in rotating order, pinned to core 1 when taskset exists, the database in
 * /dev/shm when that exists. Each process measures, after a warm-up:
 * - ingest: the CPU µs per 100-event webhook batch of the webhook route's store work and the inbox
 *   worker's expansion: `store.inbox.journal` (with the parsed events handed over, as the route
 *   does) of 16 batches (JOURNAL_BATCHES_PER_SLICE), then one `store.inbox.expandJournal` of them;
 *   the median of 40 samples of 64 batches;
 * - statement: the CPU µs of one trivial statement (`store.inbox.journalBacklog`);
 * - round: the CPU µs per event of inbox rounds (measureRounds), and the statements and promises
 *   made per event of one more round each (counted after the timed ones).
 * Both trees get the same events, parsed before the clock runs. A synchronous store's answers are
 * used as they are (not awaited), so it pays nothing for the async one's promises.
 */
import { createHook } from 'node:async_hooks';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { canPin } from './lib/processes';
import { fmt, spread, type Spread } from './lib/stats';

const BATCH = 100;
const SLICE = 16;
const WARMUP_SLICES = 40;
const SAMPLES = 40;
const SLICES_PER_SAMPLE = 4;
const STATEMENTS_PER_SAMPLE = 2_000;

interface Measured {
  /** CPU µs per event of an inbox round (processDue over 500 pending events of 250 deals, a handler writing one outbox row each). */
  roundUsPerEvent: number;
  /** Statement calls per event of such a round (its insertBatch, outside the clock, included). */
  roundStatementsPerEvent: number;
  /** Promises made per event of such a round (its insertBatch included), counted in a round of its own after the timed ones. */
  roundPromisesPerEvent: number;
  /** better-sqlite3 statement calls (run, get, all, iterate) per batch on the ingest path, BEGIN and COMMIT included. */
  statementsPerBatch: number;
  ingestUsPerBatch: number;
  /** The journal's share of ingestUsPerBatch (the rest is the expansion). */
  journalUsPerBatch: number;
  statementUs: number;
}

/** The parts of either tree's inbox this uses (the synchronous one answers values, the async one promises). */
interface AnyInbox {
  journal(body: Buffer, receivedAt: number, parsed?: () => BenchEvent[]): unknown;
  expandJournal(limit: number, toEvents: (body: Buffer) => BenchEvent[]): unknown;
  journalBacklog(): unknown;
}

interface BenchEvent {
  portalId: number;
  eventKey: string;
  objectId: string;
  subscriptionType: string;
  propertyName: string | null;
  propertyValue: string | null;
  changeSource: string | null;
  sourceId: string | null;
  occurredAt: number;
  payload: string;
}

interface WebhookEvent {
  eventId: number;
  subscriptionId: number;
  portalId: number;
  appId: number;
  occurredAt: number;
  subscriptionType: string;
  attemptNumber: number;
  objectId: number;
  propertyName: string;
  propertyValue: string;
  changeSource: string;
  sourceId: string;
}

function eventsOf(raw: WebhookEvent[]): BenchEvent[] {
  return raw.map((e) => ({
    portalId: e.portalId,
    eventKey: `${e.eventId}:${e.attemptNumber}`,
    objectId: String(e.objectId),
    subscriptionType: e.subscriptionType,
    propertyName: e.propertyName,
    propertyValue: e.propertyValue,
    changeSource: e.changeSource,
    sourceId: e.sourceId,
    occurredAt: e.occurredAt,
    payload: JSON.stringify(e),
  }));
}

/**
 * A module of a tree to measure: `tree` is a source tree (loaded through tsx, as `--source` runs)
 * or the JavaScript tsc built from one (the default: what `npm start` runs).
 */
const moduleOf = (tree: string, name: string): string => {
  const compiled = join(tree, `${name}.js`);
  return existsSync(compiled) ? compiled : join(tree, `${name}.ts`);
};

const toEvents = (body: Buffer): BenchEvent[] => eventsOf(JSON.parse(body.toString('utf8')) as WebhookEvent[]);

let nextEventId = 1;
/** A signed-and-parsed batch as the webhook route hands it over: the body, and its inbox events (parsed before the clock runs). */
function webhookBatch(): { body: Buffer; events: BenchEvent[] } {
  const raw = Array.from({ length: BATCH }, (): WebhookEvent => {
    const id = nextEventId++;
    return {
      eventId: id,
      subscriptionId: 4242,
      portalId: 7,
      appId: 99,
      occurredAt: 1_760_000_000_000 + id,
      subscriptionType: 'deal.propertyChange',
      attemptNumber: 0,
      objectId: 10_000 + (id % 500),
      propertyName: 'amount',
      propertyValue: String(1000 + (id % 97)),
      changeSource: 'CRM_UI',
      sourceId: 'userId:12345',
    };
  });
  return { body: Buffer.from(JSON.stringify(raw)), events: eventsOf(raw) };
}

const settle = async (value: unknown): Promise<void> => {
  if (value instanceof Promise) await value;
};

const cpuUs = (): number => {
  const { user, system } = process.cpuUsage();
  return user + system;
};

interface AnyDb {
  close(): void;
  exec(sql: string): void;
  prepare(sql: string): { all(): unknown[] };
}

const inboxIndexes = (db: AnyDb) =>
  new Map((db.prepare(`SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'webhook_inbox' AND sql IS NOT NULL`).all() as { name: string; sql: string }[]).map((r) => [r.name, r.sql]));

/** Gives `db` the indexes on webhook_inbox of `tree`'s schema (and only those): each is written on every row the ingest stores. */
async function takeInboxIndexes(db: AnyDb, tree: string, dir: string): Promise<void> {
  const { createDb } = (await import(moduleOf(tree, 'src/server/storage/db'))) as { createDb: (path: string) => AnyDb };
  const model = createDb(join(dir, 'schema-model.sqlite'));
  const wanted = inboxIndexes(model);
  model.close();
  for (const [name, sql] of inboxIndexes(db)) if (wanted.get(name) !== sql) db.exec(`DROP INDEX ${name}`);
  const have = inboxIndexes(db);
  for (const [name, sql] of wanted) if (!have.has(name)) db.exec(sql);
}

/** Statement calls `work` makes on `db`, counted on better-sqlite3's Statement prototype (after the timed samples: counting slows them). */
async function countStatements(db: AnyDb, work: () => Promise<void>): Promise<number> {
  const prototype = Object.getPrototypeOf(db.prepare('SELECT 1')) as Record<string, (...args: unknown[]) => unknown>;
  const originals = new Map<string, (...args: unknown[]) => unknown>();
  let calls = 0;
  for (const name of ['run', 'get', 'all', 'iterate']) {
    const original = prototype[name]!;
    originals.set(name, original);
    prototype[name] = function (this: unknown, ...args: unknown[]) {
      calls += 1;
      return original.apply(this, args);
    };
  }
  try {
    await work();
  } finally {
    for (const [name, original] of originals) prototype[name] = original;
  }
  return calls;
}

/**
 * Promises made while `work` runs (an init hook, enabled only for this count, after every timed
 * sample: an enabled hook makes every promise cost more). Each one runs the async context's hook in
 * a tree whose store keeps a transaction scope (transactionScope.ts).
 */
async function countPromises(work: () => Promise<void>): Promise<number> {
  let made = 0;
  const hook = createHook({
    init(_id, type) {
      if (type === 'PROMISE') made += 1;
    },
  });
  hook.enable();
  try {
    await work();
  } finally {
    hook.disable();
  }
  return made;
}

interface AnyWorker {
  processDue(): Promise<number>;
}

const ROUND_EVENTS = 500;
const WARMUP_ROUNDS = 5;
const ROUNDS = 20;

/**
 * The gate reaction's store work, roughly: inbox rounds through the tree's own inbox worker, whose
 * handler writes one outbox row per event in the transaction that marks the event done (as a
 * revert does), no HubSpot read (needsFreshDeal false). The workers differ between trees beyond the
 * store (issue 12's per-account due read, issue 13's claims), so this is the path's cost, not the store's alone.
 */
async function measureRounds(tree: string, indexesOf: string | undefined, dir: string): Promise<{ usPerEvent: number; statementsPerEvent: number; promisesPerEvent: number }> {
  const { createDb } = (await import(moduleOf(tree, 'src/server/storage/db'))) as { createDb: (path: string) => AnyDb };
  const { createSqliteStore } = (await import(moduleOf(tree, 'src/server/storage/sqliteStore'))) as {
    createSqliteStore: (db: unknown) => { inbox: AnyInbox & { insertBatch(events: BenchEvent[], at: number): unknown }; outbox: { enqueue(entry: object, at: number): unknown } };
  };
  const { createInboxWorker } = (await import(moduleOf(tree, 'src/server/workers/inboxWorker'))) as { createInboxWorker: (deps: object) => AnyWorker };
  const loggerPath = ['src/server/shared/logger', 'src/server/logger'].map((p) => moduleOf(tree, p)).find((p) => existsSync(p))!;
  const { silentLogger } = (await import(loggerPath)) as { silentLogger: () => object };
  const db = createDb(join(dir, 'rounds.sqlite'));
  if (indexesOf !== undefined) await takeInboxIndexes(db, indexesOf, dir);
  db.exec('PRAGMA wal_autocheckpoint = 0');
  const store = createSqliteStore(db);
  const worker = createInboxWorker({
    store,
    gateway: {},
    clock: { now: () => Date.now() },
    logger: silentLogger(),
    governor: { acquire: async () => true, rateLimited: () => undefined, pauseRemainingMs: () => 0 },
    provisioner: { ensureReady: async () => undefined, refreshPipelines: async () => false },
    handler: {
      needsFreshDeal: () => false,
      // A synchronous store's handler answers at once; an async one's after its write.
      apply: ({ event }: { event: { portalId: number; objectId: string; eventKey: string } }) => {
        const written = store.outbox.enqueue({ portalId: event.portalId, dealId: event.objectId, kind: 'create_note', payload: { body: event.eventKey } }, Date.now());
        return written instanceof Promise ? written.then(() => true) : true;
      },
    },
  });
  const round = async () => {
    const events = Array.from({ length: ROUND_EVENTS / BATCH }, webhookBatch).flatMap((b) => b.events);
    await settle(store.inbox.insertBatch(events, Date.now()));
    db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
    const started = cpuUs();
    const applied = await worker.processDue();
    if (applied !== ROUND_EVENTS) throw new Error(`${tree}: a round applied ${applied} events, not ${ROUND_EVENTS}`);
    return (cpuUs() - started) / applied;
  };
  for (let i = 0; i < WARMUP_ROUNDS; i++) await round();
  const perEvent: number[] = [];
  for (let i = 0; i < ROUNDS; i++) perEvent.push(await round());
  const statements = await countStatements(db, async () => void (await round()));
  const promises = await countPromises(async () => void (await round()));
  db.close();
  return { usPerEvent: spread(perEvent).median, statementsPerEvent: statements / ROUND_EVENTS, promisesPerEvent: promises / ROUND_EVENTS };
}

/** One tree, in this process: the store of `tree` on a fresh database (with the inbox indexes of `indexesOf`, when given). */
async function measure(tree: string, indexesOf: string | undefined): Promise<Measured> {
  const { createDb } = (await import(moduleOf(tree, 'src/server/storage/db'))) as { createDb: (path: string) => AnyDb };
  const { createSqliteStore } = (await import(moduleOf(tree, 'src/server/storage/sqliteStore'))) as { createSqliteStore: (db: unknown) => { inbox: AnyInbox } };
  const dir = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'dealgate-store-cost-'));
  try {
    const db = createDb(join(dir, 'db.sqlite'));
    if (indexesOf !== undefined) await takeInboxIndexes(db, indexesOf, dir);
    // The service checkpoints the WAL in a thread of its own (walCheckpointer.ts, in both trees), not
    // inside whichever commit crosses 1,000 pages: here each sample starts from an empty WAL, the
    // checkpoint off the clock.
    db.exec('PRAGMA wal_autocheckpoint = 0');
    const inbox = createSqliteStore(db).inbox;
    // Batches made before the clock runs: their JSON and parse are the webhook route's work, not the store's.
    let batches = Array.from({ length: WARMUP_SLICES * SLICE }, webhookBatch);
    let journalUs = 0;
    const slice = async () => {
      const started = cpuUs();
      for (let i = 0; i < SLICE; i++) {
        const { body, events } = batches.pop()!;
        await settle(inbox.journal(body, Date.now(), () => events));
      }
      journalUs += cpuUs() - started;
      await settle(inbox.expandJournal(SLICE, toEvents));
    };
    for (let i = 0; i < WARMUP_SLICES; i++) {
      if (i % SLICES_PER_SAMPLE === 0) db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
      await slice();
    }
    const ingest: number[] = [];
    const journal: number[] = [];
    for (let s = 0; s < SAMPLES; s++) {
      batches = Array.from({ length: SLICES_PER_SAMPLE * SLICE }, webhookBatch);
      journalUs = 0;
      db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
      const started = cpuUs();
      for (let i = 0; i < SLICES_PER_SAMPLE; i++) await slice();
      ingest.push((cpuUs() - started) / (SLICES_PER_SAMPLE * SLICE));
      journal.push(journalUs / (SLICES_PER_SAMPLE * SLICE));
    }
    const statement: number[] = [];
    db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
    for (let s = 0; s < SAMPLES; s++) {
      const started = cpuUs();
      for (let i = 0; i < STATEMENTS_PER_SAMPLE; i++) await settle(inbox.journalBacklog());
      statement.push((cpuUs() - started) / STATEMENTS_PER_SAMPLE);
    }
    const statementsPerBatch = await countStatements(db, async () => {
      batches = Array.from({ length: SLICE }, webhookBatch);
      await slice();
    });
    db.close();
    const rounds = await measureRounds(tree, indexesOf, dir);
    return { roundUsPerEvent: rounds.usPerEvent, roundStatementsPerEvent: rounds.statementsPerEvent, roundPromisesPerEvent: rounds.promisesPerEvent, statementsPerBatch: statementsPerBatch / SLICE, ingestUsPerBatch: spread(ingest).median, journalUsPerBatch: spread(journal).median, statementUs: spread(statement).median };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function runChild(tree: string, indexesOf: string | undefined, pinned: boolean): Promise<Measured> {
  const node = [
    process.execPath,
    ...(process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean),
    '--import',
    'tsx',
    __filename,
    '--measure',
    tree,
    ...(indexesOf !== undefined ? ['--indexes-of', indexesOf] : []),
  ];
  const [command, ...args] = pinned ? ['taskset', '-c', '1', ...node] : node;
  return new Promise((done, fail) => {
    const child = spawn(command as string, args, { cwd: resolve(__dirname, '..'), stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.on('exit', (code) => (code === 0 ? done(JSON.parse(out.trim().split('\n').pop()!) as Measured) : fail(new Error(`measuring ${tree} exited ${code}:\n${out}`))));
  });
}

const line = (name: string, s: Spread, digits = 0) => `${name}: median ${fmt(s.median, digits)} (${fmt(s.min, digits)}–${fmt(s.max, digits)})`;

/**
 * The three stores each pair measures: this tree; the baseline as it was; the baseline on a
 * database given this tree's webhook_inbox indexes, which tells the store's cost from the cost of
 * an index added since (migration 13, inbox_pending_by_account, issue 12: one more B-tree per row).
 */
const VARIANTS = ['before', 'before, this tree\'s inbox indexes', 'after'] as const;
type Variant = (typeof VARIANTS)[number];

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { measure: { type: 'string' }, 'indexes-of': { type: 'string' }, baseline: { type: 'string' }, pairs: { type: 'string', default: '8' }, source: { type: 'boolean', default: false } } });
  if (values.measure !== undefined) {
    process.stdout.write(`${JSON.stringify(await measure(resolve(values.measure), values['indexes-of']))}\n`);
    return;
  }
  const baseline = values.baseline ?? process.env.STORE_BASELINE;
  if (baseline === undefined || !existsSync(join(baseline, 'src/server/storage/sqliteStore.ts'))) {
    throw new Error('--baseline <tree> (or STORE_BASELINE): a checkout of the commit to compare with, e.g. `git worktree add --detach ../wt-sync-baseline 1298776` with node_modules linked');
  }
  const sources = { before: resolve(baseline), after: resolve(__dirname, '..') };
  const pinned = canPin();
  const commitOf = (tree: string) => execFileSync('git', ['-C', tree, 'rev-parse', '--short', 'HEAD']).toString().trim();
  const buildDir = values.source ? undefined : newBuildDir(sources.after);
  try {
    const built = buildDir === undefined ? undefined : buildTrees(sources, buildDir);
    const { before, after } = built ?? sources;
    process.stdout.write(
      `before ${sources.before} (${commitOf(sources.before)}), after ${sources.after} (${commitOf(sources.after)}); ${built ? 'each built with tsc, as npm start runs it' : 'each loaded from source through tsx (--source)'}; ${pinned ? 'pinned to core 1' : 'not pinned'}; database in ${existsSync('/dev/shm') ? '/dev/shm' : tmpdir()}; load average ${loadavg()[0]!.toFixed(2)}\n`,
    );
    await comparePairs(before, after, Number(values.pairs), pinned);
  } finally {
    if (buildDir !== undefined) rmSync(buildDir, { recursive: true, force: true });
  }
}

/** Where both trees are built: a new directory under this tree's node_modules/.cache (removed when the bench ends, built or not). */
function newBuildDir(tree: string): string {
  const cache = join(tree, 'node_modules', '.cache');
  mkdirSync(cache, { recursive: true });
  return mkdtempSync(join(cache, 'dealgate-store-cost-'));
}

/**
 * Both trees compiled by this tree's tsc with their own tsconfig.build.json, into a directory under
 * this tree's node_modules (so their imports of packages resolve to it, as the baseline's linked
 * node_modules do). tsx, which the source runs through, adds a `__name` call to every function
 * it defines (its keepNames): a cost per closure that the service in production does not pay.
 */
function buildTrees(sources: { before: string; after: string }, dir: string): { before: string; after: string } {
  const tsc = join(sources.after, 'node_modules', 'typescript', 'bin', 'tsc');
  const build = (tree: string, out: string) => {
    execFileSync(process.execPath, [tsc, '-p', join(tree, 'tsconfig.build.json'), '--outDir', out, '--sourceMap', 'false'], { stdio: 'inherit' });
    return out;
  };
  return { before: build(sources.before, join(dir, 'before')), after: build(sources.after, join(dir, 'after')) };
}

/** `pairs` rounds of the three variants, then the figures. */
async function comparePairs(before: string, after: string, pairs: number, pinned: boolean): Promise<void> {
  const runs: Record<Variant, Measured[]> = { before: [], "before, this tree's inbox indexes": [], after: [] };
  for (let pair = 0; pair < pairs; pair++) {
    // Rotating which goes first, so a drift in the machine's load lands on all three.
    const order = VARIANTS.map((_, i) => VARIANTS[(i + pair) % VARIANTS.length]!);
    for (const variant of order) {
      runs[variant].push(await runChild(variant === 'after' ? after : before, variant === "before, this tree's inbox indexes" ? after : undefined, pinned));
    }
    const ingest = (v: Variant) => runs[v][pair]!.ingestUsPerBatch;
    process.stdout.write(
      `pair ${pair + 1}: ingest µs/batch before ${fmt(ingest('before'))}, before with the inbox indexes ${fmt(ingest("before, this tree's inbox indexes"))}, after ${fmt(ingest('after'))}; load ${loadavg()[0]!.toFixed(2)}\n`,
    );
  }
  const figures = [
    ['ingest, CPU µs per 100-event batch (journal insert + expansion)', (m: Measured) => m.ingestUsPerBatch, 0],
    ['  of which the journal insert', (m: Measured) => m.journalUsPerBatch, 0],
    ['  of which the expansion', (m: Measured) => m.ingestUsPerBatch - m.journalUsPerBatch, 0],
    ['one trivial statement (journalBacklog), CPU µs', (m: Measured) => m.statementUs, 2],
    ['inbox round, CPU µs per event (processDue of 500, one outbox row written per event; each tree\'s own worker)', (m: Measured) => m.roundUsPerEvent, 1],
    ['  statement calls per event of a round (its insert of the events included)', (m: Measured) => m.roundStatementsPerEvent, 3],
    ['  promises made per event of a round (its insert of the events included)', (m: Measured) => m.roundPromisesPerEvent, 1],
    ['statement calls per batch', (m: Measured) => m.statementsPerBatch, 3],
  ] as const;
  for (const [name, pick, digits] of figures) {
    process.stdout.write(`${name}\n`);
    for (const variant of VARIANTS) process.stdout.write(`  ${line(variant, spread(runs[variant].map(pick)), digits)}\n`);
    for (const base of ['before', "before, this tree's inbox indexes"] as const) {
      // A synchronous store makes (almost) no promises in a round: a ratio would say nothing.
      if (name.includes('promises made')) continue;
      const ratios = spread(runs.after.map((m, i) => pick(m) / pick(runs[base][i]!)));
      process.stdout.write(`  ${line(`after ÷ ${base}, per pair`, ratios, 3)}\n`);
    }
  }
  process.stdout.write(`load average at the end ${loadavg()[0]!.toFixed(2)}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
