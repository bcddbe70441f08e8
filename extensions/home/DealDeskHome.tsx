import { useCallback, useMemo, useState } from 'react';
import {
  Alert,
  EmptyState,
  LoadingButton,
  Flex,
  Heading,
  Statistics,
  StatisticsItem,
  StatusTag,
  TableCell,
  TableRow,
  Text,
} from '@hubspot/ui-extensions';
import type { DashboardResponse, DealFlagView, QueueItem } from '../contract/api';
import { createServiceClient, DEFAULT_SERVICE_URL, type ServiceFetcher } from '../client/serviceClient';
import { NotLoaded, useServiceLoad } from '../client/useServiceLoad';
import { CapacitySection } from '../card/CapacitySection';
import { HeadedTable } from '../card/HeadedTable';
import { flagKindLabel, formatAmount, formatWeeks, formatWhen, settingsChangeLine, slaText, userLabel } from '../card/gateWording';
import { dashboardFigures } from './dashboardFigures';
import { DeliveriesSection } from './DeliveriesSection';
import { SharedMetricsSection } from './SharedMetricsSection';
import { BreakGlassSection } from './BreakGlassSection';
import { AbsencesSection } from './AbsencesSection';
import type { AbsenceClient } from './AbsenceForm';

export interface DealDeskHomeProps {
  fetcher: ServiceFetcher;
  baseUrl?: string;
  /** The viewer, to say "you" in the tables. */
  userId?: string;
}

/**
 * The deal desk's home page: the review queue, this quarter's decisions, time to decision and SLA
 * compliance, capacity, and gate violations by person. For reviewers and admins (and, with the
 * Triad on, its members).
 */
export function DealDeskHome({ fetcher, baseUrl = DEFAULT_SERVICE_URL, userId = '' }: DealDeskHomeProps) {
  const client = useMemo(() => createServiceClient(fetcher, baseUrl), [fetcher, baseUrl]);
  const read = useCallback(() => client.getDashboard(), [client]);
  const { state, load, refresh } = useServiceLoad(read);
  // Kept here: the page reloads after the action, and the outcome must outlive that.
  const [enforced, setEnforced] = useState<string | null>(null);

  if (state.kind !== 'loaded') {
    return (
      <NotLoaded
        state={state}
        retry={load}
        testIdPrefix="home"
        loadingLabel="Loading the deal desk"
        forbiddenTitle="The deal desk is for reviewers, admins and the Triad"
        errorTitle="Dealgate could not load the deal desk"
      />
    );
  }
  return (
    <DashboardView
      dashboard={state.body}
      me={userId}
      enforced={enforced}
      absenceClient={client}
      onAbsencesChanged={refresh}
      onEnforceBackfill={async () => {
        const result = await client.enforceBackfill();
        if (!result.ok) {
          setEnforced(`Not enforced: ${result.message}`);
          return;
        }
        setEnforced(
          `${result.body.queued} deal${result.body.queued === 1 ? '' : 's'} found at install queued: Dealgate ${result.body.afterClose === 'flag' ? 'moves the open ones back and flags the won ones' : 'moves them back before the gate'}.`,
        );
        load();
      }}
    />
  );
}

export function DashboardView({
  dashboard,
  me,
  onEnforceBackfill,
  enforced = null,
  absenceClient,
  onAbsencesChanged,
}: {
  dashboard: DashboardResponse;
  /** Recording and ending absences from the page (issue 15); without it the absences are only listed. */
  absenceClient?: AbsenceClient;
  onAbsencesChanged?: () => void;
  me: string;
  /** Admins' one action on the deals the install sweep flagged. */
  onEnforceBackfill?: () => Promise<void>;
  /** What that action did, in words. */
  enforced?: string | null;
}) {
  const figures = dashboardFigures(dashboard);
  return (
    <Flex direction="column" gap="md">
      <Heading>{`Deal desk, ${dashboard.quarter}`}</Heading>
      {dashboard.ungatedPipelines.map((p) => (
        <Alert key={p.id} title="Not gated" variant="warning" testId={`home-ungated-${p.id}`}>
          {`Pipeline "${p.label}" has no gate stage: Dealgate does not gate its deals. An admin chooses one in the settings.`}
        </Alert>
      ))}
      <Statistics testId="home-figures">
        <StatisticsItem label="Waiting for an answer" number={String(figures.waiting)} testId="stat-waiting" />
        <StatisticsItem label="Overdue" number={String(figures.overdue)} testId="stat-overdue" />
        <StatisticsItem label="Decisions this quarter" number={String(figures.decisions)} testId="stat-decisions">
          <Text variant="microcopy">{figures.outcomes}</Text>
        </StatisticsItem>
        <StatisticsItem label="Median time to decision" number={figures.medianTime} testId="stat-median" />
        <StatisticsItem label="Answered within SLA" number={figures.slaCompliance} testId="stat-sla" />
      </Statistics>

      <Heading>Review queue</Heading>
      <QueueTable queue={dashboard.queue} me={me} />

      <CapacitySection capacity={dashboard.capacity} />
      <DeliveriesSection deliveries={dashboard.deliveries} me={me} />
      <SharedMetricsSection metrics={dashboard.sharedMetrics} />
      <BreakGlassSection breakGlasses={dashboard.breakGlasses} me={me} />
      <AbsencesSection absences={dashboard.absences} me={me} client={absenceClient} onChanged={onAbsencesChanged} />

      <Heading>Moves past the gate without sign-off, this quarter</Heading>
      {dashboard.violationsByUser.length === 0 ? (
        <Text testId="violations-none">Nobody moved a deal past the gate without sign-off.</Text>
      ) : (
        <HeadedTable testId="violations" headers={['Who moved the deal', 'Times']}>
          {dashboard.violationsByUser.map((v) => (
            <TableRow key={v.userId} testId={`violation-${v.userId}`}>
              <TableCell>{v.userId === 'unknown' ? 'unknown (HubSpot did not say)' : userLabel(v.person, me)}</TableCell>
              <TableCell>{String(v.count)}</TableCell>
            </TableRow>
          ))}
        </HeadedTable>
      )}
      <FlagsSection dashboard={dashboard} onEnforceBackfill={dashboard.canEnforceBackfill ? onEnforceBackfill : undefined} enforced={enforced} />

      {dashboard.settingsChanges.length > 0 && <Heading>Rule changes</Heading>}
      {dashboard.settingsChanges.map((change) => (
        <Text key={change.id} variant="microcopy" testId={`home-change-${change.id}`}>
          {settingsChangeLine(change)}
        </Text>
      ))}
      <Text variant="microcopy" testId="home-as-of">{`Figures from Dealgate's own records, as of ${formatWhen(dashboard.asOf)}.`}</Text>
    </Flex>
  );
}

