import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { isIP } from 'node:net';
import { z } from 'zod';

/**
 * Everything Dealgate reads from the environment, validated once at start-up.
 * The names are a contract with operators and scripts: keep them.
 */
const userIdList = z
  .string()
  .trim()
  .transform((value, ctx) => {
    if (value === '') return [] as string[];
    const ids = value.split(',').map((id) => id.trim());
    for (const id of ids) {
      if (!/^\d+$/.test(id)) {
        ctx.addIssue({ code: 'custom', message: `"${id}" is not a HubSpot user id (digits only)` });
        return z.NEVER;
      }
    }
    return ids;
  });

const optionalString = z
  .string()
  .trim()
  .optional()
  .transform((value) => (value === undefined || value === '' ? undefined : value));

const httpUrl = z
  .string()
  .trim()
  .url({ message: 'must be an absolute URL such as https://dealgate.example.com' })
  .refine((value) => /^https?:\/\//.test(value), { message: 'must start with http:// or https://' })
  .transform((value) => value.replace(/\/+$/, ''));

/** Whether DATABASE_URL names a PostgreSQL database: a parseable postgres:// or postgresql:// URL with a host. */
function isPostgresUrl(value: string): boolean {
  if (!/^postgres(ql)?:\/\//i.test(value)) return false;
  try {
    return new URL(value).hostname !== '';
  } catch {
    return false;
  }
}

/** A database URL as it may be logged: the password replaced by ***. */
export function redactDatabaseUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparseable URL)';
  }
}

const HOST_MESSAGE =
  'must be an IP address to listen on: 127.0.0.1 (this host only, behind a proxy on it), 0.0.0.0 (every IPv4 interface, e.g. in a container), :: (every interface) or one address of this host';

/** The address the service listens on: an IP literal (or localhost); a name that resolves elsewhere is refused. */
const listenHost = z
  .string()
  .trim()
  .optional()
  .transform((value, ctx) => {
    if (value === undefined || value === '') return '127.0.0.1';
    const bare = value.replace(/^\[(.*)\]$/, '$1');
    if (bare !== 'localhost' && isIP(bare) === 0) {
      ctx.addIssue({ code: 'custom', message: HOST_MESSAGE });
      return z.NEVER;
    }
    return bare;
  });

/** A yes/no switch: `true` or `false` (empty: the default). */
const flag = (fallback: boolean) =>
  z
    .string()
    .trim()
    .optional()
    .transform((value, ctx) => {
      if (value === undefined || value === '') return fallback;
      if (value === 'true') return true;
      if (value === 'false') return false;
      ctx.addIssue({ code: 'custom', message: 'must be true or false' });
      return z.NEVER;
    });

const RECONCILE_MESSAGE = 'must be whole seconds from 30 to 86400 (a day), or 0 to turn the periodic reconciliation off';

/** How often the reconciliation sweeps HubSpot (application/dealSweeps.ts); 0 turns it off, empty means the default. */
const reconcileSeconds = z
  .string()
  .trim()
  .optional()
  .transform((value, ctx) => {
    if (value === undefined || value === '') return 300;
    const seconds = /^\d+$/.test(value) ? Number(value) : Number.NaN;
    if (seconds !== 0 && !(seconds >= 30 && seconds <= 86_400)) {
      ctx.addIssue({ code: 'custom', message: RECONCILE_MESSAGE });
      return z.NEVER;
    }
    return seconds;
  });

/** A 32-byte AES-256 key written as 64 hex characters or as base64; undefined when it is neither. */
export function decodeEncryptionKey(value: string): Buffer | undefined {
  if (/^[0-9a-f]{64}$/i.test(value)) return Buffer.from(value, 'hex');
  if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(value)) {
    const bytes = Buffer.from(value, 'base64');
    if (bytes.length === 32) return bytes;
  }
  return undefined;
}

