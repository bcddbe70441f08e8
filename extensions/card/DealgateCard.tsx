import { useEffect, useState } from 'react';
import { Alert, Heading, LoadingSpinner, Text } from '@hubspot/ui-extensions';
import type { ExtensionPointApi, hubspot } from '@hubspot/ui-extensions';

type TabApi = ExtensionPointApi<'crm.record.tab'>;

/** What the card needs from `hubspot.fetch`: injected so tests answer with real service responses. */
export type CardFetcher = typeof hubspot.fetch;

export interface DealgateCardProps {
  context: TabApi['context'];
  actions: TabApi['actions'];
  fetcher: CardFetcher;
  /** The service's public URL (listed in the app's permittedUrls.fetch). */
  baseUrl?: string;
}

export const DEFAULT_SERVICE_URL = 'https://dealgate.example.com';

type LoadState = { kind: 'loading' } | { kind: 'loaded'; body: unknown } | { kind: 'error'; message: string };

export function DealgateCard({ context, fetcher, baseUrl = DEFAULT_SERVICE_URL }: DealgateCardProps) {
  const [state, setState] = useState<LoadState>({ kind: 'loading' });
  const dealId = context.crm.objectId;

  useEffect(() => {
    let current = true;
    fetcher(`${baseUrl}/api/v1/deals/${dealId}/gate`, { method: 'GET' })
      .then(async (response) => {
        const body: unknown = await response.json();
        if (!current) return;
        setState(response.ok ? { kind: 'loaded', body } : { kind: 'error', message: `Dealgate answered ${response.status}` });
      })
      .catch((error: unknown) => {
        if (current) setState({ kind: 'error', message: error instanceof Error ? error.message : String(error) });
      });
    return () => {
      current = false;
    };
  }, [fetcher, baseUrl, dealId]);

  return (
    <>
      <Heading>Engineering review</Heading>
      {state.kind === 'loading' && <LoadingSpinner label="Loading the deal's review status" testId="card-loading" />}
      {state.kind === 'error' && (
        <Alert title="Dealgate could not load this deal" variant="error" testId="card-error">
          {state.message}
        </Alert>
      )}
      {state.kind === 'loaded' && <Text testId="card-loaded">Review status loaded.</Text>}
    </>
  );
}
