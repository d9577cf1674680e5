// The probes (README "Health"): /_livez, /_readyz and /_health answer as PostHog's do, /_readyz
// answers 503 naming what is missing (migrations, snapshots; with ?exclude=), none of them is rate
// limited or logged, and on a PostgreSQL cluster the test stops and freezes, readiness turns 503
// within its deadline while liveness and /metrics keep answering. docker-compose probes readiness.
import { execFile } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import supertest from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildApp, loggerOptions } from '../../src/app.ts';
import { loadConfig } from '../../src/platform/config.ts';
import { openDatabase, type Database } from '../../src/platform/db/index.ts';
import { bootstrap } from '../../src/access/organizations/admin.ts';
import { ADMIN_KEY, createTestApp, PROJECT_TOKEN, SECRET_TOKEN, type TestApp } from '../helpers/app.ts';
import { PgCluster } from '../helpers/pg-cluster.ts';
import { ROOT } from '../helpers/readme.ts';
import { parseScrape, sampleValue } from '../helpers/scrape.ts';
import fs from 'node:fs';
import { eventually } from '../helpers/sdk.ts';

/** The newest migration this version ships: the one the readiness test takes away. */
const LATEST_MIGRATION = (
  JSON.parse(fs.readFileSync(path.join(ROOT, 'migrations', 'meta', '_journal.json'), 'utf8')) as { entries: Array<{ tag: string }> }
).entries.at(-1)!.tag;

const POSTGRES = Boolean(process.env.DATABASE_URL);
const READY = { http: true, postgres: true, postgres_migrations_uptodate: true, snapshots_loaded: true };

const lines: string[] = [];
let t: TestApp;

beforeAll(async () => {
  t = await createTestApp({
    env: { FLAGHOST_RATE_LIMIT_BURST_PER_MINUTE: '2' },
    logger: { ...loggerOptions('info'), stream: { write: (line: string) => void lines.push(line) } },
  });
  // Snapshots are built in the background after the start.
  await t.app.services.snapshots.loadAll();
});
afterAll(async () => {
  await t?.close();
});

