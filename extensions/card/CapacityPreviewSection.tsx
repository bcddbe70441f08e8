import { Alert, Text } from '@hubspot/ui-extensions';
import type { CapacityPreview } from '../contract/api';
import { previewLine } from './capacityWording';

const round = (n: number) => Math.round(n * 1000) / 1000;

/**
 * The service's preview with the effort the rep has typed in place of the deal's (the form is not
 * saved yet): what is left stays the service's, what the request would leave follows the input.
 * No effort typed: the deal's own (0 when it names none, and then only what is left is said).
 */
export function withTypedEffort(preview: CapacityPreview, typedWeeks: number | undefined): CapacityPreview {
  if (typedWeeks === undefined || !(typedWeeks > 0) || typedWeeks === preview.requestedWeeks) return preview;
  const after = preview.remainingWeeks - typedWeeks;
  // The service's rule (domain/capacityShares.ts requestPreview): over only past rounding noise.
  return { ...preview, requestedWeeks: typedWeeks, remainingAfterWeeks: round(after), fits: after >= -1e-9 * Math.max(1, preview.customerWeeks) };
}

/** Before the rep requests: what the quarter's customer share has left and what this commitment would leave (the service computes it; `typedWeeks`, what the form holds). */
export function CapacityPreviewSection({ preview, typedWeeks }: { preview: CapacityPreview | null; typedWeeks?: number | undefined }) {
  if (!preview) return null;
  const shown = withTypedEffort(preview, typedWeeks);
  if (shown.fits || shown.requestedWeeks <= 0) {
    return (
      <Text variant="microcopy" testId="capacity-preview">
        {previewLine(shown)}
      </Text>
    );
  }
  return (
    <Alert title="This request does not fit the quarter" variant="warning" testId="capacity-preview">
      {previewLine(shown)}
    </Alert>
  );
}
