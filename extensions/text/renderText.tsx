import { createRenderer } from '@hubspot/ui-extensions/testing';
import { personLabel, type DashboardResponse, type GateResponse } from '../contract/api';
import { GateView } from '../card/GateView';
import { DashboardView } from '../home/DealDeskHome';
import { treeToText } from './treeText';

/**
 * What the deal card shows for a gate response, as plain text: the demo prints it at each step.
 * It renders the card's real view with HubSpot's own renderer (no HubSpot needed), then reads the
 * tree. The response already holds what `userId` may do (roles, permissions), so it must be the
 * answer the service gave that user.
 */
export function renderCardAsText(gate: GateResponse, userId: string): string {
  if (gate.caller.userId !== userId) {
    throw new Error(`this gate response was computed for user ${gate.caller.userId}, not ${userId}: ask the service as ${userId}`);
  }
  const renderer = createRenderer('crm.record.tab');
  const noAction = () => undefined;
  renderer.render(<GateView gate={gate} inFlight={null} failure={null} onRequest={noAction} onWithdraw={noAction} onDecide={noAction} onUpdateDelivery={noAction} onGiveView={noAction} onBreakGlass={noAction} />);
  const header = `Deal ${gate.dealId}${gate.deal.name ? ` "${gate.deal.name}"` : ''}, seen by ${personLabel(gate.caller.person)} (${gate.caller.roles.join(', ')})`;
  return `${header}\n${treeToText(renderer.getRootNode())}`;
}

/** What the deal-desk home page shows for a dashboard response, as plain text. */
export function renderDashboardAsText(dashboard: DashboardResponse, userId: string): string {
  const renderer = createRenderer('home');
  renderer.render(<DashboardView dashboard={dashboard} me={userId} />);
  return treeToText(renderer.getRootNode());
}
