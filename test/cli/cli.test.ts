// The admin CLI as a user runs it: `node bin/flaghost.mjs …` in a child process, on an embedded
// data directory and (when DATABASE_URL is set) on a fresh PostgreSQL database.
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.ts';
import { ENV_VARIABLES, loadConfig } from '../../src/platform/config.ts';
import { openDatabase } from '../../src/platform/db/index.ts';
import pg from 'pg';
import { freshPostgres } from '../helpers/app.ts';
import { main } from '../../src/cli.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BIN = path.join(ROOT, 'bin', 'flaghost.mjs');

const ADMIN_EMAIL = 'owner@example.com';
const ADMIN_KEY = 'phx_cliadminkey00000000000000000000000000';
const PROJECT_TOKEN = 'phc_cliprojecttoken000000000000000000000';
const SECRET_TOKEN = 'phs_clisecrettoken0000000000000000000000';

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON (undefined when empty). */
  out: any;
  /** The last stderr line parsed as JSON (undefined when empty). */
  err: any;
}

function parseJson(text: string): unknown {
  try {
    return text.trim() ? JSON.parse(text) : undefined;
  } catch {
    return undefined;
  }
}

/** The environment of the CLI: this process's, minus every flaghost variable, plus `env`. */
function childEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const base: NodeJS.ProcessEnv = { ...process.env };
  for (const name of ENV_VARIABLES) delete base[name];
  return { ...base, ...env };
}

/** The real bin in a child process: slow (a process and a database open per call), used sparingly. */
function cliProcess(env: Record<string, string>, ...args: string[]): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      resolve({ code, stdout, stderr, out: parseJson(stdout), err: parseJson(stderr.trim().split('\n').at(-1) ?? '') });
    });
  });
}

/** The same command run in this process through the CLI's `main` (what the bin calls). */
async function cli(env: Record<string, string>, ...args: string[]): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const code = await main(args, { out: (s) => (stdout += s), err: (s) => (stderr += s) }, childEnv(env));
  return { code, stdout, stderr, out: parseJson(stdout), err: parseJson(stderr.trim().split('\n').at(-1) ?? '') };
}

async function pgQuery(url: string, text: string): Promise<any[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(text)).rows;
  } finally {
    await client.end();
  }
}

/** Opens the same database in this process with the real app on top (holding the PGlite lock). */
async function openApp(env: Record<string, string>) {
  const config = loadConfig({ ...env, LOG_LEVEL: 'silent' });
  const database = await openDatabase(config.database);
  const app = await buildApp({ config, database });
  await app.services.start();
  const query = async (text: string, params: unknown[] = []) => (await (database.db as any).$client.query(text, params)).rows as any[];
  return {
    app,
    query,
    me: (key: string) => app.inject({ method: 'GET', url: '/api/users/@me/', headers: { authorization: `Bearer ${key}` } }),
    close: async () => {
      await app.close();
      await database.close();
    },
  };
}

