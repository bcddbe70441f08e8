import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { buildSync } from 'esbuild';

export const repoRoot = resolve(__dirname, '../..');

/** Whether `taskset` exists here: the service goes on one core, the load generator on the other. */
export function canPin(): boolean {
  try {
    execFileSync('taskset', ['-p', String(process.pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Moves every thread of this process (the load generator) onto `core`. */
export function pinSelf(core: number): boolean {
  try {
    execFileSync('taskset', ['-a', '-cp', String(core), String(process.pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** A free loopback port (shared with the tests' process helpers). */
export { freePort } from '../../tests/support/process';

export interface BenchProcess {
  child: ChildProcess;
  pid: number;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM, then SIGKILL after `graceMs`. */
  stop: (graceMs?: number) => Promise<void>;
}

const SETPRIV = '/usr/bin/setpriv';

const compiledEntries = new Map<string, string>();

/**
 * The entry compiled to one CommonJS file (our TypeScript bundled by esbuild, packages required
 * from node_modules as installed), once per run. Services are measured as `npm start` runs them,
 * compiled: under tsx the measured process also carried the TypeScript loader (an ESM hooks
 * thread, about 20 MiB of RSS, and its CPU on the pinned core).
 */
export function compiledEntry(entry: string): string {
  let outfile = compiledEntries.get(entry);
  if (!outfile) {
    outfile = resolve(repoRoot, 'bench/tmp/compiled', entry.replace(/\.ts$/, '.cjs'));
    buildSync({
      entryPoints: [resolve(repoRoot, entry)],
      outfile,
      bundle: true,
      packages: 'external',
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      logLevel: 'warning',
    });
    compiledEntries.set(entry, outfile);
  }
  return outfile;
}

/**
 * Starts a TypeScript entry, compiled (compiledEntry), pinned to `core` when given (taskset execs
 * node, so the pid is node's: its /proc status is the service's own). Resolves once `ready`
 * matches its output.
 */
export async function startEntry(options: {
  entry: string;
  args?: string[];
  env?: Record<string, string>;
  core?: number;
  /** Output that means ready; null: do not wait (the caller polls the process itself). */
  ready?: RegExp | null;
  timeoutMs?: number;
  /** SIGKILL the process when this one dies (setpriv --pdeathsig, where it exists), so a killed test leaves none behind. */
  dieWithParent?: boolean;
}): Promise<BenchProcess> {
  // BENCH_NODE_ARGS: extra node flags for every service and baseline (e.g. --cpu-prof), to profile a run.
  const extra = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const nodeArgs = [...extra, compiledEntry(options.entry), ...(options.args ?? [])];
  const pinned = options.core !== undefined ? ['taskset', '-c', String(options.core), process.execPath, ...nodeArgs] : [process.execPath, ...nodeArgs];
  // setpriv execs what follows (as taskset does), so the child's pid stays node's.
  const [command, ...args] = options.dieWithParent === true && existsSync(SETPRIV) ? [SETPRIV, '--pdeathsig', 'SIGKILL', '--', ...pinned] : pinned;
  const child = spawn(command as string, args, {
    cwd: repoRoot,
    env: { PATH: process.env.PATH ?? '', ...(options.env ?? {}) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) => child.on('exit', (code, signal) => done({ code, signal })));
  const ready = options.ready === undefined ? /ready/ : options.ready;
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  if (ready) await new Promise<void>((resolveReady, reject) => {
    const timer = setTimeout(() => reject(new Error(`${options.entry} not ready after ${options.timeoutMs ?? 20_000} ms:\n${output}`)), options.timeoutMs ?? 20_000);
    const onData = () => {
      if (ready.test(output)) {
        clearTimeout(timer);
        resolveReady();
      }
    };
    child.stdout?.on('data', () => setImmediate(onData));
    child.stderr?.on('data', () => setImmediate(onData));
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`${options.entry} exited (${code ?? signal}) before it was ready:\n${output}`));
    });
  });
  return {
    child,
    pid: child.pid ?? 0,
    output: () => output,
    exited,
    stop: async (graceMs = 5_000) => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}
