import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { Button, ErrorState, LoadingSpinner, Text } from '@hubspot/ui-extensions';
import type { ExtensionPointApi } from '@hubspot/ui-extensions';
import type { CapacityCommitment, DecisionBody, GateResponse, RequestReviewBody } from '../contract/api';
import { createServiceClient, DEFAULT_SERVICE_URL, type ServiceFetcher, type ServiceResult } from '../client/serviceClient';
import type { CapacityConflict } from './DecisionForm';
import { GateView, type ActionFailure, type CardAction } from './GateView';

type TabApi = ExtensionPointApi<'crm.record.tab'>;

/** What the card needs from `hubspot.fetch`: injected so tests answer with real service responses. */
export type CardFetcher = ServiceFetcher;
export { DEFAULT_SERVICE_URL };

export interface DealgateCardProps {
  context: TabApi['context'];
  actions: Pick<TabApi['actions'], 'refreshObjectProperties' | 'addAlert'>;
  fetcher: CardFetcher;
  /** The service's public URL (listed in the app's permittedUrls.fetch). */
  baseUrl?: string;
}

type LoadState =
  | { kind: 'loading' }
  | { kind: 'loaded'; gate: GateResponse }
  | { kind: 'forbidden'; message: string }
  | { kind: 'error'; message: string };

const successMessage: Record<CardAction, string> = {
  request: 'Review requested: the reviewers have a task in HubSpot.',
  withdraw: 'Request withdrawn.',
  decide: 'Answer sent: the rep sees it on the deal.',
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
  };
}

/** The deal card: loads the gate, renders it, and carries out the rep's and the reviewer's actions. */
export function DealgateCard({ context, actions, fetcher, baseUrl = DEFAULT_SERVICE_URL }: DealgateCardProps) {
  const client = useMemo(() => createServiceClient(fetcher, baseUrl), [fetcher, baseUrl]);
  const dealId = String(context.crm.objectId);
  const [state, setState] = useState<LoadState>({ kind: 'loading' });
  const [inFlight, setInFlight] = useState<CardAction | null>(null);
  const [failure, setFailure] = useState<ActionFailure | null>(null);
  // Only the latest load may land: a slow answer never overwrites a newer one.
  const generation = useRef(0);

  const load = useCallback(() => {
    const mine = ++generation.current;
    setState({ kind: 'loading' });
    void client.getGate(dealId).then((result) => {
      if (mine !== generation.current) return;
      if (result.ok) setState({ kind: 'loaded', gate: result.body });
      else if (result.status === 403) setState({ kind: 'forbidden', message: result.message });
      else setState({ kind: 'error', message: result.message });
    });
  }, [client, dealId]);

  /** Fetches the gate again without the loading state: after a refusal the card shows what is true now. */
  const refresh = useCallback(() => {
    const mine = ++generation.current;
    void client.getGate(dealId).then((result) => {
      if (mine === generation.current && result.ok) setState({ kind: 'loaded', gate: result.body });
    });
  }, [client, dealId]);

  useEffect(() => {
    load();
    return () => {
      generation.current++;
    };
  }, [load]);

  const run = useCallback(
    (action: CardAction, send: () => Promise<ServiceResult<GateResponse>>) => {
      if (inFlight !== null) return;
      setInFlight(action);
      setFailure(null);
      const mine = ++generation.current;
      void send().then((result) => {
        setInFlight(null);
        if (result.ok) {
          if (mine === generation.current) setState({ kind: 'loaded', gate: result.body });
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
    [actions, inFlight, refresh],
  );

  if (state.kind === 'loading') return <LoadingSpinner label="Loading the deal's review status" testId="card-loading" />;
  if (state.kind === 'forbidden') {
    return (
      <ErrorState title="You cannot see Dealgate on this deal" type="lock" testId="card-forbidden">
        <Text>{state.message}</Text>
      </ErrorState>
    );
  }
  if (state.kind === 'error') {
    return (
      <ErrorState title="Dealgate could not load this deal" type="error" testId="card-error">
        <Text>{state.message}</Text>
        <Button testId="card-retry" onClick={load}>
          Try again
        </Button>
      </ErrorState>
    );
  }
  return (
    <GateView
      gate={state.gate}
      inFlight={inFlight}
      failure={failure}
      onRequest={(body: RequestReviewBody) => run('request', () => client.requestReview(dealId, body))}
      onWithdraw={(reviewId: number) => run('withdraw', () => client.withdraw(reviewId))}
      onDecide={(reviewId: number, body: DecisionBody) => run('decide', () => client.decide(reviewId, body))}
    />
  );
}
