import type { GateStatus } from '../domain/vocabulary';
import type { AfterClose } from '../domain/gatePolicy';
import type { Clock } from '../shared/clock';
import type { Logger } from '../shared/logger';
import type { Store } from '../storage/store';
import type { ObservedDeal } from './dealFacts';

/** The gate as enforcement of deal events sees it (the port gatePort.ts implements). */

// The facts it judges are the application's one deal type (dealFacts.ts); the name stays importable from here.
export type { ObservedDeal } from './dealFacts';

export interface StageMoveVerdict {
  allowed: boolean;
  /** `toStage` is past the pipeline's gate stage (a lost stage never is). */
  pastGate: boolean;
  /** The deal's gate status, to project onto `dealgate_status`. */
  status: GateStatus;
  /** Why review is (not) required, in words. */
  reason: string;
  gateStage: { id: string; label: string } | null;
  /** The stage is won (closed, not lost): `afterClose` decides between moving it back and flagging it. */
  inWonStage: boolean;
  afterClose: AfterClose;
}

/** The settings change that let a deal pass, when the rule before it would have stopped the deal. */
export interface RelaxedBy {
  settingsChangeId: number;
  changedBy: string;
  changedAt: number;
}

/** The gate, as enforcement needs it. All run inside the inbox transaction (synchronous, store only). */
export interface GatePort {
  /** Stores the facts and applies what changed (requirement, stale approval, status projection). */
  reconcile(portalId: number, deal: ObservedDeal, actor: string): Promise<void>;
  /** Marks the deal deleted in the snapshot. */
  markDeleted(portalId: number, dealId: string, at: number): Promise<void>;
  /** The snapshot as Dealgate holds it, if any. */
  snapshot(portalId: number, dealId: string): Promise<ObservedDeal | undefined>;
  /** Whether the deal, with these facts, may sit in `toStage`. */
  judgeStageMove(portalId: number, deal: ObservedDeal, toStage: string): Promise<StageMoveVerdict>;
  /**
   * The latest change of the gate's rule relaxed it so that this deal, which the rule before that
   * change would have stopped, may sit where it is.
   */
  relaxedBy(portalId: number, deal: ObservedDeal): Promise<RelaxedBy | undefined>;
  /**
   * The rule in force at `at` (when the deal passed, or its fact changed) let the deal sit where it
   * is, and a later change tightened the rule so that it no longer may: that change.
   */
  tightenedSince(portalId: number, deal: ObservedDeal, at: number): Promise<RelaxedBy | undefined>;
  /** Flags a deal whose passage was legal when it happened (listed, a note, a task for its owner), once per change; true when it did. */
  flagTightened(portalId: number, deal: ObservedDeal, change: RelaxedBy): Promise<boolean>;
  /**
   * Grows each time the deal gets an approval (the id of its latest approved review, 0 before):
   * an approval that stops covering the deal is a new reason to act on the same passage.
   */
  coverageEpoch(portalId: number, dealId: string): Promise<number>;
  /** The escalation reviewer (user id), who gets a task for a won deal flagged without sign-off. */
  escalationReviewer(portalId: number): Promise<string | null>;
}

/** What enforcement of deal events works with: every step of it (dealEvents.ts and the files it calls) takes this. */
export interface EnforcementContext {
  store: Store;
  clock: Clock;
  logger: Logger;
  gate: GatePort;
}
