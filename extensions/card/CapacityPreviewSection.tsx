import { Alert, Text } from '@hubspot/ui-extensions';
import type { CapacityPreview } from '../contract/api';
import { previewLine } from './capacityWording';

/** Before the rep requests: what the quarter's customer share has left and what this commitment would leave (the service computes it). */
export function CapacityPreviewSection({ preview }: { preview: CapacityPreview | null }) {
  if (!preview) return null;
  if (preview.fits) {
    return (
      <Text variant="microcopy" testId="capacity-preview">
        {previewLine(preview)}
      </Text>
    );
  }
  return (
    <Alert title="This request does not fit the quarter" variant="warning" testId="capacity-preview">
      {previewLine(preview)}
    </Alert>
  );
}
