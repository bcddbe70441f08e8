import { Writable } from 'node:stream';
import { createLogger } from '../../src/server/shared/logger';
import { loadConfig } from '../../src/server/config/config';

/** Secrets never reach the logs, even when someone logs the whole configuration or a request. */
describe('createLogger', () => {
  function capture() {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString('utf8'));
        done();
      },
    });
    return { logger: createLogger({ destination }), text: () => lines.join('') };
  }

  it('redacts every secret of the configuration and of a request', () => {
    const secrets = {
      HUBSPOT_CLIENT_SECRET: 'client-secret-value-123',
      HUBSPOT_ACCESS_TOKEN: 'pat-access-token-value-456',
      DEALGATE_OPS_TOKEN: 'ops-token-value-7890abcdef',
      DEALGATE_TOKEN_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64'),
    };
    const config = loadConfig({ ...secrets, HUBSPOT_CLIENT_ID: 'client-id' });
    const { logger, text } = capture();
    logger.info({ config }, 'configuration');
    logger.info({ req: { headers: { authorization: 'Bearer at-secret-1', 'x-hubspot-signature-v3': 'sig-secret-2' } } }, 'request');
    logger.info({ tokens: { accessToken: 'at-secret-3', refreshToken: 'rt-secret-4' } }, 'tokens');
    const out = text();
    for (const secret of [...Object.values(secrets), 'at-secret-1', 'sig-secret-2', 'at-secret-3', 'rt-secret-4']) expect(out).not.toContain(secret);
    expect(out).toContain('[redacted]');
    expect(out).toContain('client-id'); // not a secret: still there
  });
});
