import { spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';

/** Whether a process is still there; a zombie (exited, not yet reaped by whoever adopted it) is gone. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}

it('the embedded PostgreSQL dies with the process that started it, even a SIGKILLed one', async () => {
  // `node --import tsx` runs the TypeScript in this very process (tsx's CLI would add a process between).
  const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, '..', 'support', 'embeddedPostgresChild.ts')], {
    cwd: join(__dirname, '..', '..'),
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`child exited (${code}) before starting PostgreSQL`)));
  });
  const { pid, dataDir } = JSON.parse(line) as { pid: number; dataDir: string };
  try {
    expect(alive(pid)).toBe(true);
    child.kill('SIGKILL');
    const deadline = Date.now() + 5000;
    while (alive(pid) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(alive(pid)).toBe(false);
  } finally {
    if (alive(pid)) process.kill(pid, 'SIGKILL');
    rmSync(dirname(dataDir), { recursive: true, force: true });
  }
}, 30_000);
