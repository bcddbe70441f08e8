import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { startSimulator, type Simulator, type SimulatorOptions } from '../../src/simulator';
import { DEALGATE_PROPERTIES, DEALGATE_PROPERTY_GROUP } from '../../src/server/application/dealgateProperties';
import { freePort, repoRoot, startEntry, type BenchProcess } from './processes';

/**
 * HubSpot (the simulator, in this process) and the Dealgate service as deployed (src/server/main.ts
 * in its own process, optionally pinned to a core), wired together: the service's HubSpot base URL
 * is the simulator and the simulator's webhooks go to the service. Used by the benchmarks and the
 * reliability suite, which needs a process it can SIGKILL and start again on the same database.
 */
export const REP = { email: 'riley.rep@example.com', firstName: 'Riley', lastName: 'Rep', userId: 1001 };
export const REVIEWER = { email: 'casey.cto@example.com', firstName: 'Casey', lastName: 'Chen', userId: 1002 };
export const ADMIN = { email: 'morgan.revops@example.com', firstName: 'Morgan', lastName: 'Ops', userId: 1003 };
export const ESCALATION = { email: 'erin.eng@example.com', firstName: 'Erin', lastName: 'Eng', userId: 1004 };

/** In the default sales pipeline the gate is "Contract sent"; Closed won lies past it. */
export const GATE_STAGE = 'contractsent';
export const BEFORE_GATE = 'decisionmakerboughtin';
export const PAST_GATE = 'closedwon';
export const THRESHOLD = 50_000;

export interface World {
  sim: Simulator;
  /** The service's base URL (also its PUBLIC_BASE_URL). */
  url: string;
  dbPath: string;
  /** Where the service's database is, as it reads it: DATABASE_PATH, and DATABASE_URL when `env` gave one (PostgreSQL). */
  databaseEnv: Record<string, string>;
  service: () => BenchProcess | undefined;
  /** Starts the service (again) on the same database and port. */
  startService: () => Promise<BenchProcess>;
  /** SIGKILL: no shutdown, no flush, like a crash or an OOM kill. */
  killService: () => Promise<void>;
  stopService: () => Promise<void>;
  stop: () => Promise<void>;
  /** A gated deal: commitment present, amount above the threshold. */
  seedGatedDeal: (stage?: string, extra?: Record<string, string>) => string;
}

export interface WorldOptions {
  core?: number | undefined;
  rateLimitPerTenSeconds?: number;
  /** Extra service environment. */
  env?: Record<string, string>;
  /** The service entry: src/server/main.ts (default), or bench/servers/service.ts (main's wiring with a settable HubSpot budget). */
  entry?: string;
  sim?: Partial<SimulatorOptions>;
  name: string;
}

export async function startWorld(options: WorldOptions): Promise<World> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const sim = await startSimulator({
    owners: [REP, REVIEWER, ADMIN, ESCALATION],
    webhookTargetUrl: `${url}/webhooks/hubspot`,
    ...(options.rateLimitPerTenSeconds !== undefined ? { rateLimitPerTenSeconds: options.rateLimitPerTenSeconds } : {}),
    ...(options.sim ?? {}),
  });
  seedDealgateProperties(sim);
  const dbPath = join(repoRoot, 'bench/tmp', `${options.name}-${process.pid}-${port}.db`);
  const env: Record<string, string> = {
    PORT: String(port),
    PUBLIC_BASE_URL: url,
    DATABASE_PATH: dbPath,
    HUBSPOT_CLIENT_SECRET: sim.clientSecret,
    HUBSPOT_ACCESS_TOKEN: sim.accessToken,
    HUBSPOT_API_BASE_URL: sim.url,
    DEALGATE_VALUE_THRESHOLD: String(THRESHOLD),
    DEALGATE_REVIEWERS: String(REVIEWER.userId),
    DEALGATE_ADMINS: String(ADMIN.userId),
    DEALGATE_ESCALATION_REVIEWER: String(ESCALATION.userId),
    LOG_LEVEL: 'warn',
    ...(options.env ?? {}),
  };

  let service: BenchProcess | undefined;
  const startService = async () => {
    const started = await startEntry({ entry: options.entry ?? 'src/server/main.ts', env, core: options.core, ready: null });
    service = started;
    let ready = false;
    const died = started.exited.then(({ code, signal }) => {
      if (!ready) throw new Error(`the service exited (${code ?? signal}) before it was ready:\n${started.output()}`);
    });
    await Promise.race([waitReady(url), died]);
    ready = true;
    return started;
  };
  return {
    sim,
    url,
    dbPath,
    databaseEnv: { DATABASE_PATH: dbPath, ...(env.DATABASE_URL ? { DATABASE_URL: env.DATABASE_URL } : {}) },
    service: () => service,
    startService,
    killService: async () => {
      if (!service) return;
      service.child.kill('SIGKILL');
      await service.exited;
      service = undefined;
    },
    stopService: async () => {
      await service?.stop();
      service = undefined;
    },
    stop: async () => {
      await service?.stop();
      service = undefined;
      await sim.stop();
      for (const suffix of ['', '-wal', '-shm']) rmSync(dbPath + suffix, { force: true });
    },
    seedGatedDeal: gatedDealSeeder(sim),
  };
}

/** The commitment properties exist before deals carry them (the service's provisioning finds them: 409 is fine). */
export function seedDealgateProperties(sim: Simulator): void {
  sim.seedPropertyGroup('deals', DEALGATE_PROPERTY_GROUP);
  for (const p of DEALGATE_PROPERTIES) {
    sim.seedProperty('deals', {
      name: p.name,
      label: p.label,
      type: p.type,
      fieldType: p.fieldType,
      groupName: DEALGATE_PROPERTY_GROUP.name,
      description: p.description,
      ...(p.options ? { options: p.options } : {}),
    });
  }
}

/** Seeds gated deals into `sim` (commitment present, amount above the threshold), numbered from 1. */
export function gatedDealSeeder(sim: Simulator): (stage?: string, extra?: Record<string, string>) => string {
  let nextDeal = 0;
  return (stage = GATE_STAGE, extra = {}) => {
    nextDeal += 1;
    return sim.seedDeal({
      properties: {
        dealname: `Gated deal ${nextDeal}`,
        amount: '80000',
        dealstage: stage,
        pipeline: 'default',
        dealgate_commitment: 'true',
        dealgate_commitment_summary: `Custom integration #${nextDeal}`,
        dealgate_effort_weeks: '3',
        ...extra,
      },
      userId: REP.userId,
    }).id;
  };
}

/** Polls /readyz until the service answers 200. */
export async function waitReady(url: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const res = await fetch(`${url}/readyz`);
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`service at ${url} not ready after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Resolves when `check` holds, polling every `everyMs`. */
export async function until(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string, everyMs = 5): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
