import { Alert, Flex, Heading, ProgressBar, TableCell, TableRow, Text } from '@hubspot/ui-extensions';
import type { SharedMetrics } from '../contract/api';
import { HeadedTable } from '../card/HeadedTable';
import { MetricsCharts } from './MetricsCharts';
import { capacityPromisedLine, money, repLabel, revenueGoalLine } from './sharedMetricsWording';

/**
 * Both sides' shared figures on the home page (issue 14): engineering's revenue goal (and the
 * moment it is reached), sales' side (the customer capacity already promised, violations per rep),
 * and the charts.
 */
export function SharedMetricsSection({ metrics }: { metrics: SharedMetrics }) {
  const { revenue, sales } = metrics;
  return (
    <Flex direction="column" gap="sm">
      <Heading>{`Shared metrics, ${revenue.quarter}`}</Heading>
      {revenue.reachedBy !== null ? (
        <Alert title="Revenue goal reached" variant="success" testId="revenue-goal-reached">
          {revenueGoalLine(revenue)}
        </Alert>
      ) : (
        <Text testId="revenue-goal">{revenueGoalLine(revenue)}</Text>
      )}
      {revenue.goal !== null && revenue.reachedBy === null && (
        <ProgressBar
          testId="revenue-goal-bar"
          title="Toward engineering's revenue goal"
          value={revenue.approvedAmount}
          maxValue={revenue.goal}
          showPercentage
          valueDescription={`${money(revenue.approvedAmount, revenue.currency)} of ${money(revenue.goal, revenue.currency)}`}
        />
      )}
      <Text testId="capacity-promised">{capacityPromisedLine(sales)}</Text>
      {sales.violationsByRep.length === 0 ? (
        <Text testId="violations-by-rep-none">No rep's deal moved past the gate without sign-off this quarter.</Text>
      ) : (
        <HeadedTable testId="violations-by-rep" headers={['Rep (deal owner)', 'Moves past the gate without sign-off']}>
          {sales.violationsByRep.map((v) => (
            <TableRow key={v.rep?.ownerId ?? 'none'} testId={`violations-rep-${v.rep?.ownerId ?? 'none'}`}>
              <TableCell>{repLabel(v.rep)}</TableCell>
              <TableCell>{String(v.count)}</TableCell>
            </TableRow>
          ))}
        </HeadedTable>
      )}
      <MetricsCharts series={metrics.series} />
    </Flex>
  );
}