const envSchema = z
  .object({
    PORT: z.coerce.number().int().min(0).max(65535).default(3000),
    HOST: listenHost,
    PUBLIC_BASE_URL: httpUrl.optional(),
    DATABASE_PATH: z.string().trim().min(1).default('./data/dealgate.db'),
    DATABASE_URL: optionalString.refine((value) => value === undefined || isPostgresUrl(value), {
      message: 'must be a PostgreSQL URL such as postgres://user:password@host:5432/dealgate (postgres:// or postgresql://); leave it unset to use SQLite at DATABASE_PATH',
    }),
    HUBSPOT_CLIENT_SECRET: z
      .string({ message: 'is required: set it to the client secret of the HubSpot app (Auth tab of the app in HubSpot)' })
      .trim()
      .min(1, { message: 'is required: set it to the client secret of the HubSpot app (Auth tab of the app in HubSpot)' }),
    HUBSPOT_CLIENT_ID: optionalString,
    HUBSPOT_ACCESS_TOKEN: optionalString,
    HUBSPOT_API_BASE_URL: httpUrl.default('https://api.hubapi.com'),
    DEALGATE_TOKEN_ENCRYPTION_KEY: optionalString.refine((value) => value === undefined || decodeEncryptionKey(value) !== undefined, {
      message: 'must be 32 random bytes as base64 or 64 hex characters (generate one with `openssl rand -base64 32`)',
    }),
    DEALGATE_OPS_TOKEN: optionalString.refine((value) => value === undefined || value.length >= 16, {
      message: 'must be at least 16 characters (generate one with `openssl rand -hex 24`)',
    }),
    DEALGATE_OPS_LOOPBACK: flag(false),
    DEALGATE_VALUE_THRESHOLD: z.coerce.number().min(0).default(50000),
    DEALGATE_SLA_HOURS: z.coerce.number().int().min(1).max(24 * 14).default(48),
    DEALGATE_REVIEWERS: userIdList.default([]),
    DEALGATE_ADMINS: userIdList.default([]),
    DEALGATE_ESCALATION_REVIEWER: z
      .string()
      .trim()
      .regex(/^\d*$/, { message: 'must be a HubSpot user id (digits only)' })
      .optional()
      .transform((value) => (value === undefined || value === '' ? undefined : value)),
    DEALGATE_GATE_STAGE_LABEL: z.string().trim().min(1).default('contract'),
    DEALGATE_RECONCILE_SECONDS: reconcileSeconds,
    DEALGATE_INSTANCE_ID: optionalString.refine((value) => value === undefined || /^[A-Za-z0-9._:-]{1,64}$/.test(value), {
      message: 'must be 1 to 64 letters, digits, dots, dashes, underscores or colons (it names this instance in leases and logs); leave it unset for host-pid-random',
    }),
    DEALGATE_SQLITE_WAIT_SECONDS: z.coerce
      .number()
      .int({ message: 'must be whole seconds' })
      .min(0, { message: 'must be 0 or more' })
      .max(3600, { message: 'must be at most 3600 (an hour)' })
      .default(60),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  })
  .superRefine((env, ctx) => {
    // With a token every caller needs it; an opt-in that would let loopback callers skip it is refused, not ignored.
    if (env.DEALGATE_OPS_LOOPBACK && env.DEALGATE_OPS_TOKEN !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['DEALGATE_OPS_LOOPBACK'],
        message: 'cannot be true when DEALGATE_OPS_TOKEN is set: the token is then required of every caller, loopback included; unset one of them',
      });
    }
    // OAuth mode stores every account's tokens; they are never written unencrypted.
    if (env.HUBSPOT_CLIENT_ID !== undefined && env.DEALGATE_TOKEN_ENCRYPTION_KEY === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['DEALGATE_TOKEN_ENCRYPTION_KEY'],
        message:
          'is required when HUBSPOT_CLIENT_ID is set (OAuth mode): it encrypts the stored OAuth tokens; generate one with `openssl rand -base64 32`',
      });
    }
  });

export interface AccountDefaults {
  valueThreshold: number;
  slaHours: number;
  reviewers: string[];
  admins: string[];
  escalationReviewer: string | undefined;
  gateStageLabel: string;
}

