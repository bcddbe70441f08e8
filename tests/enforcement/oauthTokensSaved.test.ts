import { ManualClock } from '../../src/server/shared/clock';
import type { OAuthHubSpotClients } from '../../src/server/hubspot/clients';
import { startStack, type Stack } from '../support/stack';

/**
 * The OAuth callback answers "installed" only once the account's tokens are stored: saving them is
 * a store transaction (asynchronous), and the callback's provisioning reads them right after. A
 * save that fails (the database refuses the write) is an error page, never "installed" with no
 * tokens kept and a rejection nobody handles.
 */
describe('OAuth callback and the saved tokens', () => {
  let stack: Stack;
  let clock: ManualClock;

  beforeEach(async () => {
    clock = new ManualClock(Date.UTC(2026, 10, 2, 9, 0, 0));
    stack = await startStack({ clock, auth: 'oauth', defaults: { valueThreshold: 50_000 } });
  });
  afterEach(async () => {
    await stack.stop();
  });

  it('provisions the account with the tokens it saved, even when saving them takes a while', async () => {
    const clients = stack.hubspot as OAuthHubSpotClients;
    const save = clients.saveTokens.bind(clients);
    clients.saveTokens = async (...args: Parameters<OAuthHubSpotClients['saveTokens']>) => {
      await new Promise((resolve) => setTimeout(resolve, 100));
      await save(...args);
    };
    const installed = await stack.installViaOAuth();
    expect(installed.status).toBe(200);
    const account = await stack.store.accounts.get(stack.sim.portalId);
    expect(account).toEqual(expect.objectContaining({ authMode: 'oauth', provisionedAt: expect.any(Number) }));
  });

  it('answers an error, not "installed", when the tokens cannot be stored', async () => {
    const clients = stack.hubspot as OAuthHubSpotClients;
    clients.saveTokens = async () => {
      throw new Error('the database refused the write');
    };
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const installed = await stack.installViaOAuth();
      expect(installed.status).toBeGreaterThanOrEqual(500);
      expect(installed.body).not.toContain('is installed');
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});
