import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { runDemo } from '../../scripts/demo/story';
import type { GateResponse } from '../../extensions/contract/api';
import { DEFAULTS } from '../../src/simulator';
import { cardRequest } from '../support/cardClient';
import { repoRoot, startTs, waitUntil } from '../support/process';

/**
 * `npm run demo` as a newcomer runs it: the real command in a child process, its exit code and
 * what it prints; a broken HubSpot side makes it fail naming the step; --keep leaves a service
 * that answers requests signed with the caller's own clock, and Ctrl-C stops it cleanly.
 */
const STEP_HEADINGS = [
  'Step 1 — A rep moves a deal with a custom commitment to Closed Won; Dealgate moves it back',
  'Step 2 — The rep requests a review from the card',
  'Step 3 — Engineering answers "yes, but" (+2 weeks, a tradeoff); the deal moves on',
  'Step 4 — A second deal gets a no and stays blocked until the commitment is removed',
  'Step 5 — The admin breaks the glass: a deal that must close tonight passes the gate without review, for 24 h',
  'Step 6 — An unanswered review goes overdue and escalates',
  'Step 7 — The break-glass box closes with no decision: Dealgate moves the deal back',
  'Step 8 — The capacity ledger fills; a new approval must deprioritize an older one',
  'Step 9 — Engineering owns what it said yes to: one delivery slips and the rep is told, one is delivered on time',
  'Step 10 — Capacity sales can see: customer work next to maintenance, what a request would leave, post-sales work on a won deal',
  "Step 11 — Engineering's revenue goal is reached when a deal it approved is won",
  'Step 12 — The Triad: every view heard, the product manager makes the call against a dissent (disagree and commit)',
  'Step 13 — The reviewer is away: Morgan Moss (VP engineering, escalations) covers, is asked, and decides for them',
  "Step 14 — People by name: notes and cards name people, and settings pick them from the account's users",
  'Step 15 — The deal desk dashboard',
];

function databasePathIn(output: string): string {
  const path = /temp database (\S+\.db)/.exec(output)?.[1];
  if (!path) throw new Error(`no temp database path in the output:\n${output}`);
  return path;
}

// The whole story runs in real time (13 s of a 30 s budget on a 2-core machine under load), in a
// child process that tsx compiles first: the budgets leave room for a slower machine.
const DEMO_TEST_MS = 90_000;

describe('npm run demo', () => {
  it('plays every step, checks it, exits 0 and deletes its temp database', async () => {
    const child = spawn('npm', ['run', '--silent', 'demo'], { cwd: repoRoot, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));

    expect({ code, output }).toEqual({ code: 0, output: expect.any(String) });
    for (const heading of STEP_HEADINGS) expect(output).toContain(heading);
    expect(output).not.toContain('✗');
    expect(output).toMatch(/Every step behaved as told \(\d+ checks passed\)/);
    // What the card shows, rendered with the tests' text renderer, at the turning points.
    expect(output).toContain('│ [Review required]');
    expect(output).toContain('│ [Waiting for engineering]');
    expect(output).toContain('│ [Approved with conditions]');
    expect(output).toContain('│ [Rejected]');
    expect(output).toContain('│ [Review overdue]');
    expect(output).toContain('│ ! warning: This commitment was deprioritized');
    expect(output).toContain('│ == Deal desk, ');
    expect(output).toContain('│ Why it slipped: ');
    expect(output).toContain('│ ! success: Revenue goal reached');
    expect(output).toContain('│ == Revenue against the goal ==');
    expect(output).toContain('│ ! warning: Disagree and commit');
    expect(existsSync(databasePathIn(output))).toBe(false);
  }, DEMO_TEST_MS);

  it('fails naming the step when HubSpot does not behave (every write refused)', async () => {
    let output = '';
    const run = await runDemo({
      write: (text) => (output += text),
      // Reads answer (batch reads are POSTs); every write is refused with a 400, which retrying
      // cannot cure, so Dealgate gives the revert up at once. A 5xx or a failing read would only make
      // Dealgate wait for HubSpot (an outage delays, never drops), so the story could not reach its check.
      beforeStory: (stack) =>
        stack.sim.faults.failNext(1_000_000, { status: 400, match: (request) => request.method !== 'GET' && !request.endpoint.endsWith('/batch/read') }),
    });
    await run.world.stop();
    expect(run.ok).toBe(false);
    expect(run.failure?.step).toBe(STEP_HEADINGS[0]);
    expect(run.failure?.check).toContain('then back');
    expect(output).toContain(`✗ ${STEP_HEADINGS[0]} failed: HubSpot's stage history`);
    expect(output).not.toContain('Step 2 —');
  }, DEMO_TEST_MS);

  it('exits 2 with the usage on an unknown argument, starting nothing', async () => {
    const demo = startTs('scripts/demo.ts', {}, ['--kep']);
    expect(await demo.exited).toEqual({ code: 2, signal: null });
    expect(demo.output()).toContain("Unknown option '--kep'");
    expect(demo.output()).toContain('usage: npm run demo [-- --keep]');
    expect(demo.output()).not.toContain('Step 1');
  }, DEMO_TEST_MS);

  it('--keep leaves the service answering signed requests on real time until Ctrl-C', async () => {
    const demo = startTs('scripts/demo.ts', {}, ['--keep']);
    try {
      await waitUntil(() => demo.output().includes('Ctrl-C stops both'), 60_000, 'the --keep banner');
      const output = demo.output();
      const service = /Dealgate service: +(http:\/\/127\.0\.0\.1:\d+) +\(/.exec(output)?.[1] ?? '';
      const portal = Number(/portal (\d+),/.exec(output)?.[1]);
      const dealId = /--user \d+ GET \/api\/v1\/deals\/(\d+)\/gate/.exec(output)?.[1] ?? '';
      expect({ service, portal }).toEqual({ service: expect.stringMatching(/^http:/), portal: DEFAULTS.portalId });

      // Signed with this process's clock, as the printed example does it.
      const gate = await cardRequest<GateResponse>(service, DEFAULTS.clientSecret, { method: 'GET', path: `/api/v1/deals/${dealId}/gate`, userId: '100', portalId: portal });
      expect(gate.status).toBe(200);
      expect(gate.json.gate.status).toBe('overdue');

      demo.child.kill('SIGINT');
      expect(await demo.exited).toEqual({ code: 0, signal: null });
      expect(existsSync(databasePathIn(demo.output()))).toBe(false);
    } finally {
      if (demo.child.exitCode === null) demo.child.kill('SIGKILL');
    }
  }, DEMO_TEST_MS);
});
