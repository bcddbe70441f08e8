import { Button, EmptyState, ErrorState, LoadingSpinner, ProgressBar, StatisticsItem, TableRow, Text } from '@hubspot/ui-extensions';
import { createRenderer, type Renderer } from '@hubspot/ui-extensions/testing';
import { DealDeskHome } from '../../extensions/home/DealDeskHome';
import type { GateResponse, SettingsResponse } from '../../extensions/contract/api';
import { startLiveService, users, type LiveService } from './support/liveService';
import { fire, reads, says, WAIT } from './cardHarness';

let live: LiveService;
beforeEach(async () => {
  live = await startLiveService();
});
afterEach(async () => {
  await live.close();
});

const HOUR = 3_600_000;

function openHome(userId: string): Renderer<'home'> {
  const renderer = createRenderer('home');
  renderer.render(<DealDeskHome fetcher={live.fetcherFor(userId)} baseUrl={live.url} userId={userId} />);
  return renderer;
}

async function openLoadedHome(userId: string): Promise<Renderer<'home'>> {
  const renderer = openHome(userId);
  await renderer.waitFor(() => expect(renderer.findByTestId(StatisticsItem, 'stat-waiting')).toBeDefined(), WAIT);
  return renderer;
}

async function request(name: string, summary: string): Promise<{ dealId: string; reviewId: number }> {
  const dealId = live.seedDeal({ dealname: name, dealstage: 'qualifiedtobuy', amount: '80000' });
  const r = await live.call<GateResponse>(users.rep, 'POST', `/api/v1/deals/${dealId}/reviews`, { summary, effortWeeks: 3 });
  expect(r.status).toBe(201);
  return { dealId, reviewId: r.json.review?.id ?? 0 };
}

async function decide(reviewId: number, body: Record<string, unknown>) {
  expect((await live.call(users.reviewer, 'POST', `/api/v1/reviews/${reviewId}/decision`, body)).status).toBe(200);
}

const number = (renderer: Renderer<'home'>, testId: string) => renderer.findByTestId(StatisticsItem, testId).props.number;

describe('the deal-desk home page', () => {
  it('shows the queue, the quarter’s decisions, time to decision, SLA compliance, capacity and violations, from the service’s records', async () => {
    const current = await live.call<SettingsResponse>(users.admin, 'GET', '/api/v1/settings');
    await live.call(users.admin, 'PUT', '/api/v1/settings', { ...current.json.settings, capacity: { engineerWeeksPerQuarter: 40, commitmentShare: 0.25 } });

    const answeredFast = await request('Globex', 'Audit log export');
    const answeredLate = await request('Initech', 'On-prem install');
    const waitingLong = await request('Umbrella', 'HIPAA report');
    live.clock.advance(2 * HOUR);
    await decide(answeredFast.reviewId, { outcome: 'yes' }); // 2 h, within the 48 h SLA
    live.clock.advance(47 * HOUR);
    const waitingShort = await request('Hooli', 'Custom SSO');
    live.clock.advance(1 * HOUR);
    await decide(answeredLate.reviewId, { outcome: 'no', note: 'a quarter of work' }); // 50 h: late
    // A user drags a deal with a commitment past the gate (Contract Sent) without sign-off: Dealgate reverts it and counts it.
    const skipped = live.stack.sim.seedDeal({
      properties: { dealname: 'Stark', dealstage: 'contractsent', amount: '90000', dealgate_commitment: 'true', dealgate_commitment_summary: 'Custom API', dealgate_effort_weeks: '2' },
    });
    live.stack.sim.moveDealToStage(skipped.id, 'closedwon', { userId: Number(users.otherRep) });
    await live.stack.settle();
    expect(live.stack.sim.getDeal(skipped.id)?.properties.dealstage).toBe('contractsent');

    const renderer = openHome(users.reviewer);
    expect(renderer.findByTestId(LoadingSpinner, 'home-loading')).toBeDefined();
    await renderer.waitFor(() => expect(renderer.findByTestId(StatisticsItem, 'stat-waiting')).toBeDefined(), WAIT);
    expect(number(renderer, 'stat-waiting')).toBe('2');
    expect(number(renderer, 'stat-overdue')).toBe('1');
    expect(number(renderer, 'stat-decisions')).toBe('2');
    expect(says(renderer, StatisticsItem, 'stat-decisions')).toBe('1 yes, 0 yes-but, 1 no');
    expect(number(renderer, 'stat-median')).toBe('26 h');
    // One of two decisions in time, and Umbrella still waiting past its due time is a miss too: 1 of 3.
    expect(number(renderer, 'stat-sla')).toBe('33%');

    // Overdue first, then by time left.
    const rows = renderer.findAll(TableRow).filter((r) => String(r.props.testId ?? '').startsWith('queue-'));
    expect(rows.map((r) => r.props.testId)).toEqual([`queue-${waitingLong.reviewId}`, `queue-${waitingShort.reviewId}`]);
    expect(reads(renderer, TableRow, `queue-${waitingLong.reviewId}`)).toBe('Umbrella | 80,000 | HIPAA report (3 weeks) | Grace Hopper | [Overdue by 2 h]');
    expect(reads(renderer, TableRow, `queue-${waitingShort.reviewId}`)).toContain('Due in 1 d 23 h');

    // The yes consumed 3 of the quarter's 10 weeks.
    expect(renderer.findByTestId(ProgressBar, 'capacity-bar').props).toMatchObject({ value: 3, maxValue: 10 });
    expect(reads(renderer, TableRow, `violation-${users.otherRep}`)).toBe('Alan Turing | 1');
    expect(renderer.findByTestId(Text, 'home-as-of').text).toContain('2026-11-04 11:00 UTC');
  });

  it('says so when no review is waiting and nothing was decided yet', async () => {
    const renderer = await openLoadedHome(users.admin);
    expect(renderer.findByTestId(EmptyState, 'queue-empty')).toBeDefined();
    expect(number(renderer, 'stat-median')).toBe('none yet');
    expect(number(renderer, 'stat-sla')).toBe('none yet');
    expect(renderer.findByTestId(Text, 'violations-none')).toBeDefined();
    expect(renderer.maybeFindByTestId(ProgressBar, 'capacity-bar')).toBeNull();
  });

  it('is forbidden to a rep, with the service’s reason', async () => {
    const renderer = openHome(users.rep);
    await renderer.waitFor(() => expect(renderer.findByTestId(ErrorState, 'home-forbidden')).toBeDefined(), WAIT);
    expect(says(renderer, ErrorState, 'home-forbidden')).toContain('the deal-desk dashboard is for admins and reviewers');
  });

  it('shows a refused request with a retry, and loads on retry', async () => {
    live.signatureSkewMs = 10 * 60_000;
    const renderer = openHome(users.reviewer);
    await renderer.waitFor(() => expect(renderer.findByTestId(ErrorState, 'home-error')).toBeDefined(), WAIT);
    live.signatureSkewMs = 0;
    fire(renderer.findByTestId(Button, 'home-retry'), 'onClick');
    await renderer.waitFor(() => expect(renderer.findByTestId(StatisticsItem, 'stat-waiting')).toBeDefined(), WAIT);
  });
});
