import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { freePort, startTs, waitUntil } from '../support/process';
import { tempDir } from '../support/env';
import { startSimulator, type Simulator } from '../../src/simulator';
import { createDb } from '../../src/server/storage/db';
import { migrations } from '../../src/server/storage/migrations';
import { createSqliteStore } from '../../src/server/storage/sqliteStore';
import { SQLITE_OWNER_LEASE } from '../../src/server/storage/workerLeaseStore';
import { ownerHolder } from '../../src/server/workers/sqliteOwnership';

// Each test starts the service in a child process (tsx compiles it first: seconds on a loaded
// machine), then waits up to 20 s for /healthz and 10 s more for what it checks.
const SPAWNED_TEST_MS = 60_000;

describe('the service process', () => {
  let dir: ReturnType<typeof tempDir>;
  beforeEach(() => {
    dir = tempDir();
  });
  afterEach(() => dir.cleanup());

  it('starts with only the client secret, creates the database, answers /healthz and stops on SIGTERM', async () => {
    const port = await freePort();
    const databasePath = join(dir.path, 'data', 'dealgate.db');
    const proc = startTs('src/server/main.ts', {
      HUBSPOT_CLIENT_SECRET: 'only-this',
      PORT: String(port),
      DATABASE_PATH: databasePath,
    });
    try {
      await waitUntil(async () => (await fetch(`http://127.0.0.1:${port}/healthz`)).ok, 20000, '/healthz');
      expect(existsSync(databasePath)).toBe(true);
      expect(proc.output()).not.toContain('only-this');
      proc.child.kill('SIGTERM');
      const exit = await proc.exited;
      expect(exit).toEqual({ code: 0, signal: null });
      expect(proc.output()).toContain('stopped');
    } finally {
      proc.child.kill('SIGKILL');
    }
  });

  it('exits 1 when its port is taken, having started nothing and given the SQLite database up', async () => {
    const port = await freePort();
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(port, '127.0.0.1', resolve));
    const databasePath = join(dir.path, 'dealgate.db');
    try {
      const proc = startTs('src/server/main.ts', { HUBSPOT_CLIENT_SECRET: 'only-this', PORT: String(port), HOST: '127.0.0.1', DATABASE_PATH: databasePath, LOG_LEVEL: 'info' });
      expect(await proc.exited).toEqual({ code: 1, signal: null });
      expect(proc.output()).toContain(`cannot listen on 127.0.0.1 port ${port}`);
      expect(proc.output()).not.toContain('dealgate listening');
      const store = createSqliteStore(createDb(databasePath));
      try {
        // No worker ran (none took its lease), and the owner lease was given back.
        expect(await store.workerLeases.list()).toEqual([]);
      } finally {
        await store.close();
      }
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  }, SPAWNED_TEST_MS);

  it('refuses to start without HUBSPOT_CLIENT_SECRET and says which variable', async () => {
    const proc = startTs('src/server/main.ts', { DATABASE_PATH: join(dir.path, 'db.sqlite'), PORT: 'abc' });
    const exit = await proc.exited;
    expect(exit.code).toBe(1);
    expect(proc.output()).toContain('HUBSPOT_CLIENT_SECRET is required');
    expect(proc.output()).toContain('PORT');
    expect(existsSync(join(dir.path, 'db.sqlite'))).toBe(false);
  }, SPAWNED_TEST_MS);
});

