import type { WriteCheck } from './db';
/**
 * The narrow interface between Dealgate and its database. The domain never sees it (the domain
 * is pure); the application services and workers call it. Every repository is written once over
 * a SqlSession (sql.ts), so SQLite (sqliteStore.ts) and PostgreSQL run the same queries; every
 * method returns a Promise.
 *
 * Every method that touches account data takes the portal id and filters on it.
 */
import type { InboxRepository } from './inboxStore';
import type { ViolationRepository } from './violationStore';
import type { OutboxRepository } from './outboxStore';
import type { SettingsRepository } from './settingsStore';
import type { PipelineRepository } from './pipelineStore';
import type { DealSnapshotRepository } from './dealSnapshotStore';
import type { ReviewRepository } from './reviewStore';
import type { AuditRepository } from './auditStore';
import type { SweepRepository } from './sweepStore';
import type { SettingsChangeRepository } from './settingsChangeStore';
import type { DealFlagRepository } from './dealFlagStore';
import type { SeenSignatureRepository } from './seenSignatureStore';
import type { OAuthStateRepository } from './oauthStateStore';
import type { HubSpotBudgetRepository } from './hubspotBudgetStore';
import type { WorkerLeaseRepository } from './workerLeaseStore';
import type { DeliveryRepository } from './deliveryStore';
import type { RevenueRepository } from './revenueStore';
import type { MetricsRepository } from './metricsStore';
import type { TriadRepository } from './triadStore';
import type { BreakGlassRepository } from './breakGlassStore';
import type { AbsenceRepository } from './absenceStore';
import type { ReviewReminderRepository } from './reviewReminderStore';
import type { PeopleRepository } from './peopleStore';

export interface AccountRecord {
  portalId: number;
  authMode: 'oauth' | 'static';
  accessTokenEnc: string | null;
  refreshTokenEnc: string | null;
  tokenExpiresAt: number | null;
  scopes: string | null;
  installedAt: number;
  provisionedAt: number | null;
  updatedAt: number;
}

export interface AccountRepository {
  get(portalId: number): Promise<AccountRecord | undefined>;
  upsert(record: AccountRecord): Promise<void>;
  markProvisioned(portalId: number, at: number): Promise<void>;
}

/** The repositories, on the database or on one transaction (the handle Store.transaction gives its work). */
export interface TxStore {
  accounts: AccountRepository;
  /** Webhook events as received (deduplicated), until processed. */
  inbox: InboxRepository;
  /** Effects on HubSpot waiting for delivery. */
  outbox: OutboxRepository;
  gateViolations: ViolationRepository;
  /** Account settings as admins saved them (none: the DEALGATE_* defaults apply). */
  settings: SettingsRepository;
  /** Deal pipelines as last read from HubSpot. */
  pipelines: PipelineRepository;
  /** Dealgate's copy of each deal's gate facts. */
  deals: DealSnapshotRepository;
  /** Reviews and their decisions. */
  reviews: ReviewRepository;
  /** Append-only audit log of every transition. */
  audit: AuditRepository;
  /** Every saved settings change, field by field. */
  settingsChanges: SettingsChangeRepository;
  /** Deals past the gate flagged instead of moved, and passages under a relaxed rule. */
  dealFlags: DealFlagRepository;
  /** Where each account's sweeps of HubSpot stand (install backfill, reconciliation). */
  sweeps: SweepRepository;
  /** Signatures of card requests that changed something, so each is accepted once (replays refused). */
  seenSignatures: SeenSignatureRepository;
  /** OAuth install states already used at the callback. */
  oauthStates: OAuthStateRepository;
  /** Which instance runs the work that runs once across instances (SLA escalation, sweeps), until when. */
  workerLeases: WorkerLeaseRepository;
  /** What engineering said yes to: owned, dated commitments and their history (issue 14). */
  deliveries: DeliveryRepository;
  /** Engineering's revenue goal: won deals per quarter, and the crossing of the goal (issue 14). */
  revenue: RevenueRepository;
  /** The home page's weekly decisions and violations by deal owner (issue 14, shared metrics). */
  metrics: MetricsRepository;
  /** The Triad's views on reviews and the calls made against them (issue 14). */
  triad: TriadRepository;
  /** Deals let past the gate without review, time-boxed (issue 15). */
  breakGlasses: BreakGlassRepository;
  /** Reviewers' absences and who covers for them (issue 15). */
  absences: AbsenceRepository;
  /** The reminders and second-level escalations sent for each review, once each (issue 15). */
  reviewReminders: ReviewReminderRepository;
  /** The account's HubSpot people (owners: user id, names, email) as last read, for names (issue 15). */
  people: PeopleRepository;
}

export interface Store extends TxStore {
  /**
   * Runs `work` in one transaction: all of its writes land, or none (a throw rolls back). Inside
   * the work (and whatever it awaits), this store's repositories act on the transaction, as `tx`
   * does; everyone else's statements stay outside it (on SQLite they wait until it ends). Nothing
   * in the work may call HubSpot: the gateway throws inside a transaction.
   */
  transaction<T>(work: (tx: TxStore) => Promise<T>): Promise<T>;
  /**
   * Each account's HubSpot rate budget, shared by the instances on this database. Always on the
   * database, never on a transaction: a permit must be committed before the call it allows
   * (and on SQLite, using it inside a transaction's work fails rather than waiting for itself).
   */
  readonly hubspotBudget: HubSpotBudgetRepository;
  /** Cheap round trip to the database, for readiness. */
  ping(): Promise<boolean>;
  /** Whether a write can be committed now (a real commit, and space on the volume), for readiness. */
  writable(): Promise<WriteCheck>;
  close(): Promise<void>;
}