// Parsing, help and validation need no database: none is opened (the data directory stays absent).
describe('flaghost CLI command line', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flaghost-cli-'));
  const env = { FLAGHOST_DATA_DIR: path.join(dir, 'data') };
  afterAll(() => {
    expect(fs.existsSync(env.FLAGHOST_DATA_DIR)).toBe(false);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('answers --help at every level', async () => {
    const cases = [['--help'], ['help'], ['keys', '--help'], ['keys', 'create', '--help'], ['users', 'create', '-h'], ['organizations', 'list', '--help']];
    const results = await Promise.all(cases.map((args) => cli(env, ...args)));
    results.forEach((r, i) => {
      expect(r.code, cases[i].join(' ')).toBe(0);
      expect(r.stdout).toMatch(/Usage: flaghost/);
      expect(r.stderr).toBe('');
    });
    for (const cmd of [
      'users create',
      'keys create',
      'keys list',
      'keys revoke',
      'projects create',
      'projects list',
      'organizations create',
      'organizations list',
      'init',
      'reset-admin-key',
      'backup --out FILE',
      'restore FILE',
    ]) {
      expect(results[0].stdout).toContain(`flaghost ${cmd}`);
    }
    expect(results[3].stdout).toContain('--scopes');
  });

  it('exits 2 with a JSON error and the usage line on usage errors', async () => {
    const cases: Array<[string[], RegExp]> = [
      [[], /Missing command/],
      [['frobnicate'], /Unknown command: frobnicate/],
      [['keys'], /Missing subcommand/],
      [['keys', 'rotate'], /Unknown command: keys rotate/],
      [['keys', 'create'], /Missing required option --email/],
      [['keys', 'create', '--email', 'a@example.com', '--bogus', 'x'], /Unknown option '--bogus'/],
      [['keys', 'revoke'], /Missing argument ID/],
      [['projects', 'list', 'extra'], /Unexpected argument: extra/],
      [['projects', 'create', '--name'], /argument missing/],
      [['backup'], /Missing required option --out/],
      [['restore'], /Missing argument FILE/],
      [['init', '--init'], /Unknown option '--init'/],
    ];
    const results = await Promise.all(cases.map(([args]) => cli(env, ...args)));
    results.forEach((r, i) => {
      const [args, message] = cases[i];
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.err.error).toMatch(message);
      expect(r.err.usage).toMatch(/flaghost/);
    });
  });

  it("keys create rejects scopes outside PostHog's format", async () => {
    const scopes = ['flags:write', 'feature_flag:delete', 'feature_flag', 'feature_flag:read:extra', '**', 'FEATURE_FLAG:read'];
    const results = await Promise.all(
      scopes.map((scope) => cli(env, 'keys', 'create', '--email', 'bob@example.com', '--scopes', `feature_flag:read,${scope}`)),
    );
    results.forEach((r, i) => {
      expect(r.code, scopes[i]).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.err).toEqual({ error: `Invalid scope: ${scopes[i]}` });
    });
  });

  it('rejects malformed values with exit code 1', async () => {
    const cases: Array<[string[], string]> = [
      [['users', 'create', '--email', 'not-an-email'], 'Invalid email: not-an-email'],
      [['users', 'create', '--email', 'dan@example.com', '--level', 'root'], 'Invalid level: root (expected member, admin, owner).'],
      [['keys', 'create', '--email', 'dan@example.com', '--projects', '1,x'], 'Invalid project id: x'],
      [['keys', 'create', '--email', 'dan@example.com', '--scopes', ' , '], '--scopes needs at least one value (leave it out instead).'],
      [['projects', 'create', '--name', 'X', '--organization', 'acme'], 'Invalid organization id: acme (expected a UUID).'],
    ];
    const results = await Promise.all(cases.map(([args]) => cli(env, ...args)));
    results.forEach((r, i) => {
      expect(r.code, cases[i][0].join(' ')).toBe(1);
      expect(r.err).toEqual({ error: cases[i][1] });
    });
  });
});

const targets = ['pglite', ...(process.env.DATABASE_URL ? ['postgres'] : [])] as const;

