import { Divider, Flex, Heading, Text } from '@hubspot/ui-extensions';
import type { DecisionBody, DeliveryUpdateBody, GateResponse, PerspectiveBody, RequestReviewBody, BreakGlassBody } from '../contract/api';
import { AnswerSection } from './AnswerSection';
import { BreakGlassSection } from './BreakGlassSection';
import { CapacitySection } from './CapacitySection';
import { CoveringSection } from './CoveringSection';
import type { CapacityConflict } from './DecisionForm';
import { DeliverySection } from './DeliverySection';
import { GlanceSection } from './GlanceSection';
import { HistorySection } from './HistorySection';
import { failureOf, GateIntro, RequestActions, ReviewActions } from './GateActions';
import { PostSalesSection } from './PostSalesSection';
import { TriadSection } from './TriadSection';

export type CardAction = 'request' | 'withdraw' | 'decide' | 'delivery' | 'perspective' | 'break_glass';

/** The last action the service refused: its message, the fields it named, a capacity conflict. */
export interface ActionFailure {
  action: CardAction;
  status: number;
  code: string;
  message: string;
  fieldErrors: Record<string, string>;
  capacityConflict: CapacityConflict | null;
}

export interface GateViewProps {
  gate: GateResponse;
  /** The action waiting for the service; every action button is disabled meanwhile. */
  inFlight: CardAction | null;
  failure: ActionFailure | null;
  onRequest: (body: RequestReviewBody) => void;
  onWithdraw: (reviewId: number) => void;
  onDecide: (reviewId: number, body: DecisionBody) => void;
  /** The owner, a reviewer or an admin updates what the approval became. */
  onUpdateDelivery: (reviewId: number, body: DeliveryUpdateBody) => void;
  /** A Triad member gives their view. */
  onGiveView: (reviewId: number, body: PerspectiveBody) => void;

  /** An admin (or someone named for it) lets the deal pass without review, time-boxed. */
  onBreakGlass: (body: BreakGlassBody) => void;
}

/** Everything the card shows for a loaded deal, for whoever is looking (rep, reviewer, admin). */
export function GateView(props: GateViewProps) {
  const { gate, inFlight, failure, onRequest, onWithdraw, onDecide, onUpdateDelivery, onGiveView, onBreakGlass } = props;
  const { permissions, review, caller } = gate;
  const busy = inFlight !== null;
  const failed = (action: CardAction) => failureOf(failure, action);

  return (
    <Flex direction="column" gap="md">
      <GlanceSection gate={gate} />
      <GateIntro gate={gate} failure={failure} />
      <AnswerSection gate={gate} />
      <BreakGlassSection
        breakGlass={gate.breakGlass}
        me={caller.userId}
        busy={busy}
        submitting={inFlight === 'break_glass'}
        serverErrors={failed('break_glass')?.fieldErrors ?? {}}
        onOpen={onBreakGlass}
      />
      {review && (
        <TriadSection
          reviewId={review.id}
          triad={gate.triad}
          me={caller.userId}
          busy={busy}
          submitting={inFlight === 'perspective'}
          serverErrors={failed('perspective')?.fieldErrors ?? {}}
          onGiveView={onGiveView}
        />
      )}
      <CoveringSection covering={gate.covering} me={caller.userId} />
      {review && (
        <DeliverySection
          reviewId={review.id}
          delivery={review.delivery}
          me={caller.userId}
          busy={busy}
          submitting={inFlight === 'delivery'}
          serverErrors={failed('delivery')?.fieldErrors ?? {}}
          onUpdate={onUpdateDelivery}
        />
      )}
      <ReviewActions gate={gate} inFlight={inFlight} failure={failure} onWithdraw={onWithdraw} onDecide={onDecide} />
      <RequestActions gate={gate} inFlight={inFlight} failure={failure} onRequest={onRequest} />
      <PostSalesSection gate={gate} inFlight={inFlight} failure={failure} onRequest={onRequest} onWithdraw={onWithdraw} onDecide={onDecide} />
      <CapacitySection capacity={gate.capacity} />
      {permissions.canEditSettings && (
        <Text variant="microcopy" testId="admin-note">
          You are a Dealgate admin: the threshold, reviewers, SLA and capacity are on the app's settings page.
        </Text>
      )}
      <Divider />
      <Heading>History</Heading>
      <HistorySection history={gate.history} me={caller.userId} />
    </Flex>
  );
}