function QueueTable({ queue, me }: { queue: QueueItem[]; me: string }) {
  if (queue.length === 0) {
    return (
      <EmptyState title="No review is waiting" layout="horizontal" imageName="task" testId="queue-empty">
        <Text>Every requested review has an answer.</Text>
      </EmptyState>
    );
  }
  return (
    <HeadedTable testId="queue" headers={['Deal', 'Amount', 'Commitment', 'Requested by', 'SLA']}>
      {queue.map((item) => {
        const overdue = item.remainingMs < 0;
        return (
          <TableRow key={item.reviewId} testId={`queue-${item.reviewId}`}>
            <TableCell>{item.dealName ?? `Deal ${item.dealId}`}</TableCell>
            <TableCell>{formatAmount(item.amount)}</TableCell>
            <TableCell>{`${item.kind === 'post_sales' ? 'Post-sales: ' : ''}${item.summary} (${formatWeeks(item.effortWeeks)})`}</TableCell>
            <TableCell>{userLabel(item.requester, me)}</TableCell>
            <TableCell>
              <StatusTag variant={overdue ? 'danger' : 'info'}>{slaText({ remainingMs: item.remainingMs, overdue })}</StatusTag>
            </TableCell>
          </TableRow>
        );
      })}
    </HeadedTable>
  );
}

function FlagsSection({
  dashboard,
  onEnforceBackfill,
  enforced,
}: {
  dashboard: DashboardResponse;
  onEnforceBackfill: (() => Promise<void>) | undefined;
  enforced: string | null;
}) {
  const [busy, setBusy] = useState(false);
  const counts = dashboard.flagCounts;
  const found = counts.backfill;
  return (
    <Flex direction="column" gap="sm">
      <Heading>Deals past the gate without sign-off, not moved</Heading>
      <Text testId="flag-counts">
        {`Won without sign-off: ${counts.after_close}. Found at install: ${found}. Needing review since the rules tightened: ${counts.rules_tightened}. Passed under a relaxed rule: ${counts.relaxed_passage}.`}
      </Text>
      {dashboard.flags.length > 0 && (
        <HeadedTable testId="flags" headers={['Deal', 'Why', 'Since']}>
          {dashboard.flags.map((flag: DealFlagView) => (
            <TableRow key={flag.id} testId={`flag-${flag.id}`}>
              <TableCell>{flag.dealName ?? `Deal ${flag.dealId}`}</TableCell>
              <TableCell>{`${flagKindLabel[flag.kind]}: ${flag.reason}`}</TableCell>
              <TableCell>{formatWhen(flag.createdAt)}</TableCell>
            </TableRow>
          ))}
        </HeadedTable>
      )}
      {found > 0 && onEnforceBackfill && (
        <LoadingButton
          testId="enforce-backfill"
          loading={busy}
          disabled={busy}
          onClick={() => {
            setBusy(true);
            void onEnforceBackfill().finally(() => setBusy(false));
          }}
        >
          {`Enforce the ${found} deal${found === 1 ? '' : 's'} found at install`}
        </LoadingButton>
      )}
      {enforced && <Text testId="enforce-backfill-outcome">{enforced}</Text>}
    </Flex>
  );
}
