import { Alert, Flex, Text } from '@hubspot/ui-extensions';
import type { GateResponse, ReviewView } from '../contract/api';
import { formatWeeks, formatWhen, reviewStatusLabel, userLabel } from './gateWording';

/**
 * The reviewer's answer as the rep needs it: a yes, the conditions of a yes-but (which the deal now
 * carries as commitments), or the reason for a no with what to do next (while the no still
 * blocks the deal: once the commitment is gone or the amount is under the threshold, it says so).
 */
export function AnswerSection({ gate }: { gate: GateResponse }) {
  const review = gate.review;
  if (!review) return null;
  const me = gate.caller.userId;
  const decision = review.decision;
  const byline = decision ? `${userLabel(decision.decider, me)}, ${formatWhen(decision.decidedAt)}` : '';

  return (
    <Flex direction="column" gap="xs">
      <Text variant="microcopy" testId="review-summary">
        {`Review #${review.id}, ${reviewStatusLabel[review.status]}: "${review.summary}" (${formatWeeks(review.effortWeeks)}${
          review.neededBy ? `, needed by ${review.neededBy}` : ''
        }), requested by ${userLabel(review.requester, me)} on ${formatWhen(review.requestedAt)}`}
      </Text>
      {decision?.outcome === 'yes' && (
        <Alert title="Engineering said yes" variant="success" testId="answer">
          {`${decision.note ? `${decision.note} ` : ''}(${byline})`}
        </Alert>
      )}
      {decision?.outcome === 'yes_but' && (
        <Alert title="Engineering said yes, with conditions the deal now carries" variant="warning" testId="answer">
          <Conditions review={review} />
          {`${decision.note ? `${decision.note} ` : ''}(${byline})`}
        </Alert>
      )}
      {decision?.outcome === 'no' && (
        <Alert title="Engineering said no" variant="danger" testId="answer">
          {`Reason: ${decision.note} (${byline})`}
        </Alert>
      )}
      {decision?.outcome === 'no' && gate.gate.reviewRequired && (
        <Text testId="next-steps">
          What to do next: renegotiate with the customer. Change the commitment (less scope, more time) and request a new review, or remove
          the commitment from the deal; until then the deal cannot pass the gate.
        </Text>
      )}
      {decision?.outcome === 'no' && !gate.gate.reviewRequired && (
        <Text testId="answer-moot">{`This no no longer holds the deal back: review is not required now (${gate.gate.reason}).`}</Text>
      )}
      {decision && !review.coversDeal && decision.outcome !== 'no' && (
        <Text testId="answer-stale">The commitment changed after this answer: it no longer covers the deal, so request a new review.</Text>
      )}
      {review.deprioritized && (
        <Alert title="This commitment was deprioritized" variant="warning" testId="deprioritized">
          {`On ${formatWhen(review.deprioritized.at)} engineering deprioritized it${
            review.deprioritized.forReviewId !== null ? ` to make room for review #${review.deprioritized.forReviewId}` : ''
          }: tell the customer, and agree a new date.`}
        </Alert>
      )}
      {review.waitingOn.length > 0 && (
        <Text testId="waiting-on">{`Waiting for an answer from ${review.waitingOn.map((p) => userLabel(p, me)).join(', ')}.`}</Text>
      )}
      {review.escalatedAt && review.decision === null && (
        <Text testId="escalated">{`No answer in time: escalated on ${formatWhen(review.escalatedAt)}.`}</Text>
      )}
    </Flex>
  );
}

function Conditions({ review }: { review: ReviewView }) {
  const decision = review.decision;
  if (!decision) return null;
  return (
    <Flex direction="column" gap="flush">
      {decision.extraWeeks !== null && (
        <Text testId="condition-extra-weeks">{`Delivery takes ${formatWeeks(decision.extraWeeks)} more than asked: promise the customer the later date.`}</Text>
      )}
      {decision.tradeoff !== null && <Text testId="condition-tradeoff">{`Tradeoff: ${decision.tradeoff}`}</Text>}
    </Flex>
  );
}
