import pino, { type Logger } from 'pino';

export type { Logger };

/**
 * Structured JSON logs. Anything that can carry a secret is redacted by path, so a careless
 * `log.info({ req })` or `log.info({ config })` cannot leak a token or the client secret.
 */
export const redactedPaths = [
  'req.headers.authorization',
  'req.headers["x-hubspot-signature-v3"]',
  'req.headers["x-hubspot-signature"]',
  'headers.authorization',
  'config.hubspot.clientSecret',
  'config.hubspot.accessToken',
  'config.tokenEncryptionKey',
  'config.opsToken',
  'opsToken',
  '*.opsToken',
  'tokenEncryptionKey',
  '*.tokenEncryptionKey',
  'clientSecret',
  'accessToken',
  'refreshToken',
  'access_token',
  'refresh_token',
  'code',
  '*.clientSecret',
  '*.accessToken',
  '*.refreshToken',
  '*.access_token',
  '*.refresh_token',
];

export function createLogger(options: { level?: string; destination?: pino.DestinationStream } = {}): Logger {
  return pino(
    {
      level: options.level ?? 'info',
      base: { service: 'dealgate' },
      redact: { paths: redactedPaths, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    options.destination,
  );
}

/** A logger that drops everything (tests). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
