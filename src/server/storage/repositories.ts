import type { SqlDatabase, SqlSession } from './sql';
import type { AccountRepository, Store, TxStore } from './store';
import type { WriteCheck } from './db';
import { accountRepository } from './accountStore';
import { inboxRepository, type InboxRepository, type ParsedBatches } from './inboxStore';
import { violationRepository, type ViolationRepository } from './violationStore';
import { outboxRepository, type OutboxRepository } from './outboxStore';
import { settingsRepository, type SettingsRepository } from './settingsStore';
import { pipelineRepository, type PipelineRepository } from './pipelineStore';
import { dealSnapshotRepository, type DealSnapshotRepository } from './dealSnapshotStore';
import { reviewRepository, type ReviewRepository } from './reviewStore';
import { auditRepository, type AuditRepository } from './auditStore';
import { sweepRepository, type SweepRepository } from './sweepStore';
import { settingsChangeRepository, type SettingsChangeRepository } from './settingsChangeStore';
import { dealFlagRepository, type DealFlagRepository } from './dealFlagStore';
import { seenSignatureRepository, type SeenSignatureRepository } from './seenSignatureStore';
import { oauthStateRepository, type OAuthStateRepository } from './oauthStateStore';
import { workerLeaseRepository, type WorkerLeaseRepository } from './workerLeaseStore';
import { deliveryRepository, type DeliveryRepository } from './deliveryStore';
import { revenueRepository, type RevenueRepository } from './revenueStore';
import { metricsRepository, type MetricsRepository } from './metricsStore';
import { triadRepository, type TriadRepository } from './triadStore';
import { breakGlassRepository, type BreakGlassRepository } from './breakGlassStore';
import { absenceRepository, type AbsenceRepository } from './absenceStore';
import { reviewReminderRepository, type ReviewReminderRepository } from './reviewReminderStore';
import { peopleRepository, type PeopleRepository } from './peopleStore';
import { bindRepositories, currentTransaction, refuseCommitOf } from './transactionScope';
import { hubspotBudgetRepository, type HubSpotBudgetRepository } from './hubspotBudgetStore';

/**
 * The repositories over one session, each made when first used: a transaction touches a few of
 * them, and the inbox worker opens one per event.
 */
class SessionRepositories implements TxStore {
  #accounts?: AccountRepository;
  #inbox?: InboxRepository;
  #outbox?: OutboxRepository;
  #gateViolations?: ViolationRepository;
  #settings?: SettingsRepository;
  #pipelines?: PipelineRepository;
  #deals?: DealSnapshotRepository;
  #reviews?: ReviewRepository;
  #audit?: AuditRepository;
  #settingsChanges?: SettingsChangeRepository;
  #dealFlags?: DealFlagRepository;
  #sweeps?: SweepRepository;
  #seenSignatures?: SeenSignatureRepository;
  #oauthStates?: OAuthStateRepository;
  #workerLeases?: WorkerLeaseRepository;
  #deliveries?: DeliveryRepository;
  #revenue?: RevenueRepository;
  #metrics?: MetricsRepository;
  #triad?: TriadRepository;
  #breakGlasses?: BreakGlassRepository;
  #absences?: AbsenceRepository;
  #reviewReminders?: ReviewReminderRepository;
  #people?: PeopleRepository;

  /** Savepoints open in this session's transaction (a nested Store.transaction). */
  savepoints = 0;

  constructor(
    readonly sql: SqlSession,
    private readonly parsedBatches: ParsedBatches,
  ) {}

