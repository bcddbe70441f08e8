import { useCallback, useMemo, useState } from 'react';
import type { ExtensionPointApi } from '@hubspot/ui-extensions';
import type { CapacityCommitment, DecisionBody, DeliveryUpdateBody, GateResponse, PerspectiveBody, RequestReviewBody, BreakGlassBody } from '../contract/api';
import { createServiceClient, DEFAULT_SERVICE_URL, type ServiceFetcher, type ServiceResult } from '../client/serviceClient';
import { NotLoaded, useServiceLoad } from '../client/useServiceLoad';
import type { CapacityConflict } from './DecisionForm';
import { GateView, type ActionFailure, type CardAction } from './GateView';

type TabApi = ExtensionPointApi<'crm.record.tab'>;

export interface DealgateCardProps {
  context: TabApi['context'];
  actions: Pick<TabApi['actions'], 'refreshObjectProperties' | 'addAlert'>;
  /** `hubspot.fetch`; injected so tests answer with real service responses. */
  fetcher: ServiceFetcher;
  /** The service's public URL (listed in the app's permittedUrls.fetch). */
  baseUrl?: string;
}

const successMessage: Record<CardAction, string> = {
  request: 'Review requested: the reviewers have a task in HubSpot.',
  withdraw: 'Request withdrawn.',
  decide: 'Answer sent: the rep sees it on the deal.',
  delivery: 'Delivery saved: HubSpot shows its status and date.',
  perspective: 'View given: the decision maker sees it on the deal.',
  break_glass: 'Break-glass open: the deal may pass the gate until the time box ends; a note on the deal says so.',
};

function numberOr(value: unknown): number | null {
  return typeof value === 'number' ? value : null;
}

/** A 409 from a decision whose details carry the allocation: the card asks what to deprioritize. */
function capacityConflictOf(result: Extract<ServiceResult<unknown>, { ok: false }>): CapacityConflict | null {
  const d = result.details;
  if (result.code !== 'conflict' || !Array.isArray(d.candidates)) return null;
  return {
    message: result.message,
    quarter: typeof d.quarter === 'string' ? d.quarter : null,
    allocationWeeks: numberOr(d.allocationWeeks),
    usedWeeks: numberOr(d.usedWeeks),
    remainingWeeks: numberOr(d.remainingWeeks),
    requestedWeeks: numberOr(d.requestedWeeks),
    candidates: d.candidates as CapacityCommitment[],
    moreCommitments: typeof d.moreCommitments === 'number' ? d.moreCommitments : 0,
  };
}

/** The deal card: loads the gate, renders it, and carries out the rep's and the reviewer's actions. */
export function DealgateCard({ context, actions, fetcher, baseUrl = DEFAULT_SERVICE_URL }: DealgateCardProps) {
  const client = useMemo(() => createServiceClient(fetcher, baseUrl), [fetcher, baseUrl]);
  const dealId = String(context.crm.objectId);
  const read = useCallback(() => client.getGate(dealId), [client, dealId]);
  const { state, load, refresh, begin } = useServiceLoad(read);
  const [inFlight, setInFlight] = useState<CardAction | null>(null);
  const [failure, setFailure] = useState<ActionFailure | null>(null);

  const run = useCallback(
    (action: CardAction, send: () => Promise<ServiceResult<GateResponse>>) => {
      if (inFlight !== null) return;
      setInFlight(action);
      setFailure(null);
      const land = begin();
      void send().then((result) => {
        setInFlight(null);
        if (result.ok) {
          land(result.body);
          // The service wrote dealgate_* properties (status, commitment): HubSpot's own cards show them fresh.
          actions.refreshObjectProperties();
          actions.addAlert({ type: 'success', message: successMessage[action] });
        } else {
          const capacityConflict = action === 'decide' ? capacityConflictOf(result) : null;
          setFailure({
            action,
            status: result.status,
            code: result.code,
            message: result.message,
            fieldErrors: result.fieldErrors,
            capacityConflict,
          });
          // Refused because the world moved on (permissions changed, someone else answered first):
          // show the deal as it is now, beside the reason.
          if ((result.status === 403 || result.status === 404 || result.status === 409) && capacityConflict === null) refresh();
        }
      });
    },
    [actions, begin, inFlight, refresh],
  );

  if (state.kind !== 'loaded') {
    return (
      <NotLoaded
        state={state}
        retry={load}
        testIdPrefix="card"
        loadingLabel="Loading the deal's review status"
        forbiddenTitle="You cannot see Dealgate on this deal"
        errorTitle="Dealgate could not load this deal"
      />
    );
  }
  return (
    <GateView
      gate={state.body}
      inFlight={inFlight}
      failure={failure}
      onRequest={(body: RequestReviewBody) => run('request', () => client.requestReview(dealId, body))}
      onWithdraw={(reviewId: number) => run('withdraw', () => client.withdraw(reviewId))}
      onDecide={(reviewId: number, body: DecisionBody) => run('decide', () => client.decide(reviewId, body))}
      onUpdateDelivery={(reviewId: number, body: DeliveryUpdateBody) => run('delivery', () => client.updateDelivery(reviewId, body))}
      onGiveView={(reviewId: number, body: PerspectiveBody) => run('perspective', () => client.givePerspective(reviewId, body))}
      onBreakGlass={(body: BreakGlassBody) => run('break_glass', () => client.breakGlass(dealId, body))}
    />
  );
}
