import { EmptyState, Flex, Heading, Link, StatusTag, TableCell, TableRow, Text } from '@hubspot/ui-extensions';
import type { DeliveriesSummary, OnTimeQuarter } from '../contract/api';
import { HeadedTable } from '../card/HeadedTable';
import { deliveryStatusTag } from '../card/deliveryWording';
import { userLabel } from '../card/gateWording';

/** "50% (1 of 2)", or "nothing to count yet" when no commitment of the quarter was due or delivered. */
export function onTimeText(row: OnTimeQuarter): string {
  const counted = row.onTime + row.late + row.overdue;
  if (row.rate === null) return 'nothing to count yet';
  return `${Math.round(row.rate * 100)}% (${row.onTime} of ${counted})`;
}

/**
 * Engineering's side of the bargain on the home page: the commitments still open, by promised
 * date (so the overdue ones first), and on-time delivery per quarter of the date first promised.
 */
export function DeliveriesSection({ deliveries, me }: { deliveries: DeliveriesSummary; me: string }) {
  const more = deliveries.openCount - deliveries.open.length;
  return (
    <Flex direction="column" gap="sm">
      <Heading>Commitments engineering owns</Heading>
      <Text testId="deliveries-counts">{`${deliveries.openCount} open, ${deliveries.overdueCount} overdue.`}</Text>
      {deliveries.open.length === 0 ? (
        <EmptyState title="No open commitment" layout="horizontal" imageName="task" testId="deliveries-empty">
          <Text>Every approved commitment is delivered or deprioritized.</Text>
        </EmptyState>
      ) : (
        <HeadedTable testId="deliveries" headers={['Deal', 'Owner', 'Status', 'Promised for']}>
          {deliveries.open.map((d) => (
            <TableRow key={d.reviewId} testId={`delivery-${d.reviewId}`}>
              <TableCell>
                {d.workItemUrl ? <Link href={{ url: d.workItemUrl, external: true }}>{d.dealName ?? `Deal ${d.dealId}`}</Link> : (d.dealName ?? `Deal ${d.dealId}`)}
              </TableCell>
              <TableCell>{d.ownerDeactivated ? `${userLabel(d.owner, me)} (deactivated in HubSpot: needs a new owner)` : userLabel(d.owner, me)}</TableCell>
              <TableCell>
                <StatusTag variant={d.overdue ? 'danger' : deliveryStatusTag[d.status].variant}>{d.overdue ? `Overdue (${deliveryStatusTag[d.status].label})` : deliveryStatusTag[d.status].label}</StatusTag>
              </TableCell>
              <TableCell>{d.promisedDate}</TableCell>
            </TableRow>
          ))}
        </HeadedTable>
      )}
      {more > 0 && <Text variant="microcopy" testId="deliveries-more">{`And ${more} more, promised later.`}</Text>}
      <Heading>On-time delivery</Heading>
      {deliveries.onTime.length === 0 ? (
        <Text testId="on-time-none">No commitment promised yet.</Text>
      ) : (
        <HeadedTable testId="on-time" headers={['Quarter first promised', 'On time', 'Late', 'Overdue', 'On-time rate']}>
          {deliveries.onTime.map((row) => (
            <TableRow key={row.quarter} testId={`on-time-${row.quarter}`}>
              <TableCell>{row.quarter}</TableCell>
              <TableCell>{String(row.onTime)}</TableCell>
              <TableCell>{String(row.late)}</TableCell>
              <TableCell>{String(row.overdue)}</TableCell>
              <TableCell>{onTimeText(row)}</TableCell>
            </TableRow>
          ))}
        </HeadedTable>
      )}
      <Text variant="microcopy" testId="on-time-basis">
        On time: delivered on or before the date first promised, whatever slips came after; over all delivered or overdue. Deprioritized ones count in neither.
      </Text>
    </Flex>
  );
}
