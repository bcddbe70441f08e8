import { useCallback, useEffect, useRef, useState } from 'react';
import { Button, ErrorState, LoadingSpinner, Text } from '@hubspot/ui-extensions';
import type { ServiceResult } from './serviceClient';

/** Where a view that loads one resource from the service stands. */
export type LoadState<T> =
  | { kind: 'loading' }
  | { kind: 'loaded'; body: T }
  | { kind: 'forbidden'; message: string }
  | { kind: 'error'; message: string };

export interface ServiceLoad<T> {
  state: LoadState<T>;
  /** Reads again, showing the loading state (first load, "Try again"). */
  load: () => void;
  /** Reads again quietly: what is shown stays until the answer lands; a failed read changes nothing. */
  refresh: () => void;
  /**
   * For a write that answers with the new state: call when the write starts; the function it
   * returns shows that answer, unless a later load or write has started since.
   */
  begin: () => (body: T) => void;
}

/**
 * Loads `read()` on mount and whenever `read` changes. Only the latest read or write may land: a
 * slow answer never overwrites a newer one, and nothing lands after unmount. A 403 is the
 * forbidden state (the service's reason shown, no retry); any other failure is an error with retry.
 */
export function useServiceLoad<T>(read: () => Promise<ServiceResult<T>>): ServiceLoad<T> {
  const [state, setState] = useState<LoadState<T>>({ kind: 'loading' });
  const generation = useRef(0);

  const load = useCallback(() => {
    const mine = ++generation.current;
    setState({ kind: 'loading' });
    void read().then((result) => {
      if (mine !== generation.current) return;
      if (result.ok) setState({ kind: 'loaded', body: result.body });
      else if (result.status === 403) setState({ kind: 'forbidden', message: result.message });
      else setState({ kind: 'error', message: result.message });
    });
  }, [read]);

  const refresh = useCallback(() => {
    const mine = ++generation.current;
    void read().then((result) => {
      if (mine === generation.current && result.ok) setState({ kind: 'loaded', body: result.body });
    });
  }, [read]);

  const begin = useCallback(() => {
    const mine = ++generation.current;
    return (body: T) => {
      if (mine === generation.current) setState({ kind: 'loaded', body });
    };
  }, []);

  useEffect(() => {
    load();
    return () => {
      generation.current++;
    };
  }, [load]);

  return { state, load, refresh, begin };
}

export interface NotLoadedProps {
  state: Exclude<LoadState<unknown>, { kind: 'loaded' }>;
  retry: () => void;
  /** Test ids are `<testIdPrefix>-loading`, `-forbidden`, `-error` and `-retry`. */
  testIdPrefix: string;
  loadingLabel: string;
  forbiddenTitle: string;
  errorTitle: string;
}

/** The loading, forbidden and error (with "Try again") states, worded by the view. */
export function NotLoaded({ state, retry, testIdPrefix, loadingLabel, forbiddenTitle, errorTitle }: NotLoadedProps) {
  if (state.kind === 'loading') return <LoadingSpinner label={loadingLabel} testId={`${testIdPrefix}-loading`} />;
  if (state.kind === 'forbidden') {
    return (
      <ErrorState title={forbiddenTitle} type="lock" testId={`${testIdPrefix}-forbidden`}>
        <Text>{state.message}</Text>
      </ErrorState>
    );
  }
  return (
    <ErrorState title={errorTitle} type="error" testId={`${testIdPrefix}-error`}>
      <Text>{state.message}</Text>
      <Button testId={`${testIdPrefix}-retry`} onClick={retry}>
        Try again
      </Button>
    </ErrorState>
  );
}
