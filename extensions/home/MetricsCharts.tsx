import { BarChart, Heading, LineChart, Text } from '@hubspot/ui-extensions';
import type { DashboardSeries } from '../contract/api';
import { outcomeLabel } from '../card/gateWording';

const shareLabel = { customer: 'Customer commitments', maintenance: 'Maintenance and tech debt', product: 'Product work' } as const;
const measureLabel = { allocated: 'Allocated', promised: 'Promised' } as const;
const revenueLabel = { approved: 'Won, approved', delivered: 'Won, delivered', goal: 'Goal' } as const;

/**
 * The home page's charts (issue 14, shared metrics), drawn from the series the dashboard API
 * returns; labels are worded here so the charts show people's words, not the API's codes. A series
 * with nothing to draw says so instead of an empty chart.
 */
export function MetricsCharts({ series }: { series: DashboardSeries }) {
  return (
    <>
      <Heading>Decisions per week</Heading>
      <BarChart
        testId="chart-decisions"
        data={series.decisionsPerWeek.map((p) => ({ week: p.week, outcome: outcomeLabel[p.outcome], count: p.count }))}
        axes={{ x: { field: 'week', fieldType: 'category', label: 'Week of' }, y: { field: 'count', fieldType: 'linear', label: 'Decisions' }, options: { groupFieldByColor: 'outcome', stacking: true } }}
        options={{ showLegend: true, showTooltips: true }}
      />
      <Heading>Median hours to decision per week</Heading>
      {series.medianHoursPerWeek.length === 0 ? (
        <Text testId="chart-median-none">No decision yet this quarter.</Text>
      ) : (
        <LineChart
          testId="chart-median-hours"
          data={series.medianHoursPerWeek.map((p) => ({ week: p.week, hours: p.medianHours }))}
          axes={{ x: { field: 'week', fieldType: 'category', label: 'Week of' }, y: { field: 'hours', fieldType: 'linear', label: 'Median hours' } }}
          options={{ showDataLabels: true, showTooltips: true }}
        />
      )}
      <Heading>Capacity against each share</Heading>
      {series.capacityByShare.length === 0 ? (
        <Text testId="chart-capacity-none">Capacity is not tracked.</Text>
      ) : (
        <BarChart
          testId="chart-capacity"
          data={series.capacityByShare.map((p) => ({ share: shareLabel[p.share], measure: measureLabel[p.measure], weeks: p.weeks }))}
          axes={{ x: { field: 'share', fieldType: 'category', label: 'Share' }, y: { field: 'weeks', fieldType: 'linear', label: 'Engineer-weeks' }, options: { groupFieldByColor: 'measure' } }}
          options={{ showLegend: true, showDataLabels: true }}
        />
      )}
      <Heading>On-time delivery per quarter</Heading>
      {series.onTimePerQuarter.length === 0 ? (
        <Text testId="chart-on-time-none">No commitment delivered or overdue yet.</Text>
      ) : (
        <LineChart
          testId="chart-on-time"
          data={series.onTimePerQuarter.map((p) => ({ quarter: p.quarter, percent: p.onTimePercent }))}
          axes={{ x: { field: 'quarter', fieldType: 'category', label: 'Quarter first promised' }, y: { field: 'percent', fieldType: 'linear', label: 'On time (%)' } }}
          options={{ showDataLabels: true }}
        />
      )}
      <Heading>Revenue against the goal</Heading>
      <LineChart
        testId="chart-revenue"
        data={series.revenueAgainstGoal.map((p) => ({ week: p.week, series: revenueLabel[p.series], amount: p.amount }))}
        axes={{ x: { field: 'week', fieldType: 'category', label: 'Week of' }, y: { field: 'amount', fieldType: 'linear', label: 'Amount' }, options: { groupFieldByColor: 'series' } }}
        options={{ showLegend: true, showTooltips: true }}
      />
    </>
  );
}
