// Helpers for SDK compatibility tests: management-API shortcuts, real posthog-node clients that
// send no events, a recording HTTP proxy, and a second app instance on the same PostgreSQL database.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'vitest';
import { PostHog, type PostHogOptions } from 'posthog-node';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.ts';
import { loadConfig } from '../../src/platform/config.ts';
import { openDatabase, type Database } from '../../src/platform/db/index.ts';
import { ADMIN_KEY, PROJECT_TOKEN, type TestApp } from './app.ts';

export type Json = Record<string, any>;

/** Creates a flag through the management API (project 1 unless given) and returns its body. */
export async function createFlag(t: TestApp, body: Json, projectId = 1): Promise<Json> {
  const res = await t.api('post', `/api/projects/${projectId}/feature_flags/`).send(body);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

export async function patchFlag(t: TestApp, id: number, body: Json, projectId = 1): Promise<Json> {
  const res = await t.api('patch', `/api/projects/${projectId}/feature_flags/${id}/`).send(body);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body;
}

export async function createCohort(t: TestApp, body: Json, projectId = 1): Promise<Json> {
  const res = await t.api('post', `/api/projects/${projectId}/cohorts/`).send(body);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

export async function createGroupType(t: TestApp, groupType: string, projectId = 1): Promise<number> {
  const res = await t.api('post', `/api/projects/${projectId}/groups_types/`).send({ group_type: groupType });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.group_type_index;
}

/** `{type:"person"}` property filter. */
export const person = (key: string, value: unknown, operator = 'exact', extra: Json = {}): Json => ({ key, value, operator, type: 'person', ...extra });
/** Cohort membership filter. */
export const inCohort = (id: number, operator?: 'in' | 'not_in'): Json => ({ key: 'id', type: 'cohort', value: id, ...(operator ? { operator } : {}) });
/** Flag dependency filter (stored with the dependency's id as key). */
export const dependsOn = (flagId: number, value: boolean | string = true): Json => ({
  key: String(flagId),
  type: 'flag',
  value,
  operator: 'flag_evaluates_to',
});
/** A dynamic cohort's stored filters: an OR of AND/OR groups. */
export const cohortFilters = (...groups: Json[]): Json => ({ properties: { type: 'OR', values: groups } });

export interface SdkClient {
  client: PostHog;
  errors: unknown[];
}

let consoleFiltered = false;

/**
 * posthog-node writes deprecation notices and local-evaluation advice through console (bound when
 * a client is created); keep them out of test output. Other console output passes through.
 */
function muteSdkConsole(): void {
  if (consoleFiltered) return;
  consoleFiltered = true;
  for (const level of ['log', 'warn', 'error', 'debug'] as const) {
    const original = console[level].bind(console);
    console[level] = (...args: unknown[]) => {
      if (typeof args[0] === 'string' && /^\[(PostHog|FEATURE FLAGS)\]/.test(args[0])) return;
      original(...args);
    };
  }
}

/**
 * A real posthog-node client pointed at flaghost. Defaults: local evaluation with the admin key,
 * no automatic polling, no `$feature_flag_called` events (the capture endpoints are not needed).
 */
export function sdkClient(t: { baseUrl: string }, options: Partial<PostHogOptions> = {}): SdkClient {
  muteSdkConsole();
  const client = new PostHog(PROJECT_TOKEN, {
    host: t.baseUrl,
    personalApiKey: ADMIN_KEY,
    featureFlagsPollingInterval: null,
    sendFeatureFlagEvent: false,
    flushAt: 1,
    ...options,
  });
  const errors: unknown[] = [];
  client.on('error', (err) => errors.push(err));
  return { client, errors };
}

/** A remote-only client: no secret key, so every flag read is a POST /flags/?v=2. */
export function remoteClient(t: { baseUrl: string }, options: Partial<PostHogOptions> = {}): SdkClient {
  return sdkClient(t, { personalApiKey: undefined, secretKey: undefined, ...options });
}

/** Polls `check` until it returns a truthy value or `timeoutMs` passes. */
export async function eventually<T>(check: () => Promise<T> | T, timeoutMs = 5000, stepMs = 25): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T;
  for (;;) {
    last = await check();
    if (last) return last;
    if (Date.now() > deadline) return last;
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

export interface RecordedExchange {
  method: string;
  url: string;
  requestHeaders: http.IncomingHttpHeaders;
  status: number;
  responseHeaders: http.IncomingHttpHeaders;
  /** Response body bytes as sent on the wire (possibly gzip). */
  responseBytes: number;
  at: number;
}

export interface RecordingProxy {
  url: string;
  exchanges: RecordedExchange[];
  close(): Promise<void>;
}

/** A transparent node:http proxy in front of `target` that records every exchange. */
export async function startRecordingProxy(target: string): Promise<RecordingProxy> {
  const exchanges: RecordedExchange[] = [];
  const upstreamAgent = new http.Agent({ keepAlive: false });
  const server = http.createServer((req, res) => {
    const upstream = http.request(new URL(req.url ?? '/', target), { method: req.method, headers: req.headers, agent: upstreamAgent }, (up) => {
      const record: RecordedExchange = {
        method: req.method ?? '',
        url: req.url ?? '',
        requestHeaders: { ...req.headers },
        status: up.statusCode ?? 0,
        responseHeaders: { ...up.headers },
        responseBytes: 0,
        at: Date.now(),
      };
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.on('data', (chunk: Buffer) => {
        record.responseBytes += chunk.length;
        res.write(chunk);
      });
      up.on('end', () => {
        exchanges.push(record);
        res.end();
      });
    });
    upstream.on('error', () => {
      res.writeHead(502).end();
    });
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    exchanges,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      upstreamAgent.destroy();
    },
  };
}

export interface PeerApp {
  app: FastifyInstance;
  database: Database;
  baseUrl: string;
  close(): Promise<void>;
}

/**
 * A second flaghost instance on the PostgreSQL database of `t` (no migration, no bootstrap):
 * what a scaled-out deployment runs. PostgreSQL only.
 */
export async function createPeerApp(t: TestApp, env: Record<string, string> = {}): Promise<PeerApp> {
  const url = t.config.database.url;
  if (!url) throw new Error('createPeerApp needs PostgreSQL (DATABASE_URL)');
  const config = loadConfig({
    LOG_LEVEL: 'silent',
    PORT: '0',
    DATABASE_URL: url,
    FLAGHOST_SECRET_KEY: 'test-secret-key-0123456789abcdef',
    FLAGHOST_DB_POOL_SIZE: '4',
    ...env,
  });
  const database = await openDatabase(config.database);
  const app = await buildApp({ config, database });
  await app.services.start();
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as AddressInfo;
  return {
    app,
    database,
    baseUrl: `http://127.0.0.1:${port}`,
    close: async () => {
      await app.close();
      await database.close();
    },
  };
}
