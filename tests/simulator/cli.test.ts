import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '../support/process';

/** `npm run simulator` as a newcomer meets it: --help, and a wrong flag. */
describe('simulator command line', () => {
  const run = (...args: string[]) =>
    spawnSync(join(repoRoot, 'node_modules/.bin/tsx'), [join(repoRoot, 'src/simulator/cli.ts'), ...args], { encoding: 'utf8', timeout: 30_000 });

  it('prints its usage for --help and exits 0 without starting', () => {
    const result = run('--help');
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('usage: npm run simulator --');
    expect(result.stdout).toContain('--webhook-target URL');
    expect(result.stdout).not.toContain('listening');
  });

  it('names an unknown flag, prints the usage and exits 2', () => {
    const result = run('--bogus');
    expect(result.status).toBe(2);
    expect(result.stderr).toContain("Unknown option '--bogus'");
    expect(result.stderr).toContain('usage: npm run simulator --');
  });
});