describe('two service processes on one SQLite database', () => {
  let dir: ReturnType<typeof tempDir>;
  beforeEach(() => {
    dir = tempDir();
  });
  afterEach(() => dir.cleanup());

  const start = async (databasePath: string, env: Record<string, string> = {}) => {
    const port = await freePort();
    const proc = startTs('src/server/main.ts', { HUBSPOT_CLIENT_SECRET: 'only-this', PORT: String(port), DATABASE_PATH: databasePath, ...env });
    return { proc, healthy: async () => (await fetch(`http://127.0.0.1:${port}/healthz`)).ok };
  };

  it('the second waits, then exits 1 naming the first and DATABASE_PATH; after a clean stop, or a SIGKILL, the next one starts', async () => {
    const databasePath = join(dir.path, 'dealgate.db');
    const first = await start(databasePath, { DEALGATE_INSTANCE_ID: 'web-1' });
    await waitUntil(first.healthy, 20000, "the first process's /healthz");
    const second = await start(databasePath, { DEALGATE_SQLITE_WAIT_SECONDS: '1' });
    try {
      expect(await second.proc.exited).toEqual({ code: 1, signal: null });
      expect(second.proc.output()).toContain(`/${first.proc.child.pid}/web-1) uses the SQLite database at ${databasePath} (DATABASE_PATH) and did not stop`);
      expect(await first.healthy()).toBe(true);

      // A clean stop gives the database up: the next process takes it without waiting.
      first.proc.child.kill('SIGTERM');
      expect(await first.proc.exited).toEqual({ code: 0, signal: null });
      const third = await start(databasePath, { DEALGATE_SQLITE_WAIT_SECONDS: '0' });
      try {
        await waitUntil(third.healthy, 20000, "the third process's /healthz");
        // A process that dies holding it (SIGKILL) is taken over at once too: its pid no longer runs.
        third.proc.child.kill('SIGKILL');
        await third.proc.exited;
        const fourth = await start(databasePath, { DEALGATE_SQLITE_WAIT_SECONDS: '0' });
        try {
          await waitUntil(fourth.healthy, 20000, "the fourth process's /healthz");
          expect(fourth.proc.output()).toContain('no longer runs: taken over');
        } finally {
          fourth.proc.child.kill('SIGKILL');
        }
      } finally {
        third.proc.child.kill('SIGKILL');
      }
    } finally {
      first.proc.child.kill('SIGKILL');
      second.proc.child.kill('SIGKILL');
    }
  }, 120_000);

  it('a new version does not migrate the file while the running older one owns it: it waits, then migrates once it is given up', async () => {
    const databasePath = join(dir.path, 'older.db');
    // What a running older version leaves: the schema one migration behind, and its owner lease,
    // live (it names this test's process, which runs) and not expiring while the test runs.
    const olderDb = createDb(databasePath, migrations.slice(0, -1));
    const older = createSqliteStore(olderDb);
    const olderHolder = ownerHolder('web-old');
    await older.workerLeases.acquire(SQLITE_OWNER_LEASE, olderHolder, Date.now(), Date.now() + 600_000);
    const schema = () => olderDb.prepare('SELECT type, name, sql FROM sqlite_master ORDER BY type, name').all();
    const applied = () => olderDb.prepare('SELECT MAX(version) FROM schema_migrations').pluck().get();
    const schemaBefore = schema();
    expect(applied()).toBe(migrations.at(-2)?.version);
    try {
      const refused = await start(databasePath, { DEALGATE_SQLITE_WAIT_SECONDS: '1' });
      expect(await refused.proc.exited).toEqual({ code: 1, signal: null });
      expect(refused.proc.output()).toContain(`another Dealgate process (${olderHolder}) uses the SQLite database at ${databasePath} (DATABASE_PATH) and did not stop`);
      expect(applied()).toBe(migrations.at(-2)?.version);
      expect(schema()).toEqual(schemaBefore);

      // One that waits leaves the file alone while it waits; the older one's clean stop lets it migrate and serve.
      const next = await start(databasePath, { DEALGATE_SQLITE_WAIT_SECONDS: '60' });
      try {
        await waitUntil(() => next.proc.output().includes('waiting for it to stop'), 20000, 'the new process to wait');
        await new Promise((resolve) => setTimeout(resolve, 1500));
        expect(schema()).toEqual(schemaBefore);
        expect(await older.workerLeases.release(SQLITE_OWNER_LEASE, olderHolder)).toBe(true);
        await waitUntil(next.healthy, 20000, "the new process's /healthz");
        expect(applied()).toBe(migrations.at(-1)?.version);
      } finally {
        next.proc.child.kill('SIGKILL');
      }
    } finally {
      await older.close();
    }
  }, 120_000);

  it('two started together on a new file: one migrates it and serves, the other waits without migrating and exits 1 naming it', async () => {
    const databasePath = join(dir.path, 'fresh.db');
    const [a, b] = [await start(databasePath, { DEALGATE_SQLITE_WAIT_SECONDS: '2' }), await start(databasePath, { DEALGATE_SQLITE_WAIT_SECONDS: '2' })];
    try {
      const exits = await Promise.race([a.proc.exited.then((exit) => ({ loser: a, winner: b, exit })), b.proc.exited.then((exit) => ({ loser: b, winner: a, exit }))]);
      expect(exits.exit).toEqual({ code: 1, signal: null });
      // It lost the database to the other process, not a race of the two migrations ("table ... already exists").
      expect(exits.loser.proc.output()).toContain(`/${exits.winner.proc.child.pid}/`);
      expect(exits.loser.proc.output()).toContain('(DATABASE_PATH) and did not stop');
      expect(exits.loser.proc.output()).not.toContain('cannot open the database');
      await waitUntil(exits.winner.healthy, 20000, "the winner's /healthz");
    } finally {
      a.proc.child.kill('SIGKILL');
      b.proc.child.kill('SIGKILL');
    }
  }, 120_000);
});

