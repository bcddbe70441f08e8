import { Divider, Flex, Heading, LoadingButton, Tag, Text } from '@hubspot/ui-extensions';
import type { PostSalesReviewView } from '../contract/api';
import { CommitmentForm } from './CommitmentForm';
import { DecisionForm } from './DecisionForm';
import { formatWeeks, formatWhen, outcomeLabel, reviewStatusLabel, userLabel } from './gateWording';
import type { CardAction, GateViewProps } from './GateView';

/** What the card hands the post-sales part: the gate answer, the action in flight and the last refusal, and the rep's and the reviewer's actions. */
export type PostSalesSectionProps = Pick<GateViewProps, 'gate' | 'inFlight' | 'failure' | 'onRequest' | 'onWithdraw' | 'onDecide'>;

/**
 * Post-sales customization and implementation work on a won deal (issue 14): the rep asks for it,
 * a reviewer answers it like any review, and an approval books the quarter's customer share. Shown
 * only where there is something to see: the deal is won, or post-sales work was asked for.
 */
export function PostSalesSection({ gate, inFlight, failure, onRequest, onWithdraw, onDecide }: PostSalesSectionProps) {
  const { postSales } = gate;
  if (!postSales.canRequest && postSales.reviews.length === 0) return null;
  const busy = inFlight !== null;
  const failed = (action: CardAction) => (failure?.action === action ? failure : null);
  return (
    <Flex direction="column" gap="sm" testId="post-sales">
      <Divider />
      <Heading>Post-sales work</Heading>
      {postSales.reviews.map((item) => (
        <Flex key={item.review.id} direction="column" gap="xs">
          <PostSalesLine item={item} me={gate.caller.userId} />
          {item.canWithdraw && (
            <LoadingButton variant="secondary" testId={`post-sales-withdraw-${item.review.id}`} loading={inFlight === 'withdraw'} disabled={busy} onClick={() => onWithdraw(item.review.id)}>
              Withdraw the post-sales request
            </LoadingButton>
          )}
          {item.canDecide && (
            <DecisionForm
              key={`post-sales-decide-${item.review.id}`}
              // The form answers the review it is given; the quarter's capacity is the card's.
              gate={{ ...gate, review: item.review }}
              busy={busy}
              submitting={inFlight === 'decide'}
              serverErrors={failed('decide')?.fieldErrors ?? {}}
              capacityConflict={failed('decide')?.capacityConflict ?? null}
              onSubmit={onDecide}
            />
          )}
        </Flex>
      ))}
      {postSales.canRequest ? (
        <CommitmentForm
          key={`post-sales-request-${postSales.reviews.length}`}
          kind="post_sales"
          gate={gate}
          busy={busy}
          submitting={inFlight === 'request'}
          serverErrors={failed('request')?.fieldErrors ?? {}}
          onSubmit={onRequest}
        />
      ) : (
        postSales.requestDenied && (
          <Text variant="microcopy" testId="post-sales-denied">{`To ask for more post-sales work: ${postSales.requestDenied}.`}</Text>
        )
      )}
    </Flex>
  );
}

function PostSalesLine({ item, me }: { item: PostSalesReviewView; me: string }) {
  const { review } = item;
  const decision = review.decision;
  return (
    <Flex direction="column" gap="flush" testId={`post-sales-${review.id}`}>
      <Flex direction="row" gap="xs">
        <Tag variant="default">Post-sales</Tag>
        <Text>{`Review #${review.id}, ${reviewStatusLabel[review.status]}: "${review.summary}" (${formatWeeks(review.effortWeeks)}${
          review.neededBy ? `, needed by ${review.neededBy}` : ''
        }), requested by ${userLabel(review.requestedBy, me)} on ${formatWhen(review.requestedAt)}`}</Text>
      </Flex>
      {decision && (
        <Text variant="microcopy" testId={`post-sales-answer-${review.id}`}>
          {`${outcomeLabel[decision.outcome]}${decision.extraWeeks !== null ? `, ${formatWeeks(decision.extraWeeks)} more` : ''}${
            decision.tradeoff ? `, tradeoff: ${decision.tradeoff}` : ''
          }${decision.note ? `: ${decision.note}` : ''} (${userLabel(decision.decidedBy, me)}, ${formatWhen(decision.decidedAt)})${
            decision.outcome !== 'no' && decision.quarter ? `; booked against the ${decision.quarter} customer share` : ''
          }`}
        </Text>
      )}
      {!item.canDecide && item.decideDenied && review.decision === null && (
        <Text variant="microcopy" testId={`post-sales-decide-denied-${review.id}`}>{`You cannot answer it here: ${item.decideDenied}.`}</Text>
      )}
    </Flex>
  );
}