describe('on a healthy instance', () => {
  it('/_livez, /_readyz and /_health answer as PostHog does, with or without a trailing slash, and to HEAD', async () => {
    for (const suffix of ['', '/']) {
      const live = await t.http.get(`/_livez${suffix}`);
      expect(live.status).toBe(200);
      expect(live.body).toEqual({ http: true });
      const ready = await t.http.get(`/_readyz${suffix}`);
      expect(ready.status).toBe(200);
      expect(ready.headers['content-type']).toMatch(/^application\/json/);
      expect(ready.headers['cache-control']).toBe('no-store');
      expect(ready.body).toEqual(READY);
      const health = await t.http.get(`/_health${suffix}`);
      expect(health.status).toBe(200);
      expect(health.headers['content-type']).toBe('text/plain; charset=utf-8');
      expect(health.text).toBe('ok');
    }
    for (const probe of ['/_livez', '/_readyz', '/_health']) expect((await t.http.head(probe)).status).toBe(200);
  });

  it('are not rate limited, not authenticated and not logged per request', async () => {
    // The admin key's bucket (2 a minute here) is empty: the management API refuses it.
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await t.api('get', '/api/projects/1/feature_flags/')).status);
    expect(statuses).toEqual([200, 200, 429]);
    const logged = lines.length;
    for (let i = 0; i < 20; i++) {
      for (const probe of ['/_livez', '/_readyz', '/_health', '/metrics']) {
        const res = await t.http.get(probe).set('Authorization', `Bearer ${ADMIN_KEY}`);
        expect(res.status, probe).toBe(200);
      }
    }
    expect(lines.slice(logged)).toEqual([]);
    // The same logger does log other requests, even a 404.
    await t.http.get('/_nothing_here');
    expect(lines.slice(logged).some((l) => l.includes('"url":"/_nothing_here"'))).toBe(true);
  });

  it('readiness: 503 naming the migrations the database lacks; /_health says "Migrations are not up to date"; ?exclude= keeps it 200', async () => {
    const [last] = await t.sql<{ id: number; hash: string; created_at: string }>(
      'select id, hash, created_at from drizzle.__drizzle_migrations order by created_at desc limit 1',
    );
    await t.sql('delete from drizzle.__drizzle_migrations where id = $1', [last.id]);
    try {
      const ready = await t.http.get('/_readyz');
      expect(ready.status).toBe(503);
      expect(ready.body).toEqual({
        ...READY,
        postgres_migrations_uptodate: false,
        reasons: { postgres_migrations_uptodate: `not applied: ${LATEST_MIGRATION}` },
      });
      const health = await t.http.get('/_health');
      expect(health.status).toBe(503);
      expect(health.text).toBe('Migrations are not up to date');
      const excluded = await t.http.get('/_readyz?exclude=postgres_migrations_uptodate&exclude=unknown_check');
      expect(excluded.status).toBe(200);
      expect(excluded.body.postgres_migrations_uptodate).toBe(false);
      expect((await t.http.get('/_readyz?exclude=postgres')).status).toBe(503);
    } finally {
      await t.sql('insert into drizzle.__drizzle_migrations (id, hash, created_at) values ($1, $2, $3)', [last.id, last.hash, last.created_at]);
    }
    expect((await t.http.get('/_readyz')).body).toEqual(READY);
  });

  it('readiness: 503 until every project snapshot is built, on an instance that was not started', async () => {
    // A second app on the same database, never started: it has built no snapshot.
    const second = await buildApp({ config: t.config, database: t.database });
    try {
      const first = await second.inject({ method: 'GET', url: '/_readyz' });
      expect(first.statusCode).toBe(503);
      expect(first.json()).toEqual({ ...READY, snapshots_loaded: false, reasons: { snapshots_loaded: 'the snapshots of the projects are not all built yet' } });
      expect((await second.inject({ method: 'GET', url: '/_readyz?exclude=snapshots_loaded' })).statusCode).toBe(200);
      expect((await second.inject({ method: 'GET', url: '/_livez' })).statusCode).toBe(200);
      // The check started the build: readiness follows once it is done, and the snapshot serves.
      const ready = await eventually(async () => (await second.inject({ method: 'GET', url: '/_readyz' })).statusCode === 200, 10_000);
      expect(ready).toBe(true);
      expect(second.services.snapshots.peekForToken(PROJECT_TOKEN)?.project.id).toBe(1);
    } finally {
      await second.close();
    }
  });

  it("are left out of the OpenAPI document, like PostHog's", async () => {
    const doc = JSON.parse((await t.http.get('/api/schema/')).text) as { paths: Record<string, unknown> };
    const paths = Object.keys(doc.paths);
    expect(paths.length).toBeGreaterThan(10);
    expect(paths.filter((p) => /_livez|_readyz|_health|metrics/.test(p))).toEqual([]);
  });

  it("the container health check (bin/healthcheck.mjs, the image's and compose's) passes on a ready instance and fails without one", async () => {
    const check = (port: string) =>
      new Promise<number>((resolve) => {
        execFile(process.execPath, [path.join(ROOT, 'bin', 'healthcheck.mjs')], { env: { ...process.env, PORT: port } }, (error) =>
          resolve(error ? ((error as { code?: number }).code ?? 1) : 0),
        );
      });
    expect(await check(new URL(t.baseUrl).port)).toBe(0);
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const freePort = String((closed.address() as AddressInfo).port);
    await new Promise((resolve) => closed.close(resolve));
    expect(await check(freePort)).toBe(1);
  });
});

interface Instance {
  app: FastifyInstance;
  database: Database;
  http: supertest.Agent;
  close(): Promise<void>;
}

async function startInstance(url: string): Promise<Instance> {
  const config = loadConfig({
    LOG_LEVEL: 'silent',
    PORT: '0',
    DATABASE_URL: url,
    FLAGHOST_SECRET_KEY: 'test-secret-key-0123456789abcdef',
    FLAGHOST_DB_POOL_SIZE: '4',
  });
  const database = await openDatabase(config.database);
  await database.migrate();
  const app = await buildApp({ config, database });
  await bootstrap(app.services.ctx, { adminEmail: 'admin@example.com', personalApiKey: ADMIN_KEY, projectToken: PROJECT_TOKEN, secretToken: SECRET_TOKEN });
  await app.services.start();
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as AddressInfo;
  return {
    app,
    database,
    http: supertest.agent(`http://127.0.0.1:${port}`),
    close: async () => {
      await app.close();
      await database.close();
    },
  };
}

