import { StatusTag, type HubSpotReactComponent, type UnknownComponentProps } from '@hubspot/ui-extensions';
import { createRenderer, type Renderer } from '@hubspot/ui-extensions/testing';
import { DealgateCard } from '../../extensions/card/DealgateCard';
import type { ServiceFetcher } from '../../extensions/client/serviceClient';
import type { LiveService } from './support/liveService';
import { textContent, treeToText } from '../../extensions/text/treeText';

export const WAIT = { timeoutInMs: 8000 };

/** Opens the deal card as HubSpot would for `dealId`, with `fetcher` as hubspot.fetch. */
export function openCard(live: LiveService, dealId: string, fetcher: ServiceFetcher): Renderer<'crm.record.tab'> {
  const renderer = createRenderer('crm.record.tab');
  const context = { ...renderer.mocks.context, crm: { ...renderer.mocks.context.crm, objectId: Number(dealId) } };
  renderer.render(<DealgateCard context={context} actions={renderer.mocks.actions} fetcher={fetcher} baseUrl={live.url} />);
  return renderer;
}

/** Opens the card as `userId` and waits until the gate is shown. */
export async function openLoadedCard(live: LiveService, dealId: string, userId: string): Promise<Renderer<'crm.record.tab'>> {
  const renderer = openCard(live, dealId, live.fetcherFor(userId));
  await renderer.waitFor(() => expect(renderer.findByTestId(StatusTag, 'gate-status')).toBeDefined(), WAIT);
  return renderer;
}

export function statusOf(renderer: Renderer<'crm.record.tab'>): string | null {
  return renderer.findByTestId(StatusTag, 'gate-status').text;
}

/**
 * Fires an event prop with the value a HubSpot input hands its handler. (`trigger`'s declared
 * argument type is the handler itself, not its argument, in 0.17.0's typings.)
 */
export function fire(node: { trigger: (...args: never[]) => void }, prop: string, value?: unknown): void {
  (node.trigger as unknown as (name: string, arg?: unknown) => void)(prop, value);
}

/** What the element with `testId` says, all its text included (`.text` is null when it holds elements). */
export function says<TProps extends UnknownComponentProps>(
  renderer: Pick<Renderer<'crm.record.tab'>, 'findByTestId'>,
  component: HubSpotReactComponent<TProps>,
  testId: string,
): string {
  return textContent(renderer.findByTestId(component, testId)).replace(/\s+/g, ' ').trim();
}

/** Polls `check` until it passes: for conditions outside the rendered tree (a request waiting at a gate). */
export async function eventually(check: () => void, timeoutMs = 8000): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      check();
      return;
    } catch (error) {
      if (Date.now() > end) throw error;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
}

/** The element with `testId` as the demo's text rendering reads it (table cells joined by " | "). */
export function reads<TProps extends UnknownComponentProps>(
  renderer: Pick<Renderer<'crm.record.tab'>, 'findByTestId'>,
  component: HubSpotReactComponent<TProps>,
  testId: string,
): string {
  return treeToText(renderer.findByTestId(component, testId));
}
