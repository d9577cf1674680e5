// Environment → validated Config; the only module that reads process.env.
import path from 'node:path';
import { z } from 'zod';

const intFromEnv = (def: number, min: number, max: number) => z.coerce.number().int().min(min).max(max).default(def);

const envSchema = z
  .object({
    PORT: intFromEnv(8000, 0, 65535),
    HOST: z.string().min(1).default('127.0.0.1'),
    DATABASE_URL: z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'must start with postgres:// or postgresql://')
      .optional(),
    FLAGHOST_DATA_DIR: z.string().min(1).default('./data'),
    FLAGHOST_EMBEDDED_FSYNC: z.enum(['on', 'off']).default('on'),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    FLAGHOST_SECRET_KEY: z.string().min(16, 'must be at least 16 characters').optional(),
    FLAGHOST_PUBLIC_URL: z.url().optional(),
    FLAGHOST_DB_POOL_SIZE: intFromEnv(10, 1, 1000),
    FLAGHOST_DB_CONNECTION_TIMEOUT_MS: intFromEnv(5000, 100, 600_000),
    FLAGHOST_DB_STATEMENT_TIMEOUT_MS: intFromEnv(30_000, 100, 3_600_000),
    FLAGHOST_BODY_LIMIT_BYTES: intFromEnv(20 * 1024 * 1024, 1024, 1024 * 1024 * 1024),
    FLAGHOST_MAX_CONNECTIONS: intFromEnv(4096, 16, 1_000_000),
    FLAGHOST_HEADERS_TIMEOUT_MS: intFromEnv(10_000, 100, 600_000),
    FLAGHOST_REQUEST_TIMEOUT_MS: intFromEnv(60_000, 100, 3_600_000),
    FLAGHOST_KEEP_ALIVE_TIMEOUT_MS: intFromEnv(72_000, 100, 3_600_000),
    FLAGHOST_IDLE_TIMEOUT_MS: intFromEnv(120_000, 100, 3_600_000),
    FLAGHOST_SNAPSHOT_CHECK_INTERVAL_MS: intFromEnv(5000, 100, 3_600_000),
    FLAGHOST_EVENT_DEDUP_WINDOW_HOURS: intFromEnv(24, 0, 24 * 366),
    FLAGHOST_METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').max(1024).optional(),
    FLAGHOST_RATE_LIMIT_BURST_PER_MINUTE: intFromEnv(480, 0, 10_000_000),
    FLAGHOST_RATE_LIMIT_SUSTAINED_PER_HOUR: intFromEnv(4800, 0, 100_000_000),
    FLAGHOST_RATE_LIMIT_EVALUATIONS_PER_MINUTE: intFromEnv(600, 0, 10_000_000),
    FLAGHOST_SESSION_IDLE_HOURS: intFromEnv(24, 1, 24 * 366),
    FLAGHOST_SESSION_MAX_AGE_HOURS: intFromEnv(14 * 24, 1, 24 * 366),
    FLAGHOST_LOGIN_FAILURES_PER_ACCOUNT: intFromEnv(10, 0, 1_000_000),
    FLAGHOST_LOGIN_FAILURES_PER_ADDRESS: intFromEnv(30, 0, 1_000_000),
    FLAGHOST_OIDC_ISSUER: z.url().optional(),
    FLAGHOST_OIDC_CLIENT_ID: z.string().min(1).optional(),
    FLAGHOST_OIDC_CLIENT_SECRET: z.string().min(1).optional(),
    FLAGHOST_OIDC_ALLOWED_DOMAINS: z
      .string()
      .regex(/^\s*[A-Za-z0-9.-]+(\s*,\s*[A-Za-z0-9.-]+)*\s*$/, 'must be a comma-separated list of domains')
      .optional(),
    FLAGHOST_OIDC_DEFAULT_LEVEL: z.enum(['member', 'admin', 'owner']).default('member'),
    FLAGHOST_INIT_ADMIN_EMAIL: z.email().optional(),
    FLAGHOST_INIT_ADMIN_PASSWORD: z.string().min(8, 'must be at least 8 characters').max(1024).optional(),
    FLAGHOST_INIT_PERSONAL_API_KEY: z
      .string()
      .regex(/^phx_[A-Za-z0-9]{16,}$/, 'must look like phx_ followed by at least 16 letters or digits')
      .optional(),
    FLAGHOST_INIT_PROJECT_TOKEN: z
      .string()
      .regex(/^phc_[A-Za-z0-9]{16,}$/, 'must look like phc_ followed by at least 16 letters or digits')
      .optional(),
    FLAGHOST_INIT_SECRET_TOKEN: z
      .string()
      .regex(/^phs_[A-Za-z0-9]{16,}$/, 'must look like phs_ followed by at least 16 letters or digits')
      .optional(),
  })
  .superRefine((e, ctx) => {
    // The headers are part of the request: Node refuses a headers timeout longer than the request's.
    if (e.FLAGHOST_HEADERS_TIMEOUT_MS > e.FLAGHOST_REQUEST_TIMEOUT_MS) {
      ctx.addIssue({ code: 'custom', path: ['FLAGHOST_HEADERS_TIMEOUT_MS'], message: 'must not be larger than FLAGHOST_REQUEST_TIMEOUT_MS' });
    }
  });