/** A probe's answer and how long it took, in ms. */
async function timed(instance: Instance, url: string): Promise<{ status: number; body: any; text: string; ms: number }> {
  const started = performance.now();
  const res = await instance.http.get(url).timeout(10_000);
  return { status: res.status, body: res.body, text: res.text, ms: performance.now() - started };
}

describe.skipIf(!POSTGRES)('during a PostgreSQL outage', () => {
  let cluster: PgCluster;
  let instance: Instance;
  beforeAll(async () => {
    cluster = await PgCluster.create();
    instance = await startInstance(cluster.url);
    await instance.app.services.snapshots.loadAll();
  });
  afterAll(async () => {
    if (!cluster) return;
    cluster.thaw();
    await Promise.race([
      instance?.close().catch(() => {
        // A server stopped or frozen by the test may fail to say goodbye; the cluster is removed next.
      }),
      new Promise((r) => setTimeout(r, 15_000)),
    ]);
    await cluster.remove();
  });

  it('stopped: readiness answers 503 at once naming the database; liveness and /metrics answer; back to 200 after a restart', async () => {
    expect((await timed(instance, '/_readyz')).body).toEqual(READY);
    cluster.stop();
    const ready = await timed(instance, '/_readyz');
    expect(ready.status).toBe(503);
    expect(ready.ms).toBeLessThan(2000);
    expect(ready.body).toMatchObject({ http: true, postgres: false, postgres_migrations_uptodate: false, snapshots_loaded: true });
    expect(ready.body.reasons.postgres).toMatch(/^the database (cannot be reached|stopped answering)/);
    expect(ready.body.reasons).not.toHaveProperty('snapshots_loaded');
    expect(JSON.stringify(ready.body)).not.toContain(String(cluster.port));
    // An SDK-facing pool can keep the instance in rotation: /flags answers from memory.
    expect((await timed(instance, '/_readyz?exclude=postgres&exclude=postgres_migrations_uptodate')).status).toBe(200);
    expect((await timed(instance, '/_health')).text).toBe('Database unavailable');
    const live = await timed(instance, '/_livez');
    expect(live.status).toBe(200);
    const flags = await instance.http.post('/flags/?v=2').send({ token: PROJECT_TOKEN, distinct_id: 'ada' });
    expect(flags.status).toBe(200);
    const down = await eventually(
      async () => sampleValue(parseScrape((await timed(instance, '/metrics')).text), 'flaghost_db_available', { driver: 'postgres' }) === 0,
      10_000,
    );
    expect(down, 'flaghost_db_available 0').toBe(true);
    const errors = sampleValue(parseScrape((await timed(instance, '/metrics')).text), 'flaghost_db_query_errors_total', { kind: 'unavailable' });
    expect(errors).toBeGreaterThan(0);

    cluster.start();
    const back = await eventually(async () => (await timed(instance, '/_readyz')).status === 200, 20_000, 100);
    expect(back, 'ready again').toBe(true);
    expect((await timed(instance, '/_readyz')).body).toEqual(READY);
  });

  it('frozen (SIGSTOP): readiness answers 503 within its deadline instead of hanging', async () => {
    cluster.freeze();
    try {
      const ready = await timed(instance, '/_readyz');
      expect(ready.status).toBe(503);
      expect(ready.ms).toBeLessThan(1500);
      expect(ready.body.postgres).toBe(false);
      expect(ready.body.reasons.postgres).toMatch(/^the database (did not answer within 900 ms|stopped answering)/);
      expect((await timed(instance, '/_livez')).status).toBe(200);
      expect((await timed(instance, '/metrics')).status).toBe(200);
    } finally {
      cluster.thaw();
    }
    const back = await eventually(async () => (await timed(instance, '/_readyz')).status === 200, 20_000, 100);
    expect(back, 'ready again').toBe(true);
  });
});
