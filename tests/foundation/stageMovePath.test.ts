import http from 'node:http';
import Database from 'better-sqlite3';
import { startStack, type Stack } from '../support/stack';
import { ADMIN, REP, REVIEWER, revertNotes, seedGatedDeal, stageOf } from '../enforcement/world';
import { layerOf } from '../support/layoutRules';

/**
 * The path of one webhook's effect, read from the running service (README, "Layout", Rules): a
 * user moves a gated deal past the gate, HubSpot's webhook arrives, and Dealgate moves the deal back
 * with a note. The call stack is taken at each of the three points where the effect passes from one
 * process step to the next:
 *   1. the webhook's batch is written to the inbox journal (answered 200 after it);
 *   2. the revert and its note are written to the outbox (in the transaction that applies the event);
 *   3. the revert and the note are sent to HubSpot.
 * The files of src/server on those stacks are the files the effect crosses. Two kinds of frame are
 * not counted, as Express's and better-sqlite3's are not: the SQL engine (the one SQL door and the
 * transaction around a use case's work, which calls the work back) and the timer of the worker loop.
 * Every path crosses them the same way; the test prints them.
 */

/** The store's engine and the loop timer: on every path, counted apart. */
const ENGINE = new Set(['storage/sqliteSql.ts', 'storage/repositories.ts', 'storage/transactionScope.ts', 'storage/withinTransaction.ts', 'workers/workerLoop.ts']);
const MAX_FILES = 8;

interface Captured {
  what: string;
  /** src/server files on the stack, from the effect (top) down to the entry point (bottom), each once in a row. */
  files: string[];
}

function serverFilesOf(stack: string): string[] {
  const files: string[] = [];
  for (const line of stack.split('\n')) {
    const match = /src\/server\/([\w/]+\.ts)/.exec(line);
    const file = match?.[1];
    if (file && files[files.length - 1] !== file) files.push(file);
  }
  return files;
}