describe('the service process against the simulator', () => {
  let dir: ReturnType<typeof tempDir>;
  let sim: Simulator;
  beforeEach(async () => {
    dir = tempDir();
    sim = await startSimulator();
  });
  afterEach(async () => {
    await sim.stop();
    dir.cleanup();
  });

  it('runs the workers: a move past the gate is reverted; SIGTERM lets the delivery in flight finish before the database closes', async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const databasePath = join(dir.path, 'dealgate.db');
    sim.webhooks.setTargetUrl(url + '/webhooks/hubspot');
    const proc = startTs('src/server/main.ts', {
      HUBSPOT_CLIENT_SECRET: sim.clientSecret,
      HUBSPOT_ACCESS_TOKEN: sim.accessToken,
      HUBSPOT_API_BASE_URL: sim.url,
      PORT: String(port),
      PUBLIC_BASE_URL: url,
      DATABASE_PATH: databasePath,
    });
    try {
      await waitUntil(async () => (await fetch(`${url}/healthz`)).ok, 20000, '/healthz');
      // The first webhook of the account provisions it (the dealgate properties appear in HubSpot).
      const deal = sim.createDealAsUser({ dealname: 'Acme', dealstage: 'contractsent', pipeline: 'default', amount: '80000' }, { userId: 42 });
      await waitUntil(() => sim.requests.count('POST /crm/v3/properties/deals') > 0 && sim.requests.count('GET /crm/v3/pipelines/deals') > 0, 10000, 'provisioning');
      sim.updateDealAsUser(deal.id, { dealgate_commitment: 'true', dealgate_commitment_summary: 'SSO', dealgate_effort_weeks: '2' }, { userId: 42 });
      await sim.webhooks.idle();

      // The revert's note takes a while to create; SIGTERM arrives meanwhile.
      sim.faults.hangNext(1, { ms: 1000, match: 'POST /crm/v3/objects/notes/batch/create' });
      sim.moveDealToStage(deal.id, 'closedwon', { userId: 42 });
      await waitUntil(() => sim.getDeal(deal.id)?.properties.dealstage === 'contractsent', 10000, 'the revert');
      proc.child.kill('SIGTERM');
      const exit = await proc.exited;
      expect(exit).toEqual({ code: 0, signal: null });

      // The note in flight was created and recorded as delivered before the database closed.
      expect(sim.notesForDeal(deal.id)).toHaveLength(1);
      const db = createDb(databasePath);
      try {
        const outbox = db.prepare<[], { kind: string; status: string }>('SELECT kind, status FROM outbox').all();
        expect(outbox.filter((r) => r.kind === 'create_note')).toEqual([{ kind: 'create_note', status: 'done' }]);
        expect(db.prepare('SELECT COUNT(*) AS n FROM gate_violations').get()).toEqual({ n: 1 });
      } finally {
        db.close();
      }
      const output = proc.output();
      expect(output.indexOf('HTTP server closed; stopping the workers')).toBeGreaterThan(-1);
      expect(output.indexOf('HTTP server closed; stopping the workers')).toBeLessThan(output.lastIndexOf('"stopped"'));
      expect(output).not.toContain(sim.accessToken);
    } finally {
      proc.child.kill('SIGKILL');
    }
  }, SPAWNED_TEST_MS);
});
