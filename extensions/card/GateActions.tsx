import { Alert, EmptyState, LoadingButton, Text } from '@hubspot/ui-extensions';
import { CommitmentForm } from './CommitmentForm';
import { DecisionForm } from './DecisionForm';
import type { ActionFailure, CardAction, GateViewProps } from './GateView';

/** The last refusal of `action`, if the last refused action was that one. */
export function failureOf(failure: ActionFailure | null, action: CardAction): ActionFailure | null {
  return failure?.action === action ? failure : null;
}

/** At the top of the card: nothing declared yet, and what the service refused last. */
export function GateIntro({ gate, failure }: Pick<GateViewProps, 'gate' | 'failure'>) {
  const nothingYet = !gate.deal.commitment && gate.review === null && gate.history.length === 0;
  return (
    <>
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
    </>
  );
}

/** The open review's actions: the owner withdraws it, a reviewer answers it (or reads why they cannot). */
export function ReviewActions({ gate, inFlight, failure, onWithdraw, onDecide }: Pick<GateViewProps, 'gate' | 'inFlight' | 'failure' | 'onWithdraw' | 'onDecide'>) {
  const { permissions, review, caller } = gate;
  const busy = inFlight !== null;
  const isReviewer = caller.roles.includes('reviewer') || caller.roles.includes('escalation_reviewer');
  const decideFailure = failureOf(failure, 'decide');
  return (
    <>
      {permissions.canWithdraw && review && (
        <LoadingButton variant="secondary" testId="withdraw" loading={inFlight === 'withdraw'} disabled={busy} onClick={() => onWithdraw(review.id)}>
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
          serverErrors={decideFailure?.fieldErrors ?? {}}
          capacityConflict={decideFailure?.capacityConflict ?? null}
          onSubmit={onDecide}
        />
      )}
      {!permissions.canDecide && isReviewer && permissions.denied.decide && (
        <Text variant="microcopy" testId="decide-denied">{`You cannot answer here: ${permissions.denied.decide}.`}</Text>
      )}
    </>
  );
}

/** Declaring the commitment and requesting review (with the capacity it would take), or why the caller cannot change it. */
export function RequestActions({ gate, inFlight, failure, onRequest }: Pick<GateViewProps, 'gate' | 'inFlight' | 'failure' | 'onRequest'>) {
  const { permissions, review } = gate;
  if (!permissions.canRequest) {
    // Only someone who can withdraw can act on this; for everyone else it is noise.
    if (!permissions.denied.request || !permissions.canWithdraw) return null;
    return <Text variant="microcopy" testId="request-denied">{`To change the commitment: ${permissions.denied.request}; withdraw it first.`}</Text>;
  }
  return (
    <CommitmentForm
      key={`request-${review?.id ?? 0}-${review?.status ?? 'none'}`}
      gate={gate}
      busy={inFlight !== null}
      submitting={inFlight === 'request'}
      serverErrors={failureOf(failure, 'request')?.fieldErrors ?? {}}
      onSubmit={onRequest}
      preview={gate.capacityPreview}
    />
  );
}