/** Records the stack of every SQL statement whose text and parameters match, and of every HTTP request made. */
function probe(matches: (sql: string, params: unknown[]) => string | null): { captured: Captured[]; restore: () => void } {
  const captured: Captured[] = [];
  const statement = Object.getPrototypeOf(new Database(':memory:').prepare('SELECT 1')) as Record<'run' | 'get' | 'all', (...args: unknown[]) => unknown>;
  const originals = { run: statement.run, get: statement.get, all: statement.all };
  for (const method of ['run', 'get', 'all'] as const) {
    const original = originals[method];
    statement[method] = function (this: { source: string }, ...args: unknown[]) {
      const what = matches(this.source, args);
      if (what) captured.push({ what, files: serverFilesOf(new Error().stack ?? '') });
      return original.apply(this, args);
    };
  }
  const request = http.request;
  (http as { request: typeof http.request }).request = function (this: unknown, ...args: Parameters<typeof http.request>) {
    const files = serverFilesOf(new Error().stack ?? '');
    const gatewayCall = /at (?:Object\.)?(\w+) \(.*src\/server\/hubspot\/gateway\.ts/.exec(new Error().stack ?? '')?.[1];
    if (gatewayCall) captured.push({ what: `HubSpot: ${gatewayCall}`, files });
    return request.apply(this, args);
  } as typeof http.request;
  return {
    captured,
    restore() {
      Object.assign(statement, originals);
      (http as { request: typeof http.request }).request = request;
    },
  };
}

const counted = (files: readonly string[]) => files.filter((f) => !ENGINE.has(f));

/** Calls up the layer order on a stack given top (the effect) first: `caller -> callee` for each. */
function upwardCalls(topFirst: readonly string[]): string[] {
  const downward = counted(topFirst).reverse();
  return downward.slice(1).flatMap((file, i) => (layerOf(file) < layerOf(downward[i] as string) ? [`${downward[i]} -> ${file}`] : []));
}

describe('the path of a webhook effect (a gated stage move reverted)', () => {
  let stack: Stack;
  let captured: Captured[];
  const stackTraceLimit = Error.stackTraceLimit;

  beforeAll(async () => {
    Error.stackTraceLimit = Infinity;
    stack = await startStack({ defaults: { valueThreshold: 50_000, reviewers: [REVIEWER], admins: [String(ADMIN)] } });
    await stack.provision();
    const deal = seedGatedDeal(stack);
    await stack.settle();
    const probed = probe((sql, params) => {
      if (/^INSERT INTO webhook_batches/.test(sql)) return 'journal';
      if (/^INSERT INTO outbox\b/.test(sql) && params.includes('revert_stage')) return 'outbox: revert_stage';
      if (/^INSERT INTO outbox\b/.test(sql) && params.includes('create_note')) return 'outbox: create_note';
      return null;
    });
    try {
      stack.sim.moveDealToStage(deal.id, 'closedwon', { userId: REP });
      await stack.settle();
    } finally {
      probed.restore();
    }
    captured = probed.captured;
    expect(stageOf(stack, deal.id)).toBe('contractsent');
    expect(revertNotes(stack, deal.id)).toHaveLength(1);
  });
  afterAll(async () => {
    Error.stackTraceLimit = stackTraceLimit;
    await stack.stop();
  });

  const chain = (what: string | RegExp): string[] => {
    const found = captured.find((c) => (typeof what === 'string' ? c.what === what : what.test(c.what)));
    if (!found) throw new Error(`no stack was captured for ${String(what)}; captured: ${captured.map((c) => c.what).join(', ')}`);
    return found.files;
  };

  it('is seen at each of its steps: the journal, the outbox rows of the revert and the note, the calls to HubSpot', () => {
    expect(chain('journal')).toEqual(expect.arrayContaining(['http/webhookRoute.ts', 'storage/inboxStore.ts']));
    expect(chain('outbox: revert_stage')).toEqual(expect.arrayContaining(['workers/inboxWorker.ts', 'application/dealEvents.ts', 'storage/outboxStore.ts']));
    expect(chain('outbox: create_note')).toEqual(expect.arrayContaining(['application/dealEvents.ts', 'storage/outboxStore.ts']));
    expect(chain('HubSpot: batchUpdateDeals')).toEqual(expect.arrayContaining(['workers/outboxWorker.ts', 'hubspot/gateway.ts']));
    expect(chain('HubSpot: createNotes')).toEqual(expect.arrayContaining(['workers/outboxWorker.ts', 'hubspot/gateway.ts']));
  });

  it(`crosses at most ${MAX_FILES} files of src/server, besides the SQL engine and the loop timer`, () => {
    const steps = ['journal', 'outbox: revert_stage', 'outbox: create_note', 'HubSpot: batchUpdateDeals', 'HubSpot: createNotes'];
    const all = new Set(steps.flatMap((s) => chain(s)));
    const files = [...all].filter((f) => !ENGINE.has(f)).sort();
    process.stdout.write(`a webhook's effect crosses ${files.length} files: ${files.join(', ')}; and the engine: ${[...all].filter((f) => ENGINE.has(f)).sort().join(', ')}\n`);
    expect(files.length).toBeLessThanOrEqual(MAX_FILES);
  });

  it('goes straight down the layer order on each step: no frame calls a file of a higher layer', () => {
    for (const what of ['journal', 'outbox: revert_stage', 'outbox: create_note', 'HubSpot: batchUpdateDeals', 'HubSpot: createNotes']) {
      expect({ what, ups: upwardCalls(chain(what)) }).toEqual({ what, ups: [] });
    }
  });

  it('names a call up the layer order (on a made-up stack: a use case calling back into a worker)', () => {
    expect(upwardCalls(['hubspot/gateway.ts', 'workers/outboxWorker.ts', 'application/dealEvents.ts', 'storage/sqliteSql.ts', 'workers/inboxWorker.ts'])).toEqual([
      'application/dealEvents.ts -> workers/outboxWorker.ts',
    ]);
  });
});
