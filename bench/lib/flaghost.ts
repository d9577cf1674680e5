// flaghost as the benchmark runs it: a fresh database (temporary PGlite data directory, or a new
// PostgreSQL database when DATABASE_URL is set), projects made with the admin CLI, the server
// started like `npm start` (or through tsx, BENCH_SERVER=tsx) in its own process, and flags seeded through the management API.
import { execFile, execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { flagBody, GROUP_TYPE } from './flags.ts';
import { freePort, onCleanup, request, startChild, stopChild, trackTempDir, type Child } from './processes.ts';

const run = promisify(execFile);

export const ADMIN_KEY = 'phx_benchadminkey000000000000000000000000';
export const PROJECT_TOKEN = 'phc_benchprojecttoken0000000000000000000';
export const SECRET_TOKEN = 'phs_benchsecrettoken00000000000000000000';

export interface BenchProject {
  id: number;
  name: string;
  apiToken: string;
  secretToken: string;
}

export interface Environment {
  root: string;
  tempDir: string;
  /** Environment variables flaghost (server and CLI) runs with. */
  env: NodeJS.ProcessEnv;
  database: 'pglite' | 'postgres';
}

/** A temporary directory and a fresh database; both are removed by the cleanup handlers. */
export async function prepareEnvironment(root: string, logLevel: string): Promise<Environment> {
  const tempDir = fs.mkdtempSync(path.join(os.tmpdir(), 'flaghost-bench-'));
  trackTempDir(tempDir);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    LOG_LEVEL: logLevel,
    HOST: '127.0.0.1',
    FLAGHOST_INIT_ADMIN_EMAIL: 'bench@example.com',
    FLAGHOST_INIT_PERSONAL_API_KEY: ADMIN_KEY,
    FLAGHOST_INIT_PROJECT_TOKEN: PROJECT_TOKEN,
    FLAGHOST_INIT_SECRET_TOKEN: SECRET_TOKEN,
    // The rate limiters stay on (their check is part of the hot path) but never throttle the load.
    FLAGHOST_RATE_LIMIT_BURST_PER_MINUTE: '10000000',
    FLAGHOST_RATE_LIMIT_SUSTAINED_PER_HOUR: '100000000',
    FLAGHOST_RATE_LIMIT_EVALUATIONS_PER_MINUTE: '10000000',
  };
  delete env.NODE_OPTIONS;
  const adminUrl = process.env.DATABASE_URL;
  if (!adminUrl) {
    env.FLAGHOST_DATA_DIR = path.join(tempDir, 'data');
    delete env.DATABASE_URL;
    return { root, tempDir, env, database: 'pglite' };
  }
  const name = `flaghost_bench_${crypto.randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  onCleanup(async () => {
    const c = new pg.Client({ connectionString: adminUrl });
    await c.connect();
    try {
      await c.query(`drop database if exists ${name} with (force)`);
    } finally {
      await c.end();
    }
  });
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  env.DATABASE_URL = url.toString();
  // The server refuses PostgreSQL without it: every instance must share the payload key.
  env.FLAGHOST_SECRET_KEY = 'bench-secret-key-0123456789abcdef';
  return { root, tempDir, env, database: 'postgres' };
}

/** `flaghost projects create --init` through the CLI (the first one also bootstraps project 1 with the init tokens). */
export async function createProjectWithCli(e: Environment, name: string): Promise<BenchProject> {
  const { stdout } = await run(process.execPath, [path.join(e.root, 'bin/flaghost.mjs'), 'projects', 'create', '--name', name, '--init'], {
    cwd: e.root,
    env: e.env,
    timeout: 120_000,
  });
  const p = JSON.parse(stdout) as { id: number; name: string; api_token: string; secret_api_token: string };
  return { id: p.id, name: p.name, apiToken: p.api_token, secretToken: p.secret_api_token };
}

export interface Server {
  child: Child;
  baseUrl: string;
  /** Where --cpu-prof writes when profiling. */
  profileDir?: string;
}

/**
 * How flaghost is started: `dist` (default), compiled, as `npm start` and the Docker image run it;
 * `tsx`, the TypeScript sources through tsx, as they ran before the compiled build (for comparison).
 */
export type ServerMode = 'dist' | 'tsx';

export function serverModeFromEnv(): ServerMode {
  const mode = process.env.BENCH_SERVER || 'dist';
  if (mode !== 'dist' && mode !== 'tsx') throw new Error(`BENCH_SERVER must be dist or tsx, got ${mode}`);
  return mode;
}

/** flaghost in its own process (see ServerMode), ready when it answers GET /flags. */
export async function startServer(
  e: Environment,
  options: { profile: boolean; mode: ServerMode; nodeArgs?: string[]; env?: NodeJS.ProcessEnv },
): Promise<Server> {
  const port = await freePort();
  const profileDir = options.profile ? path.join(e.tempDir, 'profile') : undefined;
  const profileArgs = [...(options.nodeArgs ?? []), ...(profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : [])];
  let args: string[];
  if (options.mode === 'dist') {
    // What `npm start` does first (its `prestart`): rebuild dist/ when the sources changed.
    execFileSync(process.execPath, ['scripts/build-server.mjs', '--if-stale'], { cwd: e.root, stdio: 'inherit' });
    args = ['--enable-source-maps', ...profileArgs, 'dist/server.js'];
  } else {
    args = ['--import', 'tsx', ...profileArgs, 'src/server.ts'];
  }
  const child = startChild('flaghost', process.execPath, args, { cwd: e.root, env: { ...e.env, ...options.env, PORT: String(port) } });
  const baseUrl = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  let exited: string | undefined;
  void child.exited.then((code) => (exited = code));
  for (;;) {
    if (exited !== undefined) throw new Error(`flaghost exited (${exited}) during start:\n${child.tail()}`);
    try {
      const res = await request(`${baseUrl}/flags?v=2`);
      if (res.status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`flaghost did not answer within 60 s:\n${child.tail()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return { child, baseUrl, profileDir };
}

export async function stopServer(server: Server): Promise<void> {
  await stopChild(server.child, 20_000);
}

export async function api(server: Server, method: string, urlPath: string, body?: unknown): Promise<unknown> {
  const res = await request(`${server.baseUrl}${urlPath}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (res.status >= 300) throw new Error(`${method} ${urlPath} → ${res.status}: ${res.body.toString('utf8').slice(0, 500)}`);
  return JSON.parse(res.body.toString('utf8'));
}

/** Registers the group type and creates `count` flags in the project (a few requests in parallel). */
export async function seedFlags(server: Server, project: BenchProject, count: number): Promise<void> {
  await api(server, 'POST', `/api/projects/${project.id}/groups_types/`, { group_type: GROUP_TYPE, group_type_index: 0 });
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      await api(server, 'POST', `/api/projects/${project.id}/feature_flags/`, flagBody(i, `p${project.id}`));
    }
  };
  await Promise.all(Array.from({ length: 4 }, worker));
}
