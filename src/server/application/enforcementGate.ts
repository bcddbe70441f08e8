import type { GateStatus } from '../domain/vocabulary';
import type { AfterClose, DealFacts } from '../domain/gatePolicy';
import type { Clock } from '../shared/clock';
import type { Logger } from '../shared/logger';
import type { Store } from '../storage/store';
import type { HubSpotDeal } from '../hubspot/gateway';

/** The gate as enforcement of deal events sees it (the port gatePort.ts implements), and the facts it judges. */

/** The facts the gate reads, with where they came from and when. */
export interface ObservedDeal extends DealFacts {
  dealId: string;
  ownerId: string | null;
  /** HubSpot's time for these facts (the deal's last modification, or the event's occurrence). */
  observedAt: number;
  /** `dealgate_status` as HubSpot has it, when read from HubSpot (the gate rewrites a stale projection). */
  hubspotStatus?: string | null;
  /** When Dealgate sent the read, for facts read from HubSpot: its own writes delivered since are laid over them. */
  readAt?: number;
}

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

/** The deal as HubSpot answered it, as the facts the gate judges. */
export function observedFrom(deal: HubSpotDeal): ObservedDeal {
  return {
    dealId: deal.id,
    name: deal.name,
    amount: deal.amount,
    amountInHomeCurrency: deal.amountInHomeCurrency,
    stage: deal.stage,
    pipeline: deal.pipeline,
    ownerId: deal.ownerId,
    commitment: deal.commitment,
    commitmentSummary: deal.commitmentSummary,
    effortWeeks: deal.effortWeeks,
    observedAt: deal.updatedAt,
    hubspotStatus: deal.status,
    readAt: deal.readAt,
  };
}
