import type { DashboardResponse, GateResponse, SettingsResponse } from '../../extensions/contract/api';
import { reportCounts } from './counts';
import { card, crmRecord, databaseRows, populate, SHARED_DEAL_ID, startTwoAccounts, type Account, type AccountData, type TwoAccounts } from './twoAccounts';

/**
 * Isolation: two HubSpot accounts, both installed through OAuth, both with data of every kind
 * (settings, reverted moves, violations, notes, reviews pending and decided, inbox and outbox rows),
 * and one deal id that exists in both accounts as two different deals. Through every route that
 * reads (gate, dashboard, settings, ops lists) and the webhook path, one account never sees the
 * other's data, and requests of one account that name the other's deal or review ids change
 * nothing of the other's: its database rows and its HubSpot records are compared before and after.
 */
describe('isolation: two accounts in one Dealgate', () => {
  let world: TwoAccounts;
  let pairs: [Account, AccountData, Account, AccountData][];
  const counts = { requests: 0, refused404: 0, refused403: 0, crossAccountIdsTried: 0 };

  beforeAll(async () => {
    world = await startTwoAccounts();
    const dataA = await populate(world, world.a, 50_000);
    const dataB = await populate(world, world.b, 70_000);
    pairs = [
      [world.a, dataA, world.b, dataB],
      [world.b, dataB, world.a, dataA],
    ];
  });

  afterAll(async () => {
    reportCounts('isolation', counts);
    await world?.stop();
  });

  const as = async <T>(account: Account, userId: string, method: 'GET' | 'POST' | 'PUT', path: string, body?: unknown) => {
    counts.requests += 1;
    const answer = await card<T>(world, account.portalId, userId, method, path, body);
    if (answer.status === 404) counts.refused404 += 1;
    if (answer.status === 403) counts.refused403 += 1;
    return answer;
  };

  /** Everything of `account`: its database rows and its HubSpot records. */
  const holdings = async (account: Account) => ({ rows: await databaseRows(world.stack.databaseEnv, account.portalId), crm: crmRecord(account.sim) });
  const everyone = (account: Account) => [account.people.rep, account.people.reviewer, account.people.admin];

  it('both accounts hold data of every kind, each under its own portal', async () => {
    for (const [own, data] of pairs) {
      const rows = await databaseRows(world.stack.databaseEnv, own.portalId);
      for (const table of ['deal_snapshots', 'gate_violations', 'reviews', 'decisions', 'audit_log', 'outbox', 'webhook_inbox', 'settings', 'accounts', 'pipelines']) {
        expect({ table, rows: (rows[table] ?? []).length > 0 }).toEqual({ table, rows: true });
      }
      for (const dealId of data.violated) expect(own.sim.notesForDeal(dealId)).toHaveLength(1);
    }
  });

  it('gate: the same deal id shows each account its own deal; a deal of the other account is not found, and not fetched into this one', async () => {
    for (const [own, ownData, other] of pairs) {
      for (const userId of everyone(own)) {
        const shared = await as<GateResponse>(own, userId, 'GET', `/deals/${SHARED_DEAL_ID}/gate`);
        expect(shared.status).toBe(200);
        expect(shared.json.portalId).toBe(own.portalId);
        expect(shared.json.deal.name).toBe(own.sim.getDeal(SHARED_DEAL_ID)?.properties.dealname);
        expect(shared.json.deal.amount).toBe(Number(own.sim.getDeal(SHARED_DEAL_ID)?.properties.amount));
        expect(shared.json.gate.threshold).toBe(ownData.threshold);
        expect(shared.json.review?.id).toBe(ownData.pendingReviews[2]);
        for (const dealId of other.ownDeals) {
          counts.crossAccountIdsTried += 1;
          const foreign = await as<{ error: { message: string } }>(own, userId, 'GET', `/deals/${dealId}/gate`);
          expect(foreign.status).toBe(404);
          expect(foreign.json.error.message).not.toContain(other.sim.getDeal(dealId)?.properties.dealname ?? '\u0000');
          expect(await world.stack.store.deals.get(own.portalId, dealId)).toBeUndefined();
        }
      }
    }
  });

  it("dashboard: the queue, decisions, violations and capacity are the account's own; the other account's people are refused", async () => {
    for (const [own, ownData, other, otherData] of pairs) {
      for (const userId of [own.people.admin, own.people.reviewer]) {
        const dashboard = await as<DashboardResponse>(own, userId, 'GET', '/dashboard');
        expect(dashboard.status).toBe(200);
        expect(dashboard.json.queue.map((q) => q.reviewId).sort()).toEqual([...ownData.pendingReviews].sort());
        expect(dashboard.json.queue.map((q) => q.dealName)).not.toContain(other.sim.getDeal(SHARED_DEAL_ID)?.properties.dealname);
        expect(dashboard.json.queue.every((q) => !otherData.pendingReviews.includes(q.reviewId))).toBe(true);
        expect(dashboard.json.decisionsTotal).toBe(1);
        expect(dashboard.json.violationsByUser).toEqual([{ userId: own.people.rep, count: ownData.violated.length, person: expect.objectContaining({ userId: own.people.rep }) }]);
      }
      for (const userId of everyone(other)) {
        const refused = await as(own, userId, 'GET', '/dashboard');
        expect(refused.status).toBe(403);
      }
    }
  });

  it('settings: each account reads its own; the other account’s admin cannot change them; a save changes nothing of the other account', async () => {
    for (const [own, ownData, other, otherData] of pairs) {
      for (const userId of everyone(own)) {
        const settings = await as<SettingsResponse>(own, userId, 'GET', '/settings');
        expect(settings.status).toBe(200);
        expect(settings.json.settings).toEqual(expect.objectContaining({ valueThreshold: ownData.threshold, admins: [own.people.admin], reviewers: [own.people.reviewer] }));
        expect(settings.json.canEdit).toBe(userId === own.people.admin);
      }
      const before = await holdings(other);
      const mine = (await as<SettingsResponse>(own, own.people.admin, 'GET', '/settings')).json.settings;
      const refused = await as(own, other.people.admin, 'PUT', '/settings', { ...mine, admins: [other.people.admin], valueThreshold: 1 });
      expect(refused.status).toBe(403);
      // A real save by the account's own admin (same threshold, so nothing is re-evaluated) stays in the account.
      const saved = await as<SettingsResponse>(own, own.people.admin, 'PUT', '/settings', { ...mine, slaHours: mine.slaHours === 48 ? 47 : 48 });
      expect(saved.status).toBe(200);
      expect(await holdings(other)).toEqual(before);
      expect((await as<SettingsResponse>(other, other.people.admin, 'GET', '/settings')).json.settings.valueThreshold).toBe(otherData.threshold);
    }
  });

  it("reviews: deciding, withdrawing or requesting on the other account's review and deal ids is not found and changes nothing there", async () => {
    for (const [own, , other, otherData] of pairs) {
      const before = await holdings(other);
      const ownBefore = await holdings(own);
      for (const reviewId of [...otherData.pendingReviews, otherData.approvedReview]) {
        counts.crossAccountIdsTried += 1;
        for (const body of [{ outcome: 'yes', note: 'from the wrong account' }, { outcome: 'no', note: 'from the wrong account' }]) {
          expect((await as(own, own.people.reviewer, 'POST', `/reviews/${reviewId}/decision`, body)).status).toBe(404);
        }
        expect((await as(own, own.people.rep, 'POST', `/reviews/${reviewId}/withdraw`, {})).status).toBe(404);
        expect((await as(own, own.people.admin, 'POST', `/reviews/${reviewId}/withdraw`)).status).toBe(404);
      }
      for (const dealId of other.ownDeals) {
        counts.crossAccountIdsTried += 1;
        expect((await as(own, own.people.rep, 'POST', `/deals/${dealId}/reviews`, { summary: 'wrong account', effortWeeks: 1 })).status).toBe(404);
      }
      await world.settle();
      expect(await holdings(other)).toEqual(before);
      expect(await holdings(own)).toEqual(ownBefore);
    }
  });

  it("ops lists: filtered by account, every inbox event and outbox row shown is that account's", async () => {
    for (const [own, , other] of pairs) {
      const ownDeals = new Set([...own.ownDeals, SHARED_DEAL_ID]);
      const inbox = await world.stack.ops<{ events: { portalId: number; objectId: string }[] }>(`/ops/inbox?portalId=${own.portalId}&limit=500`);
      expect(inbox.status).toBe(200);
      expect(inbox.json.events.length).toBeGreaterThan(0);
      expect(inbox.json.events.filter((e) => e.portalId !== own.portalId || !ownDeals.has(e.objectId))).toEqual([]);
      const outbox = await world.stack.ops<{ rows: { portalId: number; dealId: string | null }[] }>(`/ops/outbox?portalId=${own.portalId}&limit=500`);
      expect(outbox.status).toBe(200);
      expect(outbox.json.rows.length).toBeGreaterThan(0);
      expect(outbox.json.rows.filter((r) => r.portalId !== own.portalId || (r.dealId !== null && !ownDeals.has(r.dealId)))).toEqual([]);
      // The other account's only deals never appear under this account.
      expect(outbox.json.rows.some((r) => r.dealId !== null && other.ownDeals.includes(r.dealId))).toBe(false);
      counts.requests += 2;
    }
  });

  it('webhook path: a move in one account acts on that account only, also on the deal id both accounts have', async () => {
    for (const [own, , other] of pairs) {
      const before = await holdings(other);
      const notesBefore = own.sim.notesForDeal(SHARED_DEAL_ID).length;
      own.sim.moveDealToStage(SHARED_DEAL_ID, 'closedwon', { userId: Number(own.people.rep) });
      await world.settle();
      expect(own.sim.getDeal(SHARED_DEAL_ID)?.properties.dealstage).toBe('contractsent');
      expect(own.sim.notesForDeal(SHARED_DEAL_ID)).toHaveLength(notesBefore + 1);
      expect(await holdings(other)).toEqual(before);
    }
  });

  it("webhook path: a signed event of one account naming a deal only the other account has acts on neither", async () => {
    for (const [own, , other] of pairs) {
      const before = await holdings(other);
      const ownCrm = crmRecord(own.sim);
      const events = other.ownDeals.map((dealId, i) => ({
        eventId: 9_000_000 + own.portalId % 1000 + i,
        subscriptionId: 1,
        portalId: own.portalId,
        appId: own.sim.appId,
        occurredAt: Date.now(),
        subscriptionType: 'deal.propertyChange',
        attemptNumber: 0,
        objectId: Number(dealId),
        propertyName: 'dealstage',
        propertyValue: 'closedwon',
        changeSource: 'CRM_UI',
        sourceId: `userId:${own.people.rep}`,
      }));
      const answer = await world.stack.postWebhook(JSON.stringify(events));
      counts.requests += 1;
      counts.crossAccountIdsTried += events.length;
      // HubSpot signed it, so it is taken; what it names is looked up in the account it came from.
      expect(answer.status).toBe(200);
      await world.settle();
      expect(await holdings(other)).toEqual(before);
      expect(crmRecord(own.sim)).toEqual(ownCrm);
      for (const dealId of other.ownDeals) {
        expect(await world.stack.store.deals.get(own.portalId, dealId)).toBeUndefined();
        expect(await world.stack.store.gateViolations.listForDeal(own.portalId, dealId)).toEqual([]);
      }
    }
  });
});
