import { join } from 'node:path';
import type { Settings } from '../../extensions/contract/api';
import { ManualClock } from '../../src/server/shared/clock';
import { buildDashboard } from '../../src/server/application/dashboard';
import type { GateContext } from '../../src/server/application/context';
import { getGate } from '../../src/server/application/gateService';
import type { HubSpotGateway } from '../../src/server/hubspot/gateway';
import { silentLogger } from '../../src/server/shared/logger';
import { createDb, migrate, type Db } from '../../src/server/storage/db';
import { migrations } from '../../src/server/storage/migrations';
import { createSqliteStore } from '../../src/server/storage/sqliteStore';
import type { Store } from '../../src/server/storage/store';
import { tempDir } from '../support/env';
import { recordQueryPlans, type QueryPlan } from '../support/queryPlans';

/**
 * Issue 12 (data scale): every statement a card load runs (getGate, on a deal Dealgate holds)
 * reads through an index that narrows to the deal, the review or the quarter, never a table scan
 * and never a range over the whole account's history, however much history the account has. The
 * same for the home page, whose account-wide reads are bounded by status or by the quarter. The
 * plans are SQLite's as production gets them (no ANALYZE is ever run), over an account with
 * reviews, decisions, audit rows, violations and flags on many deals.
 */
const PORTAL = 7;
const NOW = Date.UTC(2026, 10, 20, 12, 0, 0);
const DAY = 86_400_000;
const DEALS = 2_000;
const MEASURED = '5000000010';

const settings: Settings = {
  valueThreshold: 50_000,
  slaHours: 48,
  reviewers: ['200'],
  admins: ['900'],
  escalationReviewer: null,
  gateStageLabel: 'Contract sent',
  gateStages: {},
  capacity: { engineerWeeksPerQuarter: 10_000, commitmentShare: 1 },
  amountTolerance: 0.1,
  afterClose: 'revert',
};

/** Years of history on many deals, straight into the tables (as the bench seeds its accounts). */
function seedHistory(db: Db): void {
  const deal = (i: number) => String(5_000_000_000 + i);
  db.transaction(() => {
    const snapshot = db.prepare(`INSERT INTO deal_snapshots (portal_id, deal_id, deal_name, amount, stage, pipeline, commitment, commitment_summary, effort_weeks, owner_id, source_updated_at, refreshed_at)
      VALUES (?, ?, ?, 80000, 'decisionmakerboughtin', 'default', 1, 'Integration', 2, '1', ?, ?)`);
    for (let i = 0; i < DEALS; i++) snapshot.run(PORTAL, deal(i), `Deal ${i}`, NOW - DAY, NOW - DAY);
    const review = db.prepare(`INSERT INTO reviews (portal_id, deal_id, status, summary, effort_weeks, requested_by, requested_at, due_at, closed_at, updated_at)
      VALUES (?, ?, ?, 'Integration', ?, '100', ?, ?, ?, ?) RETURNING id`);
    const decision = db.prepare(`INSERT INTO decisions (portal_id, review_id, outcome, note, quarter, decided_by, decided_at) VALUES (?, ?, ?, '', ?, '200', ?)`);
    const audit = db.prepare(`INSERT INTO audit_log (portal_id, deal_id, review_id, action, actor, at) VALUES (?, ?, ?, 'review_decided', '200', ?)`);
    for (let i = 0; i < 3_000; i++) {
      const at = NOW - (3_000 - i) * DAY;
      const quarter = `${new Date(at).getUTCFullYear()}-Q${Math.floor(new Date(at).getUTCMonth() / 3) + 1}`;
      const waiting = i >= 2_950;
      const { id } = review.get(PORTAL, deal(i % DEALS), waiting ? 'pending' : i % 3 === 2 ? 'rejected' : 'approved', 1 + (i % 4), at, at + 2 * DAY, waiting ? null : at + DAY, at + DAY) as { id: number };
      if (!waiting) decision.run(PORTAL, id, i % 3 === 2 ? 'no' : 'yes', i % 3 === 2 ? null : quarter, at + DAY);
      for (let a = 0; a < 5; a++) audit.run(PORTAL, deal(i % DEALS), id, at + a);
    }
    const violation = db.prepare(`INSERT INTO gate_violations (portal_id, deal_id, from_stage, to_stage, occurred_at, recorded_at) VALUES (?, ?, 'contractsent', 'closedwon', ?, ?)`);
    for (let i = 0; i < 1_500; i++) violation.run(PORTAL, deal(i % DEALS), NOW - i * DAY, NOW - i * DAY);
    const flag = db.prepare(`INSERT INTO deal_flags (portal_id, deal_id, kind, reason, dedupe_key, created_at, resolved_at) VALUES (?, ?, 'backfill', 'found at install', ?, ?, ?)`);
    for (let i = 0; i < 1_000; i++) flag.run(PORTAL, deal(i % DEALS), `flag-${i}`, NOW - i * DAY, i % 2 === 0 ? null : NOW - i * DAY + 1);
  })();
}