export interface Config {
  port: number;
  /** The address the service listens on (HOST; default 127.0.0.1: this host only). */
  host: string;
  /** The URL HubSpot calls us at (behind any proxy); signatures are computed over it. */
  publicBaseUrl: string;
  /** SQLite's file (DATABASE_PATH); unused when `databaseUrl` is set. */
  databasePath: string;
  /** DATABASE_URL: when set, the store is this PostgreSQL database (several instances share it) and not SQLite. */
  databaseUrl: string | undefined;
  hubspot: {
    clientSecret: string;
    clientId: string | undefined;
    accessToken: string | undefined;
    apiBaseUrl: string;
  };
  tokenEncryptionKey: string | undefined;
  /** Bearer token for the /ops routes; without it they are closed unless `opsLoopback`. */
  opsToken: string | undefined;
  /** DEALGATE_OPS_LOOPBACK: without a token, the /ops routes answer direct loopback callers (no forwarding header). */
  opsLoopback: boolean;
  defaults: AccountDefaults;
  /** Seconds between two reconciliation sweeps of an account; 0: off. */
  reconcileSeconds: number;
  /**
   * Names this process among the instances sharing one database (DEALGATE_INSTANCE_ID; default
   * host-pid-random, new at every start): the holder of its leases (deal claims, worker leases).
   */
  instanceId: string;
  /**
   * SQLite serves one process: how long a starting process waits for another one on the same
   * DATABASE_PATH to stop before it exits (DEALGATE_SQLITE_WAIT_SECONDS, default 60).
   */
  sqliteWaitSeconds: number;
  logLevel: z.infer<typeof envSchema>['LOG_LEVEL'];
}

export class ConfigError extends Error {
  constructor(readonly problems: { variable: string; message: string }[]) {
    super(
      'Dealgate cannot start, the configuration is invalid:\n' +
        problems.map((p) => `  - ${p.variable} ${p.message}`).join('\n'),
    );
    this.name = 'ConfigError';
  }
}

/** host-pid-random: unique per start, so a restarted instance never takes itself for its dead predecessor. */
export function defaultInstanceId(): string {
  const host = hostname().replace(/[^A-Za-z0-9.-]/g, '').slice(0, 40) || 'host';
  return `${host}-${process.pid}-${randomBytes(3).toString('hex')}`;
}

/** Reads configuration from an env-like record (tests pass their own); throws ConfigError naming each bad variable. */
export function loadConfig(env: Record<string, string | undefined>): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const firstProblemPerVariable = new Map<string, string>();
    for (const issue of parsed.error.issues) {
      const variable = String(issue.path[0] ?? 'environment');
      if (!firstProblemPerVariable.has(variable)) firstProblemPerVariable.set(variable, issue.message);
    }
    throw new ConfigError([...firstProblemPerVariable].map(([variable, message]) => ({ variable, message })));
  }
  const e = parsed.data;
  return {
    port: e.PORT,
    host: e.HOST,
    publicBaseUrl: e.PUBLIC_BASE_URL ?? `http://localhost:${e.PORT}`,
    databasePath: e.DATABASE_PATH,
    databaseUrl: e.DATABASE_URL,
    hubspot: {
      clientSecret: e.HUBSPOT_CLIENT_SECRET,
      clientId: e.HUBSPOT_CLIENT_ID,
      accessToken: e.HUBSPOT_ACCESS_TOKEN,
      apiBaseUrl: e.HUBSPOT_API_BASE_URL,
    },
    tokenEncryptionKey: e.DEALGATE_TOKEN_ENCRYPTION_KEY,
    opsToken: e.DEALGATE_OPS_TOKEN,
    opsLoopback: e.DEALGATE_OPS_LOOPBACK,
    defaults: {
      valueThreshold: e.DEALGATE_VALUE_THRESHOLD,
      slaHours: e.DEALGATE_SLA_HOURS,
      reviewers: e.DEALGATE_REVIEWERS,
      admins: e.DEALGATE_ADMINS,
      escalationReviewer: e.DEALGATE_ESCALATION_REVIEWER,
      gateStageLabel: e.DEALGATE_GATE_STAGE_LABEL,
    },
    reconcileSeconds: e.DEALGATE_RECONCILE_SECONDS,
    instanceId: e.DEALGATE_INSTANCE_ID ?? defaultInstanceId(),
    sqliteWaitSeconds: e.DEALGATE_SQLITE_WAIT_SECONDS,
    logLevel: e.LOG_LEVEL,
  };
}