export type Env = z.input<typeof envSchema>;

export interface DatabaseConfig {
  url?: string;
  dataDir: string;
  /** The embedded database flushes each commit to disk before acknowledging it (PGlite only). */
  embeddedFsync: boolean;
  poolSize: number;
  connectionTimeoutMs: number;
  statementTimeoutMs: number;
}

/** Client connections: see src/platform/http/connections.ts. */
export interface HttpConfig {
  maxConnections: number;
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  keepAliveTimeoutMs: number;
  idleTimeoutMs: number;
}

export interface RateLimitConfig {
  burstPerMinute: number;
  sustainedPerHour: number;
  evaluationsPerMinute: number;
}

export interface SessionConfig {
  idleMs: number;
  maxAgeMs: number;
  /** Failed sign-ins allowed per hour and account, and per hour and client address (0: no limit). */
  failuresPerAccount: number;
  failuresPerAddress: number;
}

export interface OidcConfig {
  issuer: string;
  clientId: string;
  clientSecret?: string;
  /** Lower-case email domains whose people are created on first sign-in; empty: existing users only. */
  allowedDomains: string[];
  defaultLevel: 'member' | 'admin' | 'owner';
}

export interface InitConfig {
  adminEmail?: string;
  adminPassword?: string;
  personalApiKey?: string;
  projectToken?: string;
  secretToken?: string;
}

export interface Config {
  port: number;
  host: string;
  logLevel: string;
  publicUrl?: string;
  secretKey?: string;
  bodyLimitBytes: number;
  http: HttpConfig;
  snapshotCheckIntervalMs: number;
  /** A captured event whose uuid was already ingested this long ago or less is skipped (0: never deduplicated). */
  eventDedupWindowMs: number;
  /** When set, GET /metrics requires `Authorization: Bearer <metricsToken>` (src/ops/routes.ts). */
  metricsToken?: string;
  database: DatabaseConfig;
  rateLimits: RateLimitConfig;
  sessions: SessionConfig;
  /** Single sign-on with OpenID Connect; undefined when FLAGHOST_OIDC_ISSUER is unset. */
  oidc?: OidcConfig;
  init: InitConfig;
}

export class ConfigError extends Error {}

/** Every environment variable flaghost reads; a test checks docker-compose.yml against it. */
export const ENV_VARIABLES = Object.keys(envSchema.shape);

/**
 * Secrets that must not keep the value of an example (.env.example, docker-compose.yml): the values
 * there contain "changeme", so a start that forgot to replace one refuses instead of running with a
 * publicly known key (docs/architecture.md#docker-and-compose).
 */
const EXAMPLE_SECRETS = [
  'DATABASE_URL',
  'FLAGHOST_SECRET_KEY',
  'FLAGHOST_INIT_PERSONAL_API_KEY',
  'FLAGHOST_INIT_PROJECT_TOKEN',
  'FLAGHOST_INIT_SECRET_TOKEN',
  'FLAGHOST_INIT_ADMIN_PASSWORD',
  'FLAGHOST_OIDC_CLIENT_SECRET',
] as const;
const EXAMPLE_MARK = 'changeme';

/** DATABASE_URL counts only through its password (a database may well be named "changeme_test"). */
function exampleDatabasePassword(value: string | undefined): boolean {
  if (!value) return false;
  try {
    return decodeURIComponent(new URL(value).password).toLowerCase().includes(EXAMPLE_MARK);
  } catch {
    return false; // an unparsable URL is reported by the schema
  }
}

/**
 * What the server needs beyond valid variables (the CLI does not encrypt payloads and runs without
 * it): on PostgreSQL, FLAGHOST_SECRET_KEY. Without it each instance would generate its own key in
 * its own data directory, and only the first machine could read the payloads it sealed.
 */
export function checkServerConfig(config: Config): void {
  if (config.database.url && !config.secretKey) {
    throw new ConfigError(
      'Invalid configuration:\n  FLAGHOST_SECRET_KEY: required with DATABASE_URL (PostgreSQL): every instance on the database must ' +
        'encrypt flag payloads with the same key. Generate one (e.g. `openssl rand -hex 32`) and give it to every instance. If ' +
        'flaghost already ran on this database without it, use the content of secret.key in the data directory (FLAGHOST_DATA_DIR, ' +
        'default ./data) of the machine that started it first.',
    );
  }
}

