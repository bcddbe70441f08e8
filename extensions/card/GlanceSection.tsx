import { DescriptionList, DescriptionListItem, Flex, Heading, StatusTag, Text } from '@hubspot/ui-extensions';
import type { GateResponse } from '../contract/api';
import { formatAmount, formatWeeks, gateOutlook, gateStatusTag, slaText } from './gateWording';
import { triggerLine } from './triggerWording';

/** At a glance: is a commitment present, is review required and why, the status, the SLA clock. */
export function GlanceSection({ gate }: { gate: GateResponse }) {
  const tag = gateStatusTag[gate.gate.status];
  const { deal } = gate;
  const commitment = deal.commitment
    ? `Yes: ${deal.commitmentSummary ?? '(no summary written)'}${deal.effortWeeks !== null ? ` (${formatWeeks(deal.effortWeeks)} of engineering)` : ''}`
    : 'None declared';
  const required = gate.gate.reviewRequired ? 'Yes' : 'No';
  const outlook = gateOutlook(gate.gate, gate.standingFlag);
  const amountLabel = gate.gate.amountBasis === 'home_currency' && gate.gate.amount !== deal.amount ? 'Amount (account currency) vs threshold' : 'Amount vs threshold';
  return (
    <Flex direction="column" gap="sm">
      <Flex direction="row" gap="sm" align="center">
        <Heading>Engineering review</Heading>
        <StatusTag variant={tag.variant} testId="gate-status">
          {tag.label}
        </StatusTag>
      </Flex>
      <DescriptionList direction="row" testId="glance">
        <DescriptionListItem label="Feature commitment" testId="glance-commitment">
          <Text>{commitment}</Text>
        </DescriptionListItem>
        <DescriptionListItem label="Review required" testId="glance-required">
          <Text>{required}</Text>
        </DescriptionListItem>
        <DescriptionListItem label={amountLabel} testId="glance-amount">
          <Text>{`${formatAmount(gate.gate.amount)} vs ${formatAmount(gate.gate.threshold)}`}</Text>
        </DescriptionListItem>
        <DescriptionListItem label="Gate stage" testId="glance-gate-stage">
          <Text>{gate.gate.gateStage ? gate.gate.gateStage.label : 'none in this pipeline (not gated)'}</Text>
        </DescriptionListItem>
      </DescriptionList>
      <Text variant="microcopy" testId="glance-reason">
        {gate.gate.reason}
      </Text>
      {triggerLine(gate.gate) && <Text testId="glance-trigger">{triggerLine(gate.gate)}</Text>}
      {gate.sla && (
        <Text format={{ fontWeight: 'bold' }} testId="sla-clock">
          {`Engineering's answer: ${slaText(gate.sla)} (SLA ${gate.sla.slaHours} h)`}
        </Text>
      )}
      <Text testId={outlook.key === 'past_gate' ? 'glance-past-gate' : 'glance-outlook'}>{outlook.text}</Text>
    </Flex>
  );
}
