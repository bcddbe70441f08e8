import type * as api from '../../../extensions/contract/api';
import type * as capacity from '../domain/capacityLedger';
import type * as delivery from '../domain/delivery';
import type * as gate from '../domain/gatePolicy';
import type * as roles from '../domain/roles';
import type * as sla from '../domain/sla';
import type * as triad from '../domain/triad';
import type * as trigger from '../domain/reviewTrigger';
import type * as reminders from '../domain/reminderPoints';
import type * as vocabulary from '../domain/vocabulary';

/**
 * The domain speaks its own types; the card API's contract (extensions/contract/api.ts, the UI's
 * wire types) spells the same words for the UI. Where they mean the same thing they must stay
 * assignable both ways, so that the application hands a domain value to the wire (and a wire
 * value to the domain) by plain assignment: these checks fail the build when one side changes
 * alone. Types only; nothing here runs.
 */

/**
 * true when A and B are the same type: assignable both ways is not enough (an optional field
 * added on one side alone passes that), so this compares them as TypeScript's own identity check
 * does, through two generic functions that are assignable only when A and B are identical.
 */
type Same<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
/** true when a value of A can be given where B is expected. */
type Fits<A, B> = [A] extends [B] ? true : false;
type Holds<T extends true> = T;

export type DomainMatchesWire = [
  Holds<Same<vocabulary.GateStatus, api.GateStatus>>,
  Holds<Same<vocabulary.ReviewStatus, api.ReviewStatus>>,
  Holds<Same<vocabulary.DecisionOutcome, api.DecisionOutcome>>,
  Holds<Same<vocabulary.Role, api.Role>>,
  Holds<Same<delivery.DeliveryStatus, api.DeliveryStatus>>,
  // The same statuses in the same order (HubSpot's property options and the card's form list them).
  Holds<Same<typeof delivery.DELIVERY_STATUSES, typeof api.deliveryStatuses>>,
  Holds<Same<gate.GateEvaluation, api.GateEvaluation>>,
  Holds<Same<gate.AfterClose, api.Settings['afterClose']>>,
  Holds<Same<sla.SlaClock, api.SlaClock>>,
  Holds<Same<capacity.CapacityView, api.CapacityView>>,
  Holds<Same<capacity.CapacityCommitment, api.CapacityCommitment>>,
  Holds<Same<vocabulary.ReviewKind, api.ReviewKind>>,
  Holds<Same<trigger.TriggerMode, api.TriggerMode>>,
  Holds<Same<reminders.ReminderSettings, api.ReminderSettings>>,
  Holds<Same<typeof triad.TRIAD_ROLES, typeof api.triadRoles>>,
  Holds<Same<typeof triad.STANCES, typeof api.triadStances>>,
  Holds<Same<typeof triad.TRIAD_ROLE_NAMES, typeof api.triadRoleLabels>>,
  // An account's settings as an admin saves them give the domain every setting it reads.
  Holds<Fits<api.Settings, gate.GateSettings & roles.RoleSettings & { capacity: capacity.CapacitySettings | null }>>,
];