// Each command is a fresh process opening the database (~1–2 s on PGlite): allow for a busy machine.
// An operator's session: the first test initialises the database the later commands work on, so the
// tests keep their order when CI shuffles.
describe('flaghost CLI sessions', { shuffle: false }, () => {
  describe.each(targets)('flaghost CLI on %s', { timeout: 180_000 }, (kind) => {
    let env: Record<string, string>;
    let cleanup: () => Promise<void>;
    const run = (...args: string[]) => cli(env, ...args);

    beforeAll(async () => {
      const init = {
        FLAGHOST_INIT_ADMIN_EMAIL: ADMIN_EMAIL,
        FLAGHOST_INIT_PERSONAL_API_KEY: ADMIN_KEY,
        FLAGHOST_INIT_PROJECT_TOKEN: PROJECT_TOKEN,
        FLAGHOST_INIT_SECRET_TOKEN: SECRET_TOKEN,
      };
      if (kind === 'postgres') {
        const db = await freshPostgres(process.env.DATABASE_URL!);
        env = { DATABASE_URL: db.url, ...init };
        cleanup = db.drop;
      } else {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flaghost-cli-'));
        env = { FLAGHOST_DATA_DIR: path.join(dir, 'data'), ...init };
        cleanup = async () => fs.rmSync(dir, { recursive: true, force: true });
      }
    });

    afterAll(async () => {
      await cleanup?.();
    });

    it('refuses a database that does not exist, creating nothing; init initialises it once, as the server does', async () => {
      const refused = await run('projects', 'list');
      expect(refused.code).toBe(1);
      expect(refused.stdout).toBe('');
      if (kind === 'pglite') {
        expect(refused.err.error).toBe(
          `No flaghost database in ${env.FLAGHOST_DATA_DIR} (FLAGHOST_DATA_DIR). Point FLAGHOST_DATA_DIR at the server's data directory (or set DATABASE_URL), or run \`flaghost init\` to create a new database there.`,
        );
        expect(fs.existsSync(env.FLAGHOST_DATA_DIR)).toBe(false);
      } else {
        const name = new URL(env.DATABASE_URL).pathname.slice(1);
        expect(refused.stderr).toContain(`flaghost: PostgreSQL database ${name} on 127.0.0.1:5432 as postgres (DATABASE_URL)`);
        expect(refused.err.error).toMatch(new RegExp(`^The PostgreSQL database ${name} .* holds no flaghost data yet\\. Run \`flaghost init\``));
        // Nothing was created there: not even flaghost's tables.
        const tables = await pgQuery(env.DATABASE_URL, "select count(*)::int as n from information_schema.tables where table_schema = 'public'");
        expect(tables[0].n).toBe(0);
      }

      const first = await run('init');
      expect(first.code).toBe(0);
      expect(first.out).toMatchObject({
        initialised: true,
        admin_email: ADMIN_EMAIL,
        personal_api_key: ADMIN_KEY,
        project_token: PROJECT_TOKEN,
        secret_token: SECRET_TOKEN,
        project_id: 1,
      });
      expect(first.stderr).toMatch(
        kind === 'pglite' ? `flaghost: embedded database in ${env.FLAGHOST_DATA_DIR} (FLAGHOST_DATA_DIR)` : /flaghost: PostgreSQL database/,
      );
      expect(first.stderr).toContain('Store the personal API key now');
      const projects = await run('projects', 'list');
      expect(projects.out).toEqual([expect.objectContaining({ id: 1, name: 'Default Project', api_token: PROJECT_TOKEN, secret_api_token: SECRET_TOKEN })]);
      const again = await run('organizations', 'list');
      expect(again.code).toBe(0);
      expect(again.stderr.trim().split('\n')).toHaveLength(1);
      expect(again.out).toEqual([expect.objectContaining({ id: first.out.organization_id, name: 'Default' })]);

      // A second init changes nothing; the init values it was given are in effect, so none is named.
      const second = await run('init');
      expect(second.code).toBe(0);
      expect(second.out).toEqual({ initialised: false, detail: 'The database was already initialised: nothing changed.', ignored_variables: [] });
      const other = await cli({ ...env, FLAGHOST_INIT_PERSONAL_API_KEY: 'phx_anotherkey0000000000000000', FLAGHOST_INIT_ADMIN_EMAIL: ADMIN_EMAIL }, 'init');
      expect(other.out.ignored_variables.map((i: { variable: string }) => i.variable)).toEqual(['FLAGHOST_INIT_PERSONAL_API_KEY']);
      expect(other.stderr).toMatch(/flaghost: FLAGHOST_INIT_PERSONAL_API_KEY is ignored: no personal API key has this value/);
      expect(other.stderr).not.toContain('phx_anotherkey');
    });

    it('users create', async () => {
      const r = await run('users', 'create', '--email', 'bob@example.com', '--level', 'admin', '--first-name', 'Bob');
      expect(r.code).toBe(0);
      expect(r.out).toMatchObject({ email: 'bob@example.com', first_name: 'Bob', level: 'admin', membership_level: 8 });
      expect(r.out.created_at).toMatch(/Z$/);
      const member = await run('users', 'create', '--email', 'carol@example.com');
      expect(member.out).toMatchObject({ email: 'carol@example.com', level: 'member', membership_level: 1 });

      const dup = await run('users', 'create', '--email', 'BOB@example.com');
      expect(dup.code).toBe(1);
      expect(dup.err).toEqual({ error: 'A user with email BOB@example.com already exists.' });
    });

    it('keys create prints a working key once; the database holds only its sha256 hash', async () => {
      const r = await run('keys', 'create', '--email', 'bob@example.com', '--scopes', 'feature_flag:read,user:read', '--projects', '1', '--label', 'ci');
      expect(r.code).toBe(0);
      const value: string = r.out.value;
      expect(value).toMatch(/^phx_[A-Za-z0-9]{40,}$/);
      expect(r.out).toMatchObject({
        label: 'ci',
        mask_value: `${value.slice(0, 4)}...${value.slice(-4)}`,
        scopes: ['feature_flag:read', 'user:read'],
        scoped_teams: [1],
        scoped_organizations: [],
        last_used_at: null,
      });

      const server = await openApp(env);
      try {
        const me = await server.me(value);
        expect(me.statusCode).toBe(200);
        expect(me.json().email).toBe('bob@example.com');
        const rows = await server.query('select secure_value, mask_value from personal_api_keys where id = $1', [r.out.id]);
        expect(rows).toEqual([{ secure_value: 'sha256$' + crypto.createHash('sha256').update(value).digest('hex'), mask_value: r.out.mask_value }]);
        const leaked = await server.query('select count(*)::int as n from personal_api_keys where secure_value like $1 or mask_value = $2', [
          `%${value}%`,
          value,
        ]);
        expect(leaked[0].n).toBe(0);
      } finally {
        await server.close();
      }
    });

    it('keys create: full access by default and with *, project and organization scoping checked', async () => {
      const full = await run('keys', 'create', '--email', 'carol@example.com');
      expect(full.code).toBe(0);
      expect(full.out.scopes).toEqual(['*']);
      const star = await run('keys', 'create', '--email', 'carol@example.com', '--scopes', '*');
      expect(star.out.scopes).toEqual(['*']);

      const noProject = await run('keys', 'create', '--email', 'carol@example.com', '--projects', '999');
      expect(noProject.code).toBe(1);
      expect(noProject.err).toEqual({ error: 'Project 999 does not exist.' });
      const noUser = await run('keys', 'create', '--email', 'nobody@example.com');
      expect(noUser.code).toBe(1);
      expect(noUser.err).toEqual({ error: 'No user with email nobody@example.com.' });
    });

    it('keys list shows masks, never values; keys revoke makes a key fail', async () => {
      const created = await run('keys', 'create', '--email', 'bob@example.com', '--label', 'to revoke');
      const value: string = created.out.value;
      const listed = await run('keys', 'list', '--email', 'bob@example.com');
      expect(listed.code).toBe(0);
      expect(listed.stdout).not.toContain(value);
      expect(listed.out.map((k: { label: string }) => k.label)).toEqual(['ci', 'to revoke']);
      for (const key of listed.out) {
        expect(Object.keys(key).sort()).toEqual(['created_at', 'id', 'label', 'last_used_at', 'mask_value', 'scoped_organizations', 'scoped_teams', 'scopes']);
      }
      expect(listed.out[1]).toMatchObject({
        id: created.out.id,
        mask_value: created.out.mask_value,
        scopes: ['*'],
        scoped_teams: [],
        scoped_organizations: [],
      });

      const admin = await run('keys', 'list', '--email', ADMIN_EMAIL);
      expect(admin.out).toEqual([expect.objectContaining({ label: 'Initial key', scopes: ['*'], mask_value: 'phx_...0000' })]);
      expect(admin.stdout).not.toContain(ADMIN_KEY);

      const revoked = await run('keys', 'revoke', created.out.id);
      expect(revoked.code).toBe(0);
      expect(revoked.out).toEqual({ id: created.out.id, revoked: true });
      const after = await run('keys', 'list', '--email', 'bob@example.com');
      expect(after.out.map((k: { id: string }) => k.id)).not.toContain(created.out.id);
      const again = await run('keys', 'revoke', created.out.id);
      expect(again.code).toBe(1);
      expect(again.err).toEqual({ error: `No personal API key with id ${created.out.id}.` });

      const server = await openApp(env);
      try {
        expect((await server.me(value)).statusCode).toBe(401);
        expect((await server.me(ADMIN_KEY)).statusCode).toBe(200);
      } finally {
        await server.close();
      }
    });

    it('projects and organizations create/list', async () => {
      const project = await run('projects', 'create', '--name', 'Web');
      expect(project.code).toBe(0);
      expect(project.out).toMatchObject({ id: 2, name: 'Web' });
      expect(project.out.api_token).toMatch(/^phc_[A-Za-z0-9]{40,}$/);
      expect(project.out.secret_api_token).toMatch(/^phs_[A-Za-z0-9]{40,}$/);

      const org = await run('organizations', 'create', '--name', 'Acme');
      expect(org.code).toBe(0);
      expect(org.out).toMatchObject({ name: 'Acme' });
      expect(org.out.id).toMatch(/^[0-9a-f-]{36}$/);
      const orgs = await run('organizations', 'list');
      expect(orgs.out.map((o: { name: string }) => o.name)).toEqual(['Default', 'Acme']);

      const acmeProject = await run('projects', 'create', '--name', 'Acme app', '--organization', org.out.id);
      expect(acmeProject.out).toMatchObject({ id: 3, organization_id: org.out.id });
      const list = await run('projects', 'list');
      expect(list.out.map((p: { id: number; name: string }) => [p.id, p.name])).toEqual([
        [1, 'Default Project'],
        [2, 'Web'],
        [3, 'Acme app'],
      ]);

      const user = await run('users', 'create', '--email', 'erin@acme.example', '--organization', org.out.id, '--level', 'owner');
      expect(user.out).toMatchObject({ organization_id: org.out.id, level: 'owner' });
      const key = await run('keys', 'create', '--email', 'erin@acme.example', '--organizations', org.out.id, '--scopes', 'feature_flag:write');
      expect(key.out).toMatchObject({ scoped_organizations: [org.out.id], scopes: ['feature_flag:write'] });

      const missingOrg = await run('projects', 'create', '--name', 'X', '--organization', '00000000-0000-0000-0000-000000000000');
      expect(missingOrg.code).toBe(1);
      expect(missingOrg.err).toEqual({ error: 'Organization 00000000-0000-0000-0000-000000000000 does not exist.' });
    });

    it('keys create refuses projects and organizations the user does not belong to, as the API does', async () => {
      const org = await run('organizations', 'create', '--name', 'Globex');
      const project = await run('projects', 'create', '--name', 'Globex app', '--organization', org.out.id);
      await run('users', 'create', '--email', 'ivan@example.com');
      await run('users', 'create', '--email', 'hank@globex.example', '--organization', org.out.id);

      const foreignProject = await run('keys', 'create', '--email', 'ivan@example.com', '--projects', `1,${project.out.id}`);
      expect(foreignProject.code).toBe(1);
      expect(foreignProject.err).toEqual({ error: 'You must be a member of all teams that you are scoping the key to.' });
      const foreignOrg = await run('keys', 'create', '--email', 'ivan@example.com', '--organizations', org.out.id);
      expect(foreignOrg.code).toBe(1);
      expect(foreignOrg.err).toEqual({ error: 'You must be a member of all organizations that you are scoping the key to.' });
      expect((await run('keys', 'list', '--email', 'ivan@example.com')).out).toEqual([]);

      // Scoped to where the user is a member: created.
      const own = await run(
        'keys',
        'create',
        '--email',
        'hank@globex.example',
        '--projects',
        String(project.out.id),
        '--organizations',
        org.out.id.toUpperCase(),
      );
      expect(own.code).toBe(0);
      expect(own.out).toMatchObject({ scoped_teams: [project.out.id], scoped_organizations: [org.out.id] });
    });

    if (kind === 'pglite') {
      it('waits for a process that holds the data directory without answering on its socket, then says so', async () => {
        const server = await openApp(env);
        try {
          // Another process: this one's own pid would count as the lock's (stale) owner.
          const started = Date.now();
          const r = await cliProcess(env, 'projects', 'list');
          expect(Date.now() - started).toBeGreaterThanOrEqual(10_000);
          expect(r.code).toBe(1);
          expect(r.stdout).toBe('');
          expect(r.stderr).toContain('does not answer on its socket yet; waiting up to 10 s');
          expect(r.err.error).toContain(`is in use by another flaghost process (pid ${process.pid})`);
          expect(r.err.error).toContain(`It does not answer on ${path.join(env.FLAGHOST_DATA_DIR, 'flaghost.sock')}`);
        } finally {
          await server.close();
        }
        const viaBin = await cliProcess(env, 'projects', 'list');
        expect(viaBin.code).toBe(0);
        expect(viaBin.out[0]).toMatchObject({ id: 1, name: 'Default Project' });
      });
    } else {
      it('runs beside a live server; a revoked key stops working there at once', async () => {
        const server = await openApp(env);
        try {
          const created = await run('keys', 'create', '--email', 'carol@example.com', '--label', 'live');
          expect(created.code).toBe(0);
          expect((await server.me(created.out.value)).statusCode).toBe(200);
          expect((await run('keys', 'revoke', created.out.id)).code).toBe(0);
          // The revocation reaches the server's auth cache by NOTIFY.
          let status = 0;
          for (let i = 0; i < 50 && status !== 401; i++) {
            status = (await server.me(created.out.value)).statusCode;
            if (status !== 401) await new Promise((r) => setTimeout(r, 100));
          }
          expect(status).toBe(401);
        } finally {
          await server.close();
        }
      });
    }
  });
});
