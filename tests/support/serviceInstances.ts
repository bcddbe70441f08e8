import { startEntry, type BenchProcess } from '../../bench/lib/processes';
import { waitReady } from '../../bench/lib/world';
import { freePort } from './process';

/**
 * Several Dealgate service processes (src/server/main.ts, compiled as `npm start` runs it) sharing
 * one environment (one database, one public URL behind a load balancer), each with its own port
 * and DEALGATE_INSTANCE_ID. Each process runs under a parent-death signal (setpriv --pdeathsig), so
 * a test process killed outright leaves no instance running against the database. An instance
 * keeps its slot's port and id across restarts, as a pod of a StatefulSet does.
 */
export interface ServiceInstance {
  /** The slot's DEALGATE_INSTANCE_ID. */
  id: string;
  port: number;
  url: string;
  /** The running process, when up. */
  process: () => BenchProcess | undefined;
  /** How many times this slot's process has been started. */
  starts: () => number;
}

export interface ServiceInstances {
  instances: ServiceInstance[];
  /** Starts the slot's process (again) and resolves once /readyz answers 200. */
  start: (index: number) => Promise<void>;
  /** SIGKILL: no shutdown, no flush, like an OOM kill or a lost node. */
  kill: (index: number) => Promise<void>;
  /** SIGTERM every running process (SIGKILL after a grace period). */
  stopAll: () => Promise<void>;
  /** Every process's output so far (for a failure message). */
  output: () => string;
}

export async function startServiceInstances(options: {
  count: number;
  /** What every instance shares: DATABASE_URL, PUBLIC_BASE_URL, secrets, HubSpot's base URL... */
  env: Record<string, string>;
  /** Prefix of each slot's DEALGATE_INSTANCE_ID (`<prefix>-0`, `<prefix>-1`, ...). */
  idPrefix?: string;
  entry?: string;
  /** Pin every instance to this core (the bench). */
  core?: number | undefined;
}): Promise<ServiceInstances> {
  const entry = options.entry ?? 'src/server/main.ts';
  const slots = await Promise.all(
    Array.from({ length: options.count }, async (_, index) => {
      const port = await freePort();
      return { id: `${options.idPrefix ?? 'dealgate'}-${index}`, port, url: `http://127.0.0.1:${port}`, running: undefined as BenchProcess | undefined, starts: 0, log: '' };
    }),
  );
  const slot = (index: number) => {
    const found = slots[index];
    if (!found) throw new Error(`no service instance ${index} (there are ${slots.length})`);
    return found;
  };
  const start = async (index: number) => {
    const s = slot(index);
    if (s.running) throw new Error(`instance ${s.id} is already running`);
    const env = { ...options.env, PORT: String(s.port), HOST: '127.0.0.1', DEALGATE_INSTANCE_ID: s.id };
    const started = await startEntry({ entry, env, ready: null, dieWithParent: true, ...(options.core !== undefined ? { core: options.core } : {}) });
    s.running = started;
    s.starts += 1;
    const died = started.exited.then(({ code, signal }) => {
      throw new Error(`instance ${s.id} exited (${code ?? signal}) before it was ready:\n${started.output()}`);
    });
    await Promise.race([waitReady(s.url, 60_000), died]);
    died.catch(() => undefined);
  };
  const kill = async (index: number) => {
    const s = slot(index);
    const running = s.running;
    if (!running) return;
    running.child.kill('SIGKILL');
    await running.exited;
    s.log += running.output();
    s.running = undefined;
  };
  return {
    instances: slots.map((s) => ({ id: s.id, port: s.port, url: s.url, process: () => s.running, starts: () => s.starts })),
    start,
    kill,
    stopAll: async () => {
      await Promise.all(
        slots.map(async (s) => {
          await s.running?.stop();
          s.log += s.running?.output() ?? '';
          s.running = undefined;
        }),
      );
    },
    output: () => slots.map((s) => `--- ${s.id}\n${s.log}${s.running?.output() ?? ''}`).join('\n'),
  };
}