  get accounts() {
    return (this.#accounts ??= accountRepository(this.sql));
  }
  get inbox() {
    return (this.#inbox ??= inboxRepository(this.sql, this.parsedBatches));
  }
  get outbox() {
    return (this.#outbox ??= outboxRepository(this.sql));
  }
  get gateViolations() {
    return (this.#gateViolations ??= violationRepository(this.sql));
  }
  get settings() {
    return (this.#settings ??= settingsRepository(this.sql));
  }
  get pipelines() {
    return (this.#pipelines ??= pipelineRepository(this.sql));
  }
  get deals() {
    return (this.#deals ??= dealSnapshotRepository(this.sql));
  }
  get reviews() {
    return (this.#reviews ??= reviewRepository(this.sql));
  }
  get audit() {
    return (this.#audit ??= auditRepository(this.sql));
  }
  get settingsChanges() {
    return (this.#settingsChanges ??= settingsChangeRepository(this.sql));
  }
  get dealFlags() {
    return (this.#dealFlags ??= dealFlagRepository(this.sql));
  }
  get sweeps() {
    return (this.#sweeps ??= sweepRepository(this.sql));
  }
  get seenSignatures() {
    return (this.#seenSignatures ??= seenSignatureRepository(this.sql));
  }
  get oauthStates() {
    return (this.#oauthStates ??= oauthStateRepository(this.sql));
  }
  get workerLeases() {
    return (this.#workerLeases ??= workerLeaseRepository(this.sql));
  }
  get deliveries() {
    return (this.#deliveries ??= deliveryRepository(this.sql));
  }
  get revenue() {
    return (this.#revenue ??= revenueRepository(this.sql));
  }
  get metrics() {
    return (this.#metrics ??= metricsRepository(this.sql));
  }
  get triad() {
    return (this.#triad ??= triadRepository(this.sql));
  }
  get breakGlasses() {
    return (this.#breakGlasses ??= breakGlassRepository(this.sql));
  }
  get absences() {
    return (this.#absences ??= absenceRepository(this.sql));
  }
  get reviewReminders() {
    return (this.#reviewReminders ??= reviewReminderRepository(this.sql));
  }
  get people() {
    return (this.#people ??= peopleRepository(this.sql));
  }
}

/** The repositories bound to one session: a transaction's, or the database's. */
export function repositoriesOf(sql: SqlSession, parsedBatches: ParsedBatches = new Map()): TxStore {
  return new SessionRepositories(sql, parsedBatches);
}

/** What only the engine knows: readiness checks. */
export interface EngineChecks {
  ping(): Promise<boolean>;
  writable(): Promise<WriteCheck>;
}

/**
 * The repositories of a Store answer on the open transaction when used from inside its work (the
 * transaction scope), on the database otherwise; `tx`, handed to the work, is the same thing made
 * explicit.
 */
class SqlStore implements Store {
  private readonly root: SessionRepositories;
  // Batches the webhook route parsed, shared by the database's inbox and every transaction's.
  private readonly batches: ParsedBatches = new Map();
  // The repositories bound to each transaction session, kept while the engine reuses the session
  // (SQLite has one); PostgreSQL's sessions are one per transaction and are dropped with it.
  private readonly bound = new WeakMap<SqlSession, SessionRepositories>();
  readonly hubspotBudget: HubSpotBudgetRepository;

  constructor(
    private readonly database: SqlDatabase,
    private readonly engine: EngineChecks,
  ) {
    this.root = new SessionRepositories(database, this.batches);
    this.hubspotBudget = hubspotBudgetRepository(database);
  }

  private here(): TxStore {
    return currentTransaction<SessionRepositories>(this) ?? this.root;
  }
  get accounts() {
    return this.here().accounts;
  }
  get inbox() {
    return this.here().inbox;
  }
  get outbox() {
    return this.here().outbox;
  }
  get gateViolations() {
    return this.here().gateViolations;
  }
  get settings() {
    return this.here().settings;
  }
  get pipelines() {
    return this.here().pipelines;
  }
  get deals() {
    return this.here().deals;
  }
  get reviews() {
    return this.here().reviews;
  }
  get audit() {
    return this.here().audit;
  }
  get settingsChanges() {
    return this.here().settingsChanges;
  }
  get dealFlags() {
    return this.here().dealFlags;
  }
  get sweeps() {
    return this.here().sweeps;
  }
  get seenSignatures() {
    return this.here().seenSignatures;
  }
  get oauthStates() {
    return this.here().oauthStates;
  }
  get workerLeases() {
    return this.here().workerLeases;
  }
  get deliveries() {
    return this.here().deliveries;
  }
  get revenue() {
    return this.here().revenue;
  }
  get metrics() {
    return this.here().metrics;
  }
  get triad() {
    return this.here().triad;
  }
  get breakGlasses() {
    return this.here().breakGlasses;
  }
  get absences() {
    return this.here().absences;
  }
  get reviewReminders() {
    return this.here().reviewReminders;
  }
  get people() {
    return this.here().people;
  }

  transaction<T>(work: (tx: TxStore) => Promise<T>): Promise<T> {
    const outer = currentTransaction<SessionRepositories>(this);
    if (outer) return nested(this, outer, work);
    // The work itself, not an async wrapper around it (each promise a transaction makes runs the
    // async context's hook, transactionScope.ts): a savepoint that could not be undone refuses the
    // commit through the transaction's scope (nested below), which the engine checks.
    return this.database.transaction((session) => {
      const repositories = this.repositoriesFor(session);
      bindRepositories(this, repositories);
      return work(repositories);
    });
  }
  private repositoriesFor(session: SqlSession): SessionRepositories {
    let repositories = this.bound.get(session);
    if (!repositories) {
      repositories = new SessionRepositories(session, this.batches);
      this.bound.set(session, repositories);
    }
    return repositories;
  }
  ping() {
    return this.engine.ping();
  }
  writable() {
    return this.engine.writable();
  }
  close() {
    return this.database.close();
  }
}

/**
 * A transaction opened inside another one (a use case that writes atomically, called from a
 * transaction that also marks an inbox event done): a savepoint of the outer one, so a throw that
 * the caller catches undoes only the inner work, as better-sqlite3's nested transactions did. Both
 * engines speak SAVEPOINT / RELEASE / ROLLBACK TO. The inner work runs on the outer's session.
 */
async function nested<T>(store: SqlStore, outer: SessionRepositories, work: (tx: TxStore) => Promise<T>): Promise<T> {
  const name = `dealgate_${++outer.savepoints}`;
  await outer.sql.run(`SAVEPOINT ${name}`);
  try {
    const result = await work(outer);
    await outer.sql.run(`RELEASE SAVEPOINT ${name}`);
    return result;
  } catch (error) {
    // The work's error is what the caller must see. Should undoing the savepoint fail too, that
    // failure rides along as its cause rather than replacing it, and the outer transaction is
    // refused its commit (the inner work may still be in it, whatever the caller does with the error).
    try {
      await outer.sql.run(`ROLLBACK TO SAVEPOINT ${name}`);
      await outer.sql.run(`RELEASE SAVEPOINT ${name}`);
    } catch (undoError) {
      refuseCommitOf(store, new Error(`a nested transaction failed and could not be undone, so the whole transaction is rolled back: ${(undoError as Error).message}`, { cause: error }));
      if (error instanceof Error && error.cause === undefined) error.cause = undoError;
    }
    throw error;
  } finally {
    outer.savepoints -= 1;
  }
}

/** The Store over any SqlDatabase: SQLite (sqliteStore.ts) and PostgreSQL build theirs with it. */
export function createStore(sql: SqlDatabase, engine: EngineChecks): Store {
  return new SqlStore(sql, engine);
}
