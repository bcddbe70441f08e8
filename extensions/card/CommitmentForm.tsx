import { useState } from 'react';
import { DateInput, Flex, LoadingButton, NumberInput, Text, TextArea } from '@hubspot/ui-extensions';
import { requestReviewBody, type CapacityPreview, type GateResponse, type RequestReviewBody } from '../contract/api';
import { CapacityPreviewSection } from './CapacityPreviewSection';
import { errorProps, validateWith } from '../client/fieldErrors';
import { fromIsoDate, toIsoDate, type CalendarDate } from './dateValue';

export interface CommitmentFormProps {
  gate: GateResponse;
  busy: boolean;
  submitting: boolean;
  /** Field errors the service returned for the last attempt. */
  serverErrors: Record<string, string>;
  onSubmit: (body: RequestReviewBody) => void;
  /** `post_sales`: work asked for on the won deal, beside its commitment (starts empty, sends `kind`). */
  kind?: 'post_sales';
  /** What a request would leave of the quarter (the deal's commitment only), shown above the form for the effort typed. */
  preview?: CapacityPreview | null;
}

/**
 * The rep declares (or renegotiates) the feature commitment and asks engineering to review it.
 * Validated with the API's own schema before anything is sent.
 */
export function CommitmentForm({ gate, busy, submitting, serverErrors, onSubmit, kind, preview }: CommitmentFormProps) {
  const postSales = kind === 'post_sales';
  const review = postSales ? null : gate.review;
  const [summary, setSummary] = useState(postSales ? '' : gate.deal.commitmentSummary ?? review?.summary ?? '');
  const [effortWeeks, setEffortWeeks] = useState<number | undefined>(postSales ? undefined : gate.deal.effortWeeks ?? review?.effortWeeks ?? undefined);
  const [neededBy, setNeededBy] = useState<CalendarDate | undefined>(fromIsoDate(review?.neededBy));
  const testId = (field: string) => `${postSales ? 'post-sales' : 'commitment'}-${field}`;
  const [errors, setErrors] = useState<Record<string, string>>({});
  const shown = { ...serverErrors, ...errors };

  const approved = review !== null && review.coversDeal;
  const renegotiating = review !== null && !approved;
  const submit = () => {
    const input: Record<string, unknown> = { summary, effortWeeks };
    if (postSales) input.kind = 'post_sales';
    if (neededBy) input.neededBy = toIsoDate(neededBy);
    const result = validateWith(requestReviewBody, input);
    if (!result.ok) {
      setErrors(result.errors);
      return;
    }
    setErrors({});
    onSubmit(result.value);
  };

  return (
    <>
      {preview !== undefined && <CapacityPreviewSection preview={preview} typedWeeks={effortWeeks} />}
      <Flex direction="column" gap="sm" testId={testId('form')}>
        <Text format={{ fontWeight: 'demibold' }}>
          {postSales ? 'Request post-sales work' : approved ? 'Change the commitment' : renegotiating ? 'Renegotiate the commitment' : 'Declare a feature commitment'}
        </Text>
        {postSales && (
          <Text variant="microcopy" testId="post-sales-note">
            Customization or implementation work the won deal needs: once approved it is booked against the quarter's customer share, beside the
            deal's commitment.
          </Text>
        )}
        {approved && (
          <Text variant="microcopy" testId="commitment-approved-note">
            The approval covers the commitment as it is; a changed commitment needs a new review.
          </Text>
        )}
        <TextArea
          label={postSales ? 'What post-sales work does the customer need?' : 'What did the customer ask engineering to build?'}
          name="summary"
          testId={testId('summary')}
          value={summary}
          required
          {...errorProps(shown, 'summary')}
          onChange={(value) => setSummary(value)}
        />
        <NumberInput
          label="Effort (engineer-weeks)"
          name="effortWeeks"
          testId={testId('effort')}
          value={effortWeeks}
          required
          min={0}
          precision={1}
          {...errorProps(shown, 'effortWeeks')}
          onChange={(value) => setEffortWeeks(Number.isFinite(value) ? value : undefined)}
        />
        <DateInput
          label="Needed by"
          name="neededBy"
          testId={testId('needed-by')}
          format="YYYY-MM-DD"
          value={neededBy}
          {...errorProps(shown, 'neededBy')}
          onChange={(value) => setNeededBy(value ? { year: value.year, month: value.month, date: value.date } : undefined)}
        />
        <LoadingButton variant="primary" testId={postSales ? 'request-post-sales' : 'request-review'} loading={submitting} disabled={busy} onClick={submit}>
          {postSales ? 'Request review of the post-sales work' : approved ? 'Request review of the change' : renegotiating ? 'Request a new review' : 'Request review'}
        </LoadingButton>
      </Flex>
    </>
  );
}
