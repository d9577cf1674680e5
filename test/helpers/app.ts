// A flaghost app on its own fresh database (PGlite clone, or a new PostgreSQL database when
// DATABASE_URL is set), bootstrapped with a known admin key, driven over real HTTP by supertest.
import fs from 'node:fs';
import crypto from 'node:crypto';
import pg from 'pg';
import supertest from 'supertest';
import { inject } from 'vitest';
import type { FastifyInstance, FastifyServerOptions } from 'fastify';
import { buildApp } from '../../src/app.ts';
import { loadConfig, type Config } from '../../src/platform/config.ts';
import { openDatabase, type Database } from '../../src/platform/db/index.ts';
import { bootstrap, createKey, createUser, type BootstrapResult } from '../../src/access/organizations/admin.ts';
import type { AppContext } from '../../src/platform/context.ts';
import type { MembershipLevelName } from '../../src/access/organizations/users-repository.ts';

export const ADMIN_KEY = 'phx_testadminkey0000000000000000000000000';
export const PROJECT_TOKEN = 'phc_testprojecttoken00000000000000000000';
export const SECRET_TOKEN = 'phs_testsecrettoken000000000000000000000';
export const ADMIN_EMAIL = 'admin@example.com';

export interface TestApp {
  app: FastifyInstance;
  ctx: AppContext;
  config: Config;
  database: Database;
  boot: BootstrapResult;
  /** supertest bound to the running server. */
  http: supertest.Agent;
  /** Request with the admin key already set. */
  api: (method: 'get' | 'post' | 'patch' | 'put' | 'delete' | 'head' | 'options', path: string, key?: string) => supertest.Test;
  /** Creates a user (in the default organization unless given) and a key for them. */
  userWithKey: (opts: {
    email: string;
    level?: MembershipLevelName;
    scopes?: string[] | null;
    organizationId?: string;
    scopedTeams?: number[];
    scopedOrganizations?: string[];
  }) => Promise<{ key: string; userId: number }>;
  /** A raw SQL query against the test database (for asserting database state). */
  sql: <T = Record<string, unknown>>(text: string, params?: unknown[]) => Promise<T[]>;
  baseUrl: string;
  close: () => Promise<void>;
}

export async function freshPostgres(adminUrl: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `flaghost_t_${crypto.randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: adminUrl });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
}

export async function createTestApp(
  options: { now?: () => Date; env?: Record<string, string>; logger?: FastifyServerOptions['logger']; consoleDir?: string } = {},
): Promise<TestApp> {
  const adminUrl = process.env.DATABASE_URL;
  const pgDb = adminUrl ? await freshPostgres(adminUrl) : undefined;
  const config = loadConfig({
    LOG_LEVEL: 'silent',
    PORT: '0',
    ...(pgDb ? { DATABASE_URL: pgDb.url } : {}),
    FLAGHOST_SECRET_KEY: 'test-secret-key-0123456789abcdef',
    FLAGHOST_DB_POOL_SIZE: '4',
    ...options.env,
  });
  if (!pgDb) config.database.dataDir = ':memory:';
  const template = pgDb ? undefined : inject('pgliteTemplate');
  const database = await openDatabase(config.database, {
    pgliteLoadDataDir: template ? new Blob([fs.readFileSync(template)]) : undefined,
  });
  await database.migrate();
  const app = await buildApp({ config, database, now: options.now, logger: options.logger, consoleDir: options.consoleDir });
  const ctx = app.services.ctx;
  const boot = (await bootstrap(ctx, {
    adminEmail: ADMIN_EMAIL,
    personalApiKey: ADMIN_KEY,
    projectToken: PROJECT_TOKEN,
    secretToken: SECRET_TOKEN,
  }))!;
  await app.services.start();
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address() as { port: number };
  const baseUrl = `http://127.0.0.1:${address.port}`;
  const http = supertest.agent(app.server);

  return {
    app,
    ctx,
    config,
    database,
    boot,
    http,
    baseUrl,
    api: (method, path, key = ADMIN_KEY) => supertest(app.server)[method](path).set('Authorization', `Bearer ${key}`),
    userWithKey: async ({ email, level = 'member', scopes = null, organizationId, scopedTeams, scopedOrganizations }) => {
      const user = await createUser(ctx, { email, level, organizationId });
      const { value } = await createKey(ctx, { email, scopes, scopedTeams, scopedOrganizations });
      return { key: value, userId: user.id };
    },
    sql: async <T>(text: string, params: unknown[] = []) => {
      const result = await (database.kind === 'postgres' ? (ctx.db as any).$client.query(text, params) : (ctx.db as any).$client.query(text, params));
      return result.rows as T[];
    },
    close: async () => {
      // Clients that keep a connection open (posthog-node's keep-alive sockets) must not hold the
      // teardown for the keep-alive timeout: the tests are over, so every connection goes.
      const closing = app.close();
      app.server.closeAllConnections();
      await closing;
      await database.close();
      await pgDb?.drop();
    },
  };
}
