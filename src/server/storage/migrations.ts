/**
 * Numbered migrations, applied in order at start and recorded in schema_migrations.
 * Never edit a migration that has shipped: add the next number. (One exception, with no effect on
 * files that applied it: migration 14 says CREATE TABLE IF NOT EXISTS, since storage/db.ts openDb
 * makes worker_leases before any migration runs, for the owner lease.)
 * Every table that holds account data carries portal_id, and every query filters on it.
 */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const migrations: Migration[] = [
  {
    version: 1,
    name: 'foundation',
    sql: `
CREATE TABLE accounts (
  portal_id          INTEGER PRIMARY KEY,
  auth_mode          TEXT    NOT NULL CHECK (auth_mode IN ('oauth', 'static')),
  access_token_enc   TEXT,
  refresh_token_enc  TEXT,
  token_expires_at   INTEGER,
  scopes             TEXT,
  installed_at       INTEGER NOT NULL,
  provisioned_at     INTEGER,
  updated_at         INTEGER NOT NULL
);

-- One row per account: the validated settings document (JSON), first filled from DEALGATE_* defaults.
CREATE TABLE settings (
  portal_id   INTEGER PRIMARY KEY,
  document    TEXT    NOT NULL,
  updated_at  INTEGER NOT NULL,
  updated_by  TEXT
);

-- The pipelines of an account as last read from HubSpot (stages, order, closed flags).
CREATE TABLE pipelines (
  portal_id    INTEGER NOT NULL,
  pipeline_id  TEXT    NOT NULL,
  document     TEXT    NOT NULL,
  fetched_at   INTEGER NOT NULL,
  PRIMARY KEY (portal_id, pipeline_id)
);

-- Dealgate's copy of the deal facts the gate needs, kept current from webhooks.
CREATE TABLE deal_snapshots (
  portal_id           INTEGER NOT NULL,
  deal_id             TEXT    NOT NULL,
  deal_name           TEXT,
  amount              REAL,
  stage               TEXT,
  pipeline            TEXT,
  commitment          INTEGER NOT NULL DEFAULT 0,
  commitment_summary  TEXT,
  effort_weeks        REAL,
  owner_id            TEXT,
  deleted             INTEGER NOT NULL DEFAULT 0,
  source_updated_at   INTEGER NOT NULL,
  refreshed_at        INTEGER NOT NULL,
  PRIMARY KEY (portal_id, deal_id)
);

CREATE TABLE reviews (
  id                   INTEGER PRIMARY KEY AUTOINCREMENT,
  portal_id            INTEGER NOT NULL,
  deal_id              TEXT    NOT NULL,
  status               TEXT    NOT NULL CHECK (status IN ('pending', 'overdue', 'approved', 'approved_with_conditions', 'rejected', 'withdrawn', 'superseded')),
  summary              TEXT    NOT NULL,
  effort_weeks         REAL    NOT NULL,
  needed_by            TEXT,
  amount_at_request    REAL,
  requested_by         TEXT    NOT NULL,
  requested_at         INTEGER NOT NULL,
  due_at               INTEGER NOT NULL,
  escalated_at         INTEGER,
  closed_at            INTEGER,
  deprioritized_at     INTEGER,
  deprioritized_for    INTEGER REFERENCES reviews(id),
  updated_at           INTEGER NOT NULL
);
CREATE INDEX reviews_by_deal ON reviews (portal_id, deal_id, id);
CREATE INDEX reviews_by_status ON reviews (portal_id, status, due_at);

CREATE TABLE decisions (
  id                     INTEGER PRIMARY KEY AUTOINCREMENT,
  portal_id              INTEGER NOT NULL,
  review_id              INTEGER NOT NULL UNIQUE REFERENCES reviews(id),
  outcome                TEXT    NOT NULL CHECK (outcome IN ('yes', 'yes_but', 'no')),
  note                   TEXT    NOT NULL,
  extra_weeks            REAL,
  tradeoff               TEXT,
  deprioritized_review_id INTEGER REFERENCES reviews(id),
  quarter                TEXT,
  decided_by             TEXT    NOT NULL,
  decided_at             INTEGER NOT NULL
);
CREATE INDEX decisions_by_portal ON decisions (portal_id, decided_at);

-- Append-only: every transition (who, when, from, to, why). Triggers refuse edits.
CREATE TABLE audit_log (
  id           INTEGER PRIMARY KEY AUTOINCREMENT,
  portal_id    INTEGER NOT NULL,
  deal_id      TEXT    NOT NULL,
  review_id    INTEGER,
  action       TEXT    NOT NULL,
  actor        TEXT    NOT NULL,
  from_status  TEXT,
  to_status    TEXT,
  reason       TEXT,
  details      TEXT,
  at           INTEGER NOT NULL
);
CREATE INDEX audit_by_deal ON audit_log (portal_id, deal_id, id);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
  BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
  BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;

-- What HubSpot sent and we acknowledged; event_key deduplicates redeliveries.
CREATE TABLE webhook_inbox (
  id                 INTEGER PRIMARY KEY AUTOINCREMENT,
  portal_id          INTEGER NOT NULL,
  event_key          TEXT    NOT NULL,
  object_id          TEXT    NOT NULL,
  subscription_type  TEXT    NOT NULL,
  property_name      TEXT,
  property_value     TEXT,
  change_source      TEXT,
  source_id          TEXT,
  occurred_at        INTEGER NOT NULL,
  payload            TEXT    NOT NULL,
  received_at        INTEGER NOT NULL,
  status             TEXT    NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'done', 'parked')),
  attempts           INTEGER NOT NULL DEFAULT 0,
  next_attempt_at    INTEGER NOT NULL DEFAULT 0,
  last_error         TEXT,
  processed_at       INTEGER,
  UNIQUE (portal_id, event_key)
);
CREATE INDEX inbox_pending ON webhook_inbox (status, next_attempt_at, portal_id, object_id, occurred_at);

-- Side effects on HubSpot, written in the same transaction as the state change that causes them.
CREATE TABLE outbox (
  id               INTEGER PRIMARY KEY AUTOINCREMENT,
  portal_id        INTEGER NOT NULL,
  deal_id          TEXT,
  kind             TEXT    NOT NULL,
  payload          TEXT    NOT NULL,
  dedupe_key       TEXT,
  status           TEXT    NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'done', 'failed')),
  attempts         INTEGER NOT NULL DEFAULT 0,
  next_attempt_at  INTEGER NOT NULL DEFAULT 0,
  last_error       TEXT,
  created_at       INTEGER NOT NULL,
  completed_at     INTEGER,
  UNIQUE (portal_id, dedupe_key)
);
CREATE INDEX outbox_pending ON outbox (status, next_attempt_at, portal_id);

CREATE TABLE gate_violations (
  id                INTEGER PRIMARY KEY AUTOINCREMENT,
  portal_id         INTEGER NOT NULL,
  deal_id           TEXT    NOT NULL,
  moved_by_user_id  TEXT,
  source_type       TEXT,
  source_id         TEXT,
  from_stage        TEXT    NOT NULL,
  to_stage          TEXT    NOT NULL,
  occurred_at       INTEGER NOT NULL,
  recorded_at       INTEGER NOT NULL,
  inbox_event_id    INTEGER UNIQUE REFERENCES webhook_inbox(id)
);
CREATE INDEX violations_by_portal ON gate_violations (portal_id, occurred_at);
`,
  },
  {
    version: 2,
    name: 'webhook batch journal',
    // The webhook route appends each verified, validated batch here as received (one row per
    // request, so acknowledging costs one insert); the inbox worker moves its events into
    // webhook_inbox (deduplicated there) and deletes the batch, in one transaction.
    sql: `
CREATE TABLE webhook_batches (
  id           INTEGER PRIMARY KEY,
  received_at  INTEGER NOT NULL,
  body         BLOB    NOT NULL
);
`,
  },
  {
    version: 3,
    name: 'inbox pending index in arrival order',
    // With portal_id and object_id in it, each new inbox row went to a random place in the index
    // (by deal id), which costs a page read per row once the index outgrows the cache: about a
    // fifth of expanding a batch. Without them new rows append (occurred_at grows); the index
    // still serves due(), nextDueAt() and countByStatus(), and the retry-waiting lookup reads its
    // few rows from the table.
    sql: `
DROP INDEX inbox_pending;
CREATE INDEX inbox_pending ON webhook_inbox (status, next_attempt_at, occurred_at);
`,
  },
  {
    version: 4,
    name: 'the gate holds on every path',
    // Approvals are bound to the amount they were given at; an approval superseded on a won deal
    // keeps its weeks booked until the changed commitment is decided. The snapshot keeps HubSpot's
    // home-currency amount. Violations say what Dealgate did (moved back or flagged) and what
    // revealed them. Settings changes are audited field by field; flags list deals past the gate
    // that Dealgate did not move (won under afterClose=flag, found by the install sweep, caught by
    // tightened rules) and passages under a relaxed rule.
    sql: `
ALTER TABLE reviews ADD COLUMN approved_amount REAL;
ALTER TABLE reviews ADD COLUMN keeps_booking INTEGER NOT NULL DEFAULT 0;
UPDATE reviews SET approved_amount = amount_at_request WHERE status IN ('approved', 'approved_with_conditions');
ALTER TABLE deal_snapshots ADD COLUMN amount_home REAL;
ALTER TABLE gate_violations ADD COLUMN action TEXT NOT NULL DEFAULT 'reverted';
ALTER TABLE gate_violations ADD COLUMN cause TEXT NOT NULL DEFAULT 'stage_move';
ALTER TABLE gate_violations ADD COLUMN changed_property TEXT;

CREATE TABLE settings_changes (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  portal_id   INTEGER NOT NULL,
  changed_by  TEXT    NOT NULL,
  changed_at  INTEGER NOT NULL,
  before_doc  TEXT    NOT NULL,
  after_doc   TEXT    NOT NULL,
  fields      TEXT    NOT NULL,
  effect      TEXT    NOT NULL
);
CREATE INDEX settings_changes_by_portal ON settings_changes (portal_id, id);

CREATE TABLE deal_flags (
  id                  INTEGER PRIMARY KEY AUTOINCREMENT,
  portal_id           INTEGER NOT NULL,
  deal_id             TEXT    NOT NULL,
  kind                TEXT    NOT NULL CHECK (kind IN ('after_close', 'backfill', 'rules_tightened', 'relaxed_passage')),
  reason              TEXT    NOT NULL,
  settings_change_id  INTEGER REFERENCES settings_changes(id),
  dedupe_key          TEXT    NOT NULL,
  created_at          INTEGER NOT NULL,
  resolved_at         INTEGER,
  resolution          TEXT,
  UNIQUE (portal_id, dedupe_key)
);
CREATE INDEX deal_flags_open ON deal_flags (portal_id, resolved_at, id);
CREATE INDEX deal_flags_by_deal ON deal_flags (portal_id, deal_id);
`,
  },
  {
    version: 5,
    name: 'tasks the outbox created, by cause',
    // Review and escalation tasks are completed when their review is closed. An outbox row now
    // says what it belongs to (`cause`, e.g. `review:12`), and outbox_tasks keeps the HubSpot id of
    // every task a create_task row made (found by its reference too, after an unknown outcome), so
    // a complete_tasks row knows which tasks to close. Rows queued before this have the review in
    // their dedupe key (`review:<id>:...`).
    sql: `
ALTER TABLE outbox ADD COLUMN cause TEXT;
UPDATE outbox SET cause = substr(dedupe_key, 1, 6 + instr(substr(dedupe_key, 8), ':'))
  WHERE kind = 'create_task' AND dedupe_key GLOB 'review:[0-9]*:*';
CREATE INDEX outbox_by_cause ON outbox (portal_id, cause, kind) WHERE cause IS NOT NULL;

CREATE TABLE outbox_tasks (
  portal_id     INTEGER NOT NULL,
  task_id       TEXT    NOT NULL,
  outbox_id     INTEGER NOT NULL REFERENCES outbox(id),
  cause         TEXT,
  deal_id       TEXT    NOT NULL,
  recorded_at   INTEGER NOT NULL,
  completed_at  INTEGER,
  gone_at       INTEGER,
  PRIMARY KEY (portal_id, task_id)
);
CREATE INDEX outbox_tasks_by_cause ON outbox_tasks (portal_id, cause);
`,
  },
  {
    version: 6,
    name: 'sweeps of HubSpot',
    // Where each account's sweeps stand (storage/sweepStore.ts): the install backfill (once per
    // account, resumable page by page) and the periodic reconciliation (its watermark of HubSpot
    // modification times). Their deals become inbox events, deduplicated like webhooks.
    sql: `
CREATE TABLE deal_sweeps (
  portal_id    INTEGER NOT NULL,
  kind         TEXT    NOT NULL CHECK (kind IN ('backfill', 'reconcile')),
  run          INTEGER NOT NULL DEFAULT 0,
  status       TEXT    NOT NULL CHECK (status IN ('pending', 'running', 'finished')),
  started_at   INTEGER,
  finished_at  INTEGER,
  checked      INTEGER NOT NULL DEFAULT 0,
  total        INTEGER,
  inserted     INTEGER NOT NULL DEFAULT 0,
  cursor       TEXT,
  watermark    INTEGER,
  next_at      INTEGER NOT NULL DEFAULT 0,
  attempts     INTEGER NOT NULL DEFAULT 0,
  last_error   TEXT,
  updated_at   INTEGER NOT NULL,
  PRIMARY KEY (portal_id, kind)
);
`,
  },
  {
    version: 7,
    name: 'complete the tasks of reviews closed before tasks were completed',
    // Since migration 5 a review's reviewer and escalation tasks are completed when it is decided,
    // withdrawn or superseded (a complete_tasks row queued with the change). Reviews that closed
    // before that have no such row, so their tasks would stay open in HubSpot for good: queue one
    // for each closed review that had tasks created, as the change would have (same dedupe key, so
    // nothing is queued twice). The outbox finds those tasks by their reference. A deleted deal's
    // tasks are left as they are.
    sql: `
INSERT OR IGNORE INTO outbox (portal_id, deal_id, kind, payload, dedupe_key, cause, created_at, next_attempt_at)
SELECT r.portal_id, r.deal_id, 'complete_tasks', json_object('cause', 'review:' || r.id), 'review:' || r.id || ':complete_tasks', 'review:' || r.id,
       CAST(strftime('%s', 'now') AS INTEGER) * 1000, 0
  FROM reviews r
 WHERE r.status NOT IN ('pending', 'overdue')
   AND EXISTS (SELECT 1 FROM outbox o WHERE o.portal_id = r.portal_id AND o.cause = 'review:' || r.id AND o.kind = 'create_task')
   AND NOT EXISTS (SELECT 1 FROM deal_snapshots s WHERE s.portal_id = r.portal_id AND s.deal_id = r.deal_id AND s.deleted = 1)
 ORDER BY r.id;
`,
  },
  {
    version: 8,
    name: 'outbox rows of one deal',
    // The gate reads a deal's pending writes for every event it judges (a review request's
    // commitment not yet delivered must not look removed). Through the pending index that read
    // scanned every pending row of the service, so a bulk move of N deals cost N^2.
    sql: `
CREATE INDEX outbox_by_deal ON outbox (portal_id, deal_id, status, kind);
`,
  },
  {
    version: 9,
    name: 'single-use card signatures and OAuth states',
    // Every card request that changes something is accepted once per signature
    // (storage/seenSignatureStore.ts): a replay inside HubSpot's 5-minute window is refused,
    // across restarts and across instances sharing the database. `status` is the answer given
    // (NULL while the request runs); rows are pruned once their timestamp is out of the window.
    // The OAuth install's state is single-use likewise (storage/oauthStateStore.ts). Neither table
    // holds account data (no portal id): a signature or a state is not an account's.
    sql: `
CREATE TABLE seen_signatures (
  signature  TEXT    NOT NULL PRIMARY KEY,
  signed_at  INTEGER NOT NULL,
  seen_at    INTEGER NOT NULL,
  status     INTEGER
) WITHOUT ROWID;
CREATE INDEX seen_signatures_by_time ON seen_signatures (signed_at);
CREATE TABLE used_oauth_states (
  nonce       TEXT    NOT NULL PRIMARY KEY,
  expires_at  INTEGER NOT NULL,
  used_at     INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX used_oauth_states_by_expiry ON used_oauth_states (expires_at);
`,
  },
  {
    version: 10,
    name: 'outbox calls in flight',
    // When the latest call carrying a row was sent, while nothing has told Dealgate how it ended
    // (no answer yet, a timeout, a 504, a reset, the process gone): HubSpot may still apply it.
    // Written before the call and kept across restarts, so that a note or task in doubt is looked
    // for until such a call can no longer land, instead of being created a second time.
    sql: `
ALTER TABLE outbox ADD COLUMN in_flight_since INTEGER;
`,
  },
  {
    version: 11,
    name: 'approved commitments by quarter',
    // The capacity view of the card and the home page reads one quarter's commitments; without
    // this it read every approval the account ever made (100,000 rows at 200,000 reviews) per load.
    sql: `
CREATE INDEX decisions_by_quarter ON decisions (portal_id, quarter);
`,
  },
  {
    version: 12,
    name: 'booked weeks of a quarter from the index',
    // The capacity view sums a quarter's booked weeks and picks its largest commitments in SQL;
    // this index carries what the decisions side needs (outcome, review, extra weeks, decision
    // time), so the sum reads no decision row. It starts with decisions_by_quarter's columns,
    // which it replaces.
    sql: `
DROP INDEX decisions_by_quarter;
CREATE INDEX decisions_booked ON decisions (portal_id, quarter, outcome, review_id, extra_weeks, decided_at);
`,
  },
  {
    version: 13,
    name: 'pending inbox events by account',
    // due() and nextDueAt() leave out the accounts whose share is being applied; through
    // inbox_pending alone that read (and sorted) every pending event of the account left out, so
    // while account A had 100,000 events pending each round held the event loop 100-400 ms and
    // account B's webhook, events and revert waited behind it (issue 12, noisy neighbour). Per
    // account, a fresh event's entry (next_attempt_at 0) sits in occurred order: read in order, no sort.
    sql: `
CREATE INDEX inbox_pending_by_account ON webhook_inbox (status, portal_id, next_attempt_at, occurred_at);
`,
  },
  {
    version: 14,
    name: 'worker leases',
    // The SLA escalation and the sweeps run on one instance at a time among those sharing the
    // database (issue 13): each holds a lease (storage/workerLeaseStore.ts) that it renews while it
    // works, gives up at a clean stop, and that another instance takes once it has expired.
    // IF NOT EXISTS: on SQLite the table is made before any migration (storage/db.ts openDb), since
    // the `sqlite-owner` lease in it must be held before a process migrates the file.
    sql: `
CREATE TABLE IF NOT EXISTS worker_leases (
  name         TEXT    NOT NULL PRIMARY KEY,
  holder       TEXT    NOT NULL,
  acquired_at  INTEGER NOT NULL,
  renewed_at   INTEGER NOT NULL,
  expires_at   INTEGER NOT NULL
) WITHOUT ROWID;
`,
  },
  {
    version: 15,
    name: 'claims of deals and outbox rows by instance',
    // Several instances on one database (issue 13). deal_claims: the deals whose inbox events an
    // instance is applying, each held by one instance until its lease (expires_at) ends, so a
    // dead instance's deals are taken over. outbox.claimed_by and claim_token: which instance
    // holds a claimed row, and which claim of it (counted up at every claim, never down), so a
    // delivery's later marks apply only while the row is still its own (a slow instance whose
    // lease ran out cannot overwrite the taker's outcome), and a restart recovers only its own.
    sql: `
CREATE TABLE deal_claims (
  portal_id   INTEGER NOT NULL,
  object_id   TEXT    NOT NULL,
  holder      TEXT    NOT NULL,
  expires_at  INTEGER NOT NULL,
  PRIMARY KEY (portal_id, object_id)
) WITHOUT ROWID;
CREATE INDEX deal_claims_by_holder ON deal_claims (holder, portal_id);
ALTER TABLE outbox ADD COLUMN claimed_by TEXT;
ALTER TABLE outbox ADD COLUMN claim_token INTEGER NOT NULL DEFAULT 0;
`,
  },
  {
    version: 16,
    name: 'one HubSpot budget per account across instances',
    // HubSpot's limits are per app and account (110 requests per rolling 10 s, 5 searches a
    // second), so every instance on the database draws its permits from one row per account and
    // limit (storage/hubspotBudgetStore.ts), and a 429 one of them gets pauses all of them.
    // Versions 14 and 15 belong to other work of issue 13; gaps are fine (applied by set).
    sql: `
CREATE TABLE hubspot_budgets (
  portal_id     INTEGER NOT NULL,
  policy        TEXT    NOT NULL CHECK (policy IN ('TEN_SECONDLY_ROLLING', 'SECONDLY')),
  version       INTEGER NOT NULL,
  reservations  TEXT    NOT NULL,
  paused_until  INTEGER NOT NULL,
  slow_until    INTEGER NOT NULL,
  recent_429s   INTEGER NOT NULL,
  updated_at    INTEGER NOT NULL,
  PRIMARY KEY (portal_id, policy)
) WITHOUT ROWID;
`,
  },
  {
    version: 17,
    name: 'running capacity totals per quarter; violations and open flags by deal',
    // The capacity view summed a quarter's booked weeks on every card and home load, visiting each
    // of the quarter's approvals (about 2,000 at 200,000 reviews: the largest cost of a card load at
    // data scale, issue 12). capacity_bookings holds what each approval books now and
    // capacity_quarters the running sum per quarter, both kept by storage/capacityBookingStore.ts
    // in the transaction of every write that books or releases; filled here from the rows as they
    // are (the same rule as BOOKED_WHERE there). decisions_booked served only that sum.
    // A deal's violations and open flags were read through indexes by account alone
    // (violations_by_portal; deal_flags_open), which grow with the account's history.
    sql: `
CREATE TABLE capacity_bookings (
  portal_id    INTEGER NOT NULL,
  review_id    INTEGER NOT NULL REFERENCES reviews(id),
  quarter      TEXT    NOT NULL,
  micro_weeks  INTEGER NOT NULL,
  decided_at   INTEGER NOT NULL,
  PRIMARY KEY (portal_id, review_id)
);
CREATE INDEX capacity_bookings_largest ON capacity_bookings (portal_id, quarter, micro_weeks DESC, decided_at, review_id);
CREATE TABLE capacity_quarters (
  portal_id    INTEGER NOT NULL,
  quarter      TEXT    NOT NULL,
  micro_weeks  INTEGER NOT NULL,
  commitments  INTEGER NOT NULL,
  PRIMARY KEY (portal_id, quarter)
);
INSERT INTO capacity_bookings (portal_id, review_id, quarter, micro_weeks, decided_at)
SELECT r.portal_id, r.id, d.quarter, CAST(ROUND((r.effort_weeks + COALESCE(d.extra_weeks, 0)) * 1000000) AS INTEGER), d.decided_at
  FROM decisions d JOIN reviews r ON r.id = d.review_id AND r.portal_id = d.portal_id
 WHERE d.outcome IN ('yes', 'yes_but') AND d.quarter IS NOT NULL AND r.deprioritized_at IS NULL
   AND (r.status IN ('approved', 'approved_with_conditions') OR (r.status = 'superseded' AND r.keeps_booking = 1));
INSERT INTO capacity_quarters (portal_id, quarter, micro_weeks, commitments)
SELECT portal_id, quarter, SUM(micro_weeks), COUNT(*) FROM capacity_bookings GROUP BY portal_id, quarter;
DROP INDEX decisions_booked;
CREATE INDEX violations_by_deal ON gate_violations (portal_id, deal_id, occurred_at, id);
DROP INDEX deal_flags_by_deal;
CREATE INDEX deal_flags_by_deal ON deal_flags (portal_id, deal_id, resolved_at, id);
`,
  },
  {
    version: 18,
    name: 'deliveries: what engineering said yes to, owned and dated',
    // Issue 14: a yes or yes-but becomes a delivery (domain/delivery.ts), one per approved review,
    // with its change history. Dates are calendar days (YYYY-MM-DD, UTC). `first_promised_quarter`
    // is the quarter of the first promised date, written with the row, so the on-time rate per
    // quarter is one aggregate over an index (never every delivery of the account read into the
    // process). The home page lists open commitments by promised date, and the SLA worker's round
    // looks for ones past their date not yet noted: both through partial indexes of the unsettled.
    sql: `
CREATE TABLE deliveries (
  portal_id               INTEGER NOT NULL,
  review_id               INTEGER NOT NULL,
  deal_id                 TEXT    NOT NULL,
  owner_user_id           TEXT    NOT NULL,
  status                  TEXT    NOT NULL CHECK (status IN ('planned', 'in_progress', 'at_risk', 'delivered', 'slipped', 'deprioritized')),
  promised_date           TEXT    NOT NULL,
  first_promised_date     TEXT    NOT NULL,
  first_promised_quarter  TEXT    NOT NULL,
  work_item_url           TEXT,
  delivered_day           TEXT,
  delivered_at            INTEGER,
  overdue_noted_at        INTEGER,
  created_at              INTEGER NOT NULL,
  updated_at              INTEGER NOT NULL,
  PRIMARY KEY (portal_id, review_id)
);
CREATE INDEX deliveries_open_by_promise ON deliveries (portal_id, promised_date, review_id) WHERE status NOT IN ('delivered', 'deprioritized');
CREATE INDEX deliveries_overdue_unnoted ON deliveries (promised_date) WHERE overdue_noted_at IS NULL AND status NOT IN ('delivered', 'deprioritized');
CREATE INDEX deliveries_on_time ON deliveries (portal_id, first_promised_quarter, status, delivered_day, first_promised_date, promised_date);
CREATE TABLE delivery_changes (
  id             INTEGER PRIMARY KEY AUTOINCREMENT,
  portal_id      INTEGER NOT NULL,
  review_id      INTEGER NOT NULL,
  at             INTEGER NOT NULL,
  changed_by     TEXT    NOT NULL,
  status         TEXT    NOT NULL,
  promised_date  TEXT    NOT NULL,
  owner_user_id  TEXT    NOT NULL,
  work_item_url  TEXT,
  reason         TEXT
);
CREATE INDEX delivery_changes_by_review ON delivery_changes (portal_id, review_id, id);
`,
  },
  {
    version: 19,
    name: 'provision existing accounts again for the delivery properties',
    // Migration 18's deliveries write three new deal properties (dealgate_delivery_status,
    // dealgate_promised_date, dealgate_delivery_owner), which the provisioner creates only while
    // an account is not yet provisioned: an account provisioned before would refuse every deal
    // write that carries them (HubSpot answers 400 for a property that does not exist, and one
    // deal's writes go out together). Its next contact provisions it again: the properties that
    // exist answer 409, which counts as done, and the pipelines are read again.
    sql: `
UPDATE accounts SET provisioned_at = NULL;
`,
  },
  {
    version: 20,
    name: 'reviews of post-sales work on won deals',
    // A review is of the deal's commitment (pre_sales, the gate's) or of customization and
    // implementation work asked for once the deal is won (post_sales, issue 14): booked against the
    // same customer share, never what the gate holds the deal to. Every earlier review was pre-sales.
    sql: `
ALTER TABLE reviews ADD COLUMN kind TEXT NOT NULL DEFAULT 'pre_sales' CHECK (kind IN ('pre_sales', 'post_sales'));
`,
  },
  {
    version: 21,
    name: 'revenue goal: won deals engineering approved, and the crossing of the goal',
    // Issue 14, shared metrics: each deal seen in a won stage is recorded once (its win's quarter,
    // amount, whether an approval covered it, and the review), so the quarter's progress toward
    // engineering's revenue goal is one indexed aggregate; leaving the won stage removes it. The
    // crossing of a quarter's goal is one row per account and quarter, written in the transaction
    // that queues the note on the deal that crossed it: one note, whatever retries or instances do.
    sql: `
CREATE TABLE revenue_wins (
  portal_id    INTEGER NOT NULL,
  deal_id      TEXT    NOT NULL,
  quarter      TEXT    NOT NULL,
  won_at       INTEGER NOT NULL,
  amount       REAL    NOT NULL,
  approved     INTEGER NOT NULL,
  review_id    INTEGER,
  recorded_at  INTEGER NOT NULL,
  PRIMARY KEY (portal_id, deal_id)
);
CREATE INDEX revenue_wins_by_quarter ON revenue_wins (portal_id, quarter, approved, won_at, deal_id, amount, review_id);
CREATE TABLE revenue_goal_crossings (
  portal_id        INTEGER NOT NULL,
  quarter          TEXT    NOT NULL,
  deal_id          TEXT    NOT NULL,
  goal             REAL    NOT NULL,
  approved_amount  REAL    NOT NULL,
  crossed_at       INTEGER NOT NULL,
  PRIMARY KEY (portal_id, quarter)
);
`,
  },
  {
    version: 22,
    name: 'the Triad: views on a review and the call made against them',
    // Issue 14 (storage/triadStore.ts): every view a Triad member gives is kept (the latest of each
    // person counts, the history keeps all), and the decision maker's call is recorded with its
    // disagree-and-commit mark and the dissent as it stood, so the card and the note show what
    // was overruled even after the settings name other people. Versions 20 and 21 belong to other
    // work of issue 14; gaps are fine (applied by set).
    sql: `
CREATE TABLE triad_perspectives (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  portal_id   INTEGER NOT NULL,
  review_id   INTEGER NOT NULL,
  user_id     TEXT    NOT NULL,
  role        TEXT    NOT NULL CHECK (role IN ('tech_lead', 'product_manager', 'product_marketing')),
  stance      TEXT    NOT NULL,
  note        TEXT    NOT NULL,
  weeks       REAL,
  value       REAL,
  at          INTEGER NOT NULL
);
CREATE INDEX triad_perspectives_by_review ON triad_perspectives (portal_id, review_id, id);
CREATE TABLE triad_calls (
  portal_id            INTEGER NOT NULL,
  review_id            INTEGER NOT NULL,
  decided_by           TEXT    NOT NULL,
  decided_at           INTEGER NOT NULL,
  disagree_and_commit  INTEGER NOT NULL CHECK (disagree_and_commit IN (0, 1)),
  dissent              TEXT    NOT NULL,
  not_weighed_in       TEXT    NOT NULL,
  PRIMARY KEY (portal_id, review_id)
);
`,
  },
  {
    version: 23,
    name: 'people: the account\'s HubSpot users and owners, cached for names',
    // Issue 15: the account's people (HubSpot owners: user id, owner id, names, email) as last read
    // from GET /crm/v3/owners, so notes, the card and the pickers show names. Shared by the
    // instances on this database; `people_refreshes` says when an account's list was last read, so
    // one refresh per interval serves them all (application/people.ts).
    sql: `
CREATE TABLE people (
  portal_id   INTEGER NOT NULL,
  user_id     TEXT    NOT NULL,
  owner_id    TEXT,
  first_name  TEXT,
  last_name   TEXT,
  email       TEXT,
  PRIMARY KEY (portal_id, user_id)
);
CREATE TABLE people_refreshes (
  portal_id     INTEGER PRIMARY KEY,
  refreshed_at  INTEGER NOT NULL
);
`,
  },
  {
    version: 24,
    name: 'absences with a delegate, and the reminders and second-level escalations sent for reviews',
    // Issue 15. An absence routes a reviewer's requests and reminders to the delegate from
    // starts_at until ends_at (cancelled_at set: ended early, kept for the record). A row of
    // review_reminders is written in the transaction that enqueues the reminder (or the
    // escalation to the admins), and its key makes that happen once per review and point, across
    // restarts and instances.
    sql: `
CREATE TABLE absences (
  id                INTEGER PRIMARY KEY AUTOINCREMENT,
  portal_id         INTEGER NOT NULL,
  user_id           TEXT    NOT NULL,
  delegate_user_id  TEXT    NOT NULL,
  starts_at         INTEGER NOT NULL,
  ends_at           INTEGER NOT NULL,
  created_by        TEXT    NOT NULL,
  created_at        INTEGER NOT NULL,
  cancelled_at      INTEGER,
  cancelled_by      TEXT,
  CHECK (ends_at > starts_at)
);
CREATE INDEX absences_by_end ON absences (portal_id, ends_at) WHERE cancelled_at IS NULL;
CREATE TABLE review_reminders (
  portal_id  INTEGER NOT NULL,
  review_id  INTEGER NOT NULL,
  point      TEXT    NOT NULL,
  sent_at    INTEGER NOT NULL,
  PRIMARY KEY (portal_id, review_id, point)
);
`,
  },
  {
    version: 25,
    name: 'break-glasses: one deal let past the gate without review, time-boxed',
    // Issue 15: who let the deal pass, why, until when, and how it ended (expired with no
    // decision, or decided within the box). One open per deal (the partial unique index); the
    // expiry round reads the open ones by their end.
    sql: `
CREATE TABLE break_glasses (
  id         INTEGER PRIMARY KEY AUTOINCREMENT,
  portal_id  INTEGER NOT NULL,
  deal_id    TEXT    NOT NULL,
  opened_by  TEXT    NOT NULL,
  reason     TEXT    NOT NULL,
  opened_at  INTEGER NOT NULL,
  until_at   INTEGER NOT NULL,
  closed_at  INTEGER,
  closed_as  TEXT    CHECK (closed_as IN ('expired', 'decided'))
);
CREATE UNIQUE INDEX break_glasses_one_open ON break_glasses (portal_id, deal_id) WHERE closed_at IS NULL;
CREATE INDEX break_glasses_open_by_end ON break_glasses (until_at, id) WHERE closed_at IS NULL;
CREATE INDEX break_glasses_by_deal ON break_glasses (portal_id, deal_id, id);
CREATE INDEX break_glasses_by_opening ON break_glasses (portal_id, opened_at);
`,
  },
  {
    version: 26,
    name: 'inbox: the index of pending events by due time holds only the retried ones',
    // Issue 13 (SQLite keeps its speed): every stored event wrote two pending indexes, of which
    // inbox_pending (status, next_attempt_at, occurred_at) now serves two reads only, both about
    // retried events (the deals waiting for a retry; the next due time, once no fresh event waits).
    // Fresh events (next_attempt_at 0) no longer enter it: a webhook batch's expansion writes one
    // B-tree fewer per event.
    sql: `
DROP INDEX inbox_pending;
CREATE INDEX inbox_retrying ON webhook_inbox (status, next_attempt_at) WHERE status = 'pending' AND next_attempt_at > 0;
`,
  },
  {
    version: 27,
    name: 'people: who has been deactivated in HubSpot',
    // Issue 15's leftover: a user deactivated in HubSpot leaves the owners list (their owner is
    // archived), and every note, history entry and audit reason that names them showed their id.
    // The refresh also reads the archived owners; they are kept for names only, flagged, and never
    // offered in a picker or accepted in the settings (application/people.ts).
    sql: `
ALTER TABLE people ADD COLUMN deactivated INTEGER NOT NULL DEFAULT 0;
`,
  },
];