/** HubSpot is not called for a deal Dealgate holds: any call fails the load. */
const noHubSpot = new Proxy({} as HubSpotGateway, {
  get: (_target, name) => () => Promise.reject(new Error(`the card path called HubSpot (${String(name)})`)),
});

describe('the card and the home page read through indexes at any account size', () => {
  let dir: ReturnType<typeof tempDir>;
  let db: Db;
  let store: Store;
  let recorder: ReturnType<typeof recordQueryPlans>;
  let ctx: GateContext;

  beforeEach(async () => {
    dir = tempDir();
    // Written as an older schema held them; migration 17 books the approvals on the upgrade.
    db = createDb(join(dir.path, 'db.sqlite'), migrations.filter((m) => m.version < 17));
    seedHistory(db);
    migrate(db, migrations);
    recorder = recordQueryPlans(db);
    store = createSqliteStore(db);
    await store.settings.put(PORTAL, settings, NOW - 400 * DAY, '900');
    await store.pipelines.replaceAll(
      PORTAL,
      [
        {
          id: 'default',
          label: 'Sales Pipeline',
          displayOrder: 0,
          stages: ['decisionmakerboughtin', 'contractsent', 'closedwon'].map((id, i) => ({ id, label: id, displayOrder: i, isClosed: id === 'closedwon', isLost: false })),
        },
      ],
      NOW - DAY,
    );
    ctx = { store, clock: new ManualClock(NOW), defaults: { valueThreshold: 50_000, slaHours: 48, reviewers: ['200'], admins: ['900'], escalationReviewer: undefined, gateStageLabel: 'contract' }, gateway: noHubSpot, logger: silentLogger() };
  });
  afterEach(async () => {
    await store.close();
    dir.cleanup();
  });

  const planText = (plans: QueryPlan[]) => plans.map((p) => `${p.sql}\n    ${p.plan.join(' | ')}`).join('\n');

  it("loads a card through the deal's, the review's and the quarter's keys only", async () => {
    const gate = await getGate(ctx, { portalId: PORTAL, userId: '200' }, MEASURED);
    // The load read what there is: its reviews, history, violations, an open flag and the capacity.
    expect(gate.history.some((e) => e.kind === 'violation')).toBe(true);
    expect(gate.standingFlag?.kind).toBe('backfill');
    expect(gate.capacity?.moreCommitments).toBeGreaterThan(0);
    const plans = recorder.plans();
    const text = planText(plans);
    expect(plans.filter((p) => p.scans)).toEqual([]);
    for (const index of ['sqlite_autoindex_deal_snapshots_1', 'reviews_by_deal', 'audit_by_deal', 'violations_by_deal', 'deal_flags_by_deal', 'capacity_bookings_largest', 'sqlite_autoindex_capacity_quarters_1']) {
      expect(text).toContain(`INDEX ${index} `);
    }
    // No read narrows by the account alone (which would grow with its history); the pipelines,
    // a few rows per account read by their key's prefix, aside.
    const accountWide = plans.filter((p) => !/FROM pipelines /.test(p.sql) && p.plan.some((d) => /\(portal_id=\?\)$/.test(d)));
    expect(accountWide).toEqual([]);
  });

  it('builds the home page by status and by quarter, never over the whole history', async () => {
    // Wins of many quarters for the revenue goal (issue 14), and this quarter's crossing.
    for (let i = 0; i < 400; i++) {
      const wonAt = NOW - i * DAY;
      const quarter = `${new Date(wonAt).getUTCFullYear()}-Q${Math.floor(new Date(wonAt).getUTCMonth() / 3) + 1}`;
      await store.revenue.saveWin(PORTAL, { dealId: String(5_000_000_000 + i), quarter, wonAt, amount: 1000, approved: i % 2 === 0, reviewId: i + 1 }, wonAt);
    }
    await store.revenue.recordCrossing(PORTAL, { quarter: '2026-Q4', dealId: '5000000000', goal: 1000, approvedAmount: 1000, crossedAt: NOW });
    recorder = recordQueryPlans(db);
    await buildDashboard(ctx, { portalId: PORTAL, userId: '900' });
    const plans = recorder.plans();
    expect(plans.filter((p) => p.scans)).toEqual([]);
    const text = planText(plans);
    expect(text).toContain('INDEX sqlite_autoindex_capacity_quarters_1 ');
    expect(text).toContain('INDEX capacity_bookings_largest ');
    // The shared metrics: the quarter's wins, its crossing, its decisions and violations.
    for (const index of ['revenue_wins_by_quarter', 'sqlite_autoindex_revenue_goal_crossings_1', 'decisions_by_portal', 'violations_by_portal']) {
      expect(text).toContain(`INDEX ${index} `);
    }
  });
});