export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const picked: Record<string, string> = {};
  for (const name of ENV_VARIABLES) {
    const value = env[name];
    if (value !== undefined && value !== '') picked[name] = value;
  }
  const parsed = envSchema.safeParse(picked);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  const examples = EXAMPLE_SECRETS.filter((name) =>
    name === 'DATABASE_URL' ? exampleDatabasePassword(picked[name]) : (picked[name] ?? '').toLowerCase().includes(EXAMPLE_MARK),
  );
  if (examples.length > 0) {
    throw new ConfigError(
      `Invalid configuration:\n${examples.map((name) => `  ${name}: still the example value; replace it with a secret of your own (.env.example explains how)`).join('\n')}`,
    );
  }
  if (e.FLAGHOST_OIDC_ISSUER && !e.FLAGHOST_OIDC_CLIENT_ID) {
    throw new ConfigError('Invalid configuration:\n  FLAGHOST_OIDC_CLIENT_ID: required when FLAGHOST_OIDC_ISSUER is set');
  }
  return {
    port: e.PORT,
    host: e.HOST,
    logLevel: e.LOG_LEVEL,
    publicUrl: e.FLAGHOST_PUBLIC_URL?.replace(/\/+$/, ''),
    secretKey: e.FLAGHOST_SECRET_KEY,
    bodyLimitBytes: e.FLAGHOST_BODY_LIMIT_BYTES,
    http: {
      maxConnections: e.FLAGHOST_MAX_CONNECTIONS,
      headersTimeoutMs: e.FLAGHOST_HEADERS_TIMEOUT_MS,
      requestTimeoutMs: e.FLAGHOST_REQUEST_TIMEOUT_MS,
      keepAliveTimeoutMs: e.FLAGHOST_KEEP_ALIVE_TIMEOUT_MS,
      idleTimeoutMs: e.FLAGHOST_IDLE_TIMEOUT_MS,
    },
    snapshotCheckIntervalMs: e.FLAGHOST_SNAPSHOT_CHECK_INTERVAL_MS,
    eventDedupWindowMs: e.FLAGHOST_EVENT_DEDUP_WINDOW_HOURS * 60 * 60 * 1000,
    metricsToken: e.FLAGHOST_METRICS_TOKEN,
    database: {
      url: e.DATABASE_URL,
      dataDir: path.resolve(e.FLAGHOST_DATA_DIR),
      embeddedFsync: e.FLAGHOST_EMBEDDED_FSYNC === 'on',
      poolSize: e.FLAGHOST_DB_POOL_SIZE,
      connectionTimeoutMs: e.FLAGHOST_DB_CONNECTION_TIMEOUT_MS,
      statementTimeoutMs: e.FLAGHOST_DB_STATEMENT_TIMEOUT_MS,
    },
    rateLimits: {
      burstPerMinute: e.FLAGHOST_RATE_LIMIT_BURST_PER_MINUTE,
      sustainedPerHour: e.FLAGHOST_RATE_LIMIT_SUSTAINED_PER_HOUR,
      evaluationsPerMinute: e.FLAGHOST_RATE_LIMIT_EVALUATIONS_PER_MINUTE,
    },
    sessions: {
      idleMs: e.FLAGHOST_SESSION_IDLE_HOURS * 3_600_000,
      maxAgeMs: e.FLAGHOST_SESSION_MAX_AGE_HOURS * 3_600_000,
      failuresPerAccount: e.FLAGHOST_LOGIN_FAILURES_PER_ACCOUNT,
      failuresPerAddress: e.FLAGHOST_LOGIN_FAILURES_PER_ADDRESS,
    },
    oidc: e.FLAGHOST_OIDC_ISSUER
      ? {
          issuer: e.FLAGHOST_OIDC_ISSUER,
          clientId: e.FLAGHOST_OIDC_CLIENT_ID!,
          clientSecret: e.FLAGHOST_OIDC_CLIENT_SECRET,
          allowedDomains: (e.FLAGHOST_OIDC_ALLOWED_DOMAINS ?? '')
            .split(',')
            .map((d) => d.trim().toLowerCase())
            .filter(Boolean),
          defaultLevel: e.FLAGHOST_OIDC_DEFAULT_LEVEL,
        }
      : undefined,
    init: {
      adminEmail: e.FLAGHOST_INIT_ADMIN_EMAIL,
      adminPassword: e.FLAGHOST_INIT_ADMIN_PASSWORD,
      personalApiKey: e.FLAGHOST_INIT_PERSONAL_API_KEY,
      projectToken: e.FLAGHOST_INIT_PROJECT_TOKEN,
      secretToken: e.FLAGHOST_INIT_SECRET_TOKEN,
    },
  };
}
