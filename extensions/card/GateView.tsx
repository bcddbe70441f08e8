import { Alert, Divider, EmptyState, Flex, Heading, LoadingButton, Text } from '@hubspot/ui-extensions';
import type { DecisionBody, DeliveryUpdateBody, GateResponse, PerspectiveBody, RequestReviewBody, BreakGlassBody } from '../contract/api';
import { AnswerSection } from './AnswerSection';
import { BreakGlassSection } from './BreakGlassSection';
import { CapacitySection } from './CapacitySection';
import { CommitmentForm } from './CommitmentForm';
import { CoveringSection } from './CoveringSection';
import { DecisionForm, type CapacityConflict } from './DecisionForm';
import { DeliverySection } from './DeliverySection';
import { GlanceSection } from './GlanceSection';
import { HistorySection } from './HistorySection';
import { CapacityPreviewSection } from './CapacityPreviewSection';
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
export function GateView({ gate, inFlight, failure, onRequest, onWithdraw, onDecide, onUpdateDelivery, onGiveView, onBreakGlass }: GateViewProps) {
  const { permissions, review, caller } = gate;
  const busy = inFlight !== null;
  const isReviewer = caller.roles.includes('reviewer') || caller.roles.includes('escalation_reviewer');
  const nothingYet = !gate.deal.commitment && review === null && gate.history.length === 0;
  const failed = (action: CardAction) => (failure?.action === action ? failure : null);

  return (
    <Flex direction="column" gap="md">
      <GlanceSection gate={gate} />
      {nothingYet && (
        <EmptyState title="No feature commitment on this deal" layout="horizontal" imageName="deals" testId="card-empty">
          <Text>
            If the customer asked for something engineering must build, declare it below: deals with a commitment at or above the threshold
            need engineering's sign-off before they pass the gate.
          </Text>
        </EmptyState>
      )}
      {failure && (
        <Alert title={failure.status === 403 ? 'You are not allowed to do that' : 'Dealgate did not accept that'} variant="error" testId="action-error">
          {failure.message}
        </Alert>
      )}
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

      {permissions.canWithdraw && review && (
        <LoadingButton
          variant="secondary"
          testId="withdraw"
          loading={inFlight === 'withdraw'}
          disabled={busy}
          onClick={() => onWithdraw(review.id)}
        >
          Withdraw the request
        </LoadingButton>
      )}

      {permissions.canDecide && (
        <DecisionForm
          // A fresh form for each review: answers never leak from one review to the next.
          key={`decide-${review?.id ?? 0}`}
          gate={gate}
          busy={busy}
          submitting={inFlight === 'decide'}
          serverErrors={failed('decide')?.fieldErrors ?? {}}
          capacityConflict={failed('decide')?.capacityConflict ?? null}
          onSubmit={onDecide}
        />
      )}
      {!permissions.canDecide && isReviewer && permissions.denied.decide && (
        <Text variant="microcopy" testId="decide-denied">{`You cannot answer here: ${permissions.denied.decide}.`}</Text>
      )}

      {permissions.canRequest && <CapacityPreviewSection preview={gate.capacityPreview} />}
      {permissions.canRequest ? (
        <CommitmentForm
          key={`request-${review?.id ?? 0}-${review?.status ?? 'none'}`}
          gate={gate}
          busy={busy}
          submitting={inFlight === 'request'}
          serverErrors={failed('request')?.fieldErrors ?? {}}
          onSubmit={onRequest}
        />
      ) : (
        // Only someone who can withdraw can act on this; for everyone else it is noise.
        permissions.denied.request &&
        permissions.canWithdraw && <Text variant="microcopy" testId="request-denied">{`To change the commitment: ${permissions.denied.request}; withdraw it first.`}</Text>
      )}

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
