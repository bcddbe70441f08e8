import { readServerSources, SERVER_ROOT, type SourceFile } from '../support/layoutRules';

/**
 * Every permit of the account's HubSpot budget is taken through permitOutsidePause
 * (hubspot/rateGovernor.ts), which looks at the pause again once the caller goes on: a caller
 * that drew from the governor directly could send a request during a pause that began between
 * the grant and its request (the reliability suite's "real rolling limit" flake). The search
 * pacer is a governor of its own (searches' secondly limit), drawn beside the account's budget.
 * Read from the source, so a new caller that draws directly fails here.
 */
const DIRECT = /\b(\w*[gG]overnor)\.acquire\(/g;

function directDraws(files: readonly SourceFile[]): string[] {
  const found: string[] = [];
  for (const file of files) {
    const lines = file.text.split('\n');
    // The one place that may: permitOutsidePause itself, from its signature to its closing brace.
    const start = file.path === 'hubspot/rateGovernor.ts' ? lines.findIndex((l) => l.startsWith('export async function permitOutsidePause')) : -1;
    const end = start < 0 ? -1 : lines.findIndex((l, i) => i > start && l === '}');
    lines.forEach((line, i) => {
      for (const match of line.matchAll(DIRECT)) if (!(i > start && i < end)) found.push(`${file.path}:${i + 1}: ${match[0]}`);
    });
  }
  return found;
}

describe('HubSpot permits', () => {
  it('are drawn only through permitOutsidePause in src/server', () => {
    const files = readServerSources(SERVER_ROOT);
    expect(files.some((f) => f.path === 'hubspot/rateGovernor.ts' && f.text.includes('export async function permitOutsidePause'))).toBe(true);
    expect(directDraws(files)).toEqual([]);
  });

  it('the check sees a direct draw, and the helper is the only exception', () => {
    const planted: SourceFile[] = [
      { path: 'workers/someWorker.ts', text: 'async function f() {\n  await ctx.governor.acquire(portalId);\n  await people.governor.acquire(1);\n}' },
      { path: 'hubspot/rateGovernor.ts', text: 'export async function permitOutsidePause(governor, portalId) {\n  do {\n    await governor.acquire(portalId);\n  } while (x);\n}\nfunction other() {\n  governor.acquire(2);\n}' },
    ];
    expect(directDraws(planted)).toEqual(['workers/someWorker.ts:2: governor.acquire(', 'workers/someWorker.ts:3: governor.acquire(', 'hubspot/rateGovernor.ts:7: governor.acquire(']);
  });
});
