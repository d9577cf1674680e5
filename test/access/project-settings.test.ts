// Project settings and token rotation (docs/compatibility.md#api-8.4): name and time zone, the
// project token reset, the secret token rotated with a backup that keeps working on every endpoint
// that takes the secret until it is deleted, and creating projects and organizations; on PostgreSQL,
// a second instance of the same database sees every token change at once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import supertest from 'supertest';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.ts';
import { openDatabase, type Database } from '../../src/platform/db/index.ts';
import { ADMIN_KEY, PROJECT_TOKEN, SECRET_TOKEN, createTestApp, type TestApp } from '../helpers/app.ts';
import { addMember, createKey, createOrganization, createProject, createUser } from '../../src/access/organizations/admin.ts';
import { ORGANIZATION_ADMIN_ONLY, PROJECT_ADMIN_ONLY } from '../../src/access/organizations/project-settings.ts';

let t: TestApp;
let member: string;
let admin: string;

const denied = (detail: string) => ({ type: 'authentication_error', code: 'permission_denied', detail, attr: null });
const ve = (code: string, detail: string, attr: string | null) => ({ type: 'validation_error', code, detail, attr });

/** A project of its own for each test that changes tokens, so tests do not depend on one another. */
async function freshProject(name: string) {
  const project = await createProject(t.ctx, { name });
  const flag = await t.api('post', `/api/projects/${project.id}/feature_flags/`).send({
    key: 'on',
    filters: { groups: [{ properties: [], rollout_percentage: 100 }], payloads: { true: '{"secret": 42}' } },
    has_encrypted_payloads: true,
    is_remote_configuration: true,
  });
  expect(flag.status, JSON.stringify(flag.body)).toBe(201);
  return project;
}

const flagsWith = (token: string) => t.http.post('/flags/?v=2').send({ token, distinct_id: 'someone' });
const definitionsWith = (secret: string, projectToken: string) =>
  t.http.get(`/api/feature_flag/local_evaluation?token=${projectToken}`).set('Authorization', `Bearer ${secret}`);
const remoteConfigWith = (secret: string, projectId: number) =>
  t.http.get(`/api/projects/${projectId}/feature_flags/on/remote_config`).set('Authorization', `Bearer ${secret}`);

beforeAll(async () => {
  t = await createTestApp();
  member = (await t.userWithKey({ email: 'settings-member@example.com', level: 'member' })).key;
  admin = (await t.userWithKey({ email: 'settings-admin@example.com', level: 'admin' })).key;
});
afterAll(async () => {
  await t?.close();
});

describe('PATCH /api/projects/:id/ (name, time zone)', () => {
  it('a member renames the project and sets its time zone; the answer is the project', async () => {
    const project = await createProject(t.ctx, { name: 'Rename me' });
    const res = await t.api('patch', `/api/projects/${project.id}/`, member).send({ name: 'Renamed', timezone: 'Europe/Paris' });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ id: project.id, name: 'Renamed', timezone: 'Europe/Paris', api_token: project.apiToken, effective_membership_level: 1 });
    const [row] = await t.sql<{ name: string; timezone: string }>('select name, timezone from projects where id = $1', [project.id]);
    expect(row).toEqual({ name: 'Renamed', timezone: 'Europe/Paris' });
  });

  it('refuses an unknown time zone, a blank or too long name, and writes nothing', async () => {
    const project = await createProject(t.ctx, { name: 'Keep me' });
    const path = `/api/projects/${project.id}/`;
    expect((await t.api('patch', path).send({ name: 'Changed', timezone: 'Mars/Olympus' })).body).toEqual(
      ve('invalid_choice', '"Mars/Olympus" is not a valid choice.', 'timezone'),
    );
    expect((await t.api('patch', path).send({ timezone: 'europe/paris' })).status).toBe(400);
    expect((await t.api('patch', path).send({ name: '' })).body).toEqual(ve('blank', 'This field may not be blank.', 'name'));
    expect((await t.api('patch', path).send({ name: 'x'.repeat(201) })).status).toBe(400);
    expect((await t.api('patch', path).send({ name: 7 })).status).toBe(200);
    const [row] = await t.sql<{ name: string; timezone: string }>('select name, timezone from projects where id = $1', [project.id]);
    expect(row).toEqual({ name: '7', timezone: 'UTC' });
  });

  it('needs project:write; a secret token and outsiders are refused', async () => {
    const project = await createProject(t.ctx, { name: 'Scoped' });
    const reader = await t.userWithKey({ email: 'project-reader@example.com', scopes: ['project:read'] });
    expect((await t.api('patch', `/api/projects/${project.id}/`, reader.key).send({ name: 'No' })).body).toEqual(
      denied("API key missing required scope 'project:write'"),
    );
    const writer = await t.userWithKey({ email: 'project-writer@example.com', scopes: ['project:write'] });
    expect((await t.api('patch', `/api/projects/${project.id}/`, writer.key).send({ name: 'Yes' })).status).toBe(200);
    expect((await t.api('patch', `/api/projects/${project.id}/`, SECRET_TOKEN).send({ name: 'No' })).status).toBe(403);
    const other = await createOrganization(t.ctx, 'Elsewhere');
    const outsider = await t.userWithKey({ email: 'outsider@example.com', organizationId: other.id });
    expect((await t.api('patch', `/api/projects/${project.id}/`, outsider.key).send({ name: 'No' })).status).toBe(403);
    expect((await t.api('patch', '/api/projects/99999/').send({ name: 'No' })).status).toBe(404);
  });
});

describe('PATCH /api/projects/:id/reset_token/', () => {
  it('admins only, with project:write: a member or a read-only key gets 403 and the token stays', async () => {
    const project = await freshProject('Reset refused');
    expect((await t.api('patch', `/api/projects/${project.id}/reset_token/`, member)).body).toEqual(denied(PROJECT_ADMIN_ONLY));
    const reader = await t.userWithKey({ email: 'reset-reader@example.com', level: 'admin', scopes: ['project:read'] });
    for (const action of ['reset_token', 'rotate_secret_token', 'delete_secret_token_backup']) {
      expect((await t.api('patch', `/api/projects/${project.id}/${action}/`, reader.key)).body).toEqual(
        denied("API key missing required scope 'project:write'"),
      );
    }
    expect((await t.api('patch', `/api/projects/${project.id}/rotate_secret_token/`, project.secretApiToken)).status).toBe(403);
    const [row] = await t.sql<{ api_token: string }>('select api_token from projects where id = $1', [project.id]);
    expect(row.api_token).toBe(project.apiToken);
  });

  it('a new phc_ token: SDKs with the old one get 401 at once, the new one answers', async () => {
    const project = await freshProject('Reset');
    expect((await flagsWith(project.apiToken)).status).toBe(200);
    const res = await t.api('patch', `/api/projects/${project.id}/reset_token/`, admin);
    expect(res.status).toBe(200);
    const fresh = res.body.api_token as string;
    expect(fresh).toMatch(/^phc_[0-9A-Za-z]{40,}$/);
    expect(fresh).not.toBe(project.apiToken);
    expect((await flagsWith(project.apiToken)).status).toBe(401);
    const answer = await flagsWith(fresh);
    expect(answer.status).toBe(200);
    expect(answer.body.flags.on.enabled).toBe(true);
    expect((await definitionsWith(project.secretApiToken, project.apiToken)).status).toBe(401);
    expect((await definitionsWith(project.secretApiToken, fresh)).status).toBe(200);
  });
});

describe('PATCH /api/projects/:id/rotate_secret_token/ and delete_secret_token_backup/', () => {
  it('admins only', async () => {
    const project = await freshProject('Rotate refused');
    expect((await t.api('patch', `/api/projects/${project.id}/rotate_secret_token/`, member)).body).toEqual(denied(PROJECT_ADMIN_ONLY));
    expect((await t.api('patch', `/api/projects/${project.id}/delete_secret_token_backup/`, member)).body).toEqual(denied(PROJECT_ADMIN_ONLY));
    const [row] = await t.sql<{ secret_api_token: string; secret_api_token_backup: string | null }>(
      'select secret_api_token, secret_api_token_backup from projects where id = $1',
      [project.id],
    );
    expect(row).toEqual({ secret_api_token: project.secretApiToken, secret_api_token_backup: null });
  });

  it('the old secret keeps working as the backup (definitions, remote_config with decrypted payloads) until deleted', async () => {
    const project = await freshProject('Rotate');
    const old = project.secretApiToken;
    expect((await definitionsWith(old, project.apiToken)).status).toBe(200);
    const rotated = await t.api('patch', `/api/projects/${project.id}/rotate_secret_token/`, admin);
    expect(rotated.status).toBe(200);
    const fresh = rotated.body.secret_api_token as string;
    expect(fresh).toMatch(/^phs_/);
    expect(fresh).not.toBe(old);
    expect(rotated.body.secret_api_token_backup).toBe(old);
    for (const secret of [old, fresh]) {
      expect((await definitionsWith(secret, project.apiToken)).status).toBe(200);
      expect((await t.http.get('/flags/definitions').set('Authorization', `Bearer ${secret}`)).status).toBe(200);
      const config = await remoteConfigWith(secret, project.id);
      expect(config.status).toBe(200);
      expect(config.body).toBe('{"secret": 42}');
    }
    const deleted = await t.api('patch', `/api/projects/${project.id}/delete_secret_token_backup/`, admin);
    expect(deleted.status).toBe(200);
    expect(deleted.body).toMatchObject({ secret_api_token: fresh, secret_api_token_backup: null });
    const refused = await definitionsWith(old, project.apiToken);
    expect(refused.status).toBe(401);
    expect(refused.body).toMatchObject({ detail: 'Secret API key is invalid.' });
    expect((await remoteConfigWith(old, project.id)).status).toBe(401);
    expect((await definitionsWith(fresh, project.apiToken)).status).toBe(200);
    // Deleting again is harmless.
    expect((await t.api('patch', `/api/projects/${project.id}/delete_secret_token_backup/`, admin)).status).toBe(200);
  });

  it('a second rotation retires the first backup', async () => {
    const project = await freshProject('Rotate twice');
    const first = (await t.api('patch', `/api/projects/${project.id}/rotate_secret_token/`)).body.secret_api_token as string;
    const second = await t.api('patch', `/api/projects/${project.id}/rotate_secret_token/`);
    expect(second.body.secret_api_token_backup).toBe(first);
    expect((await definitionsWith(project.secretApiToken, project.apiToken)).status).toBe(401);
    expect((await definitionsWith(first, project.apiToken)).status).toBe(200);
  });
});

describe('creating projects and organizations', () => {
  it('POST /api/projects/ and /api/organizations/@current/projects/: admins, 201, the new token serves flags', async () => {
    expect((await t.api('post', '/api/projects/', member).send({ name: 'Nope' })).body).toEqual(denied(ORGANIZATION_ADMIN_ONLY));
    expect((await t.api('post', '/api/organizations/@current/projects/', member).send({ name: 'Nope' })).status).toBe(403);
    const created = await t.api('post', '/api/projects/', admin).send({ name: 'Created by admin' });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body).toMatchObject({ name: 'Created by admin', timezone: 'UTC', secret_api_token_backup: null });
    expect(created.body.api_token).toMatch(/^phc_/);
    expect((await flagsWith(created.body.api_token)).status).toBe(200);
    const second = await t.api('post', '/api/organizations/@current/projects/').send({ name: 'Second' });
    expect(second.status).toBe(201);
    expect(second.body.name).toBe('Second');
    expect((await t.api('post', '/api/organizations/@current/projects/').send({})).body).toEqual(ve('required', 'This field is required.', 'name'));
    expect((await t.api('post', '/api/projects/', admin).send({ name: '' })).status).toBe(400);
    const reader = await t.userWithKey({ email: 'create-reader@example.com', level: 'admin', scopes: ['project:read'] });
    for (const path of ['/api/projects/', '/api/organizations/@current/projects/']) {
      expect((await t.api('post', path, reader.key).send({ name: 'Nope' })).body).toEqual(denied("API key missing required scope 'project:write'"));
    }
    const elsewhere = await createOrganization(t.ctx, 'Not the current one');
    // An admin of both organizations, with a key limited to the one that is not their current one.
    await createUser(t.ctx, { email: 'create-scoped@example.com', level: 'admin' });
    await addMember(t.ctx, { email: 'create-scoped@example.com', organizationId: elsewhere.id, level: 'admin' });
    const scoped = await createKey(t.ctx, { email: 'create-scoped@example.com', scopedOrganizations: [elsewhere.id] });
    expect((await t.api('post', '/api/projects/', scoped.value).send({ name: 'Nope' })).body).toEqual(
      denied(`API key does not have access to the requested organization: ID ${t.boot.organization.id}.`),
    );
    expect((await t.api('post', `/api/organizations/${elsewhere.id}/projects/`, scoped.value).send({ name: 'Elsewhere project' })).status).toBe(201);
    expect((await t.api('post', '/api/projects/', SECRET_TOKEN).send({ name: 'Nope' })).status).toBe(403);
    const [{ n }] = await t.sql<{ n: number }>("select count(*)::int as n from projects where name in ('Nope', '')");
    expect(n).toBe(0);
  });

  it('POST /api/organizations/: the caller owns it, with a first project, and it becomes current', async () => {
    const { key } = await t.userWithKey({ email: 'founder@example.com', level: 'member' });
    const res = await t.api('post', '/api/organizations/', key).send({ name: 'Founded' });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body).toMatchObject({ name: 'Founded', membership_level: 15, member_count: 1 });
    expect(res.body.teams).toHaveLength(1);
    const me = await t.api('get', '/api/users/@me/', key);
    expect(me.body.organization.id).toBe(res.body.id);
    expect(me.body.team.id).toBe(res.body.teams[0].id);
    expect((await t.api('post', '/api/organizations/', key).send({ name: '' })).body).toEqual(ve('blank', 'This field may not be blank.', 'name'));
    expect((await t.api('post', '/api/organizations/', key).send({})).body).toEqual(ve('required', 'This field is required.', 'name'));
    const reader = await t.userWithKey({ email: 'org-reader@example.com', scopes: ['organization:read'] });
    expect((await t.api('post', '/api/organizations/', reader.key).send({ name: 'No' })).body).toEqual(
      denied("API key missing required scope 'organization:write'"),
    );
    expect((await t.api('post', '/api/organizations/', SECRET_TOKEN).send({ name: 'No' })).status).toBe(403);
  });

  it('PATCH /api/users/@me/ set_current_organization and set_current_team switch among your own only', async () => {
    const { key } = await t.userWithKey({ email: 'switcher@example.com', level: 'member' });
    const founded = (await t.api('post', '/api/organizations/', key).send({ name: 'Switched to' })).body;
    const me = () => t.api('get', '/api/users/@me/', key);
    const back = await t.api('patch', '/api/users/@me/', key).send({ set_current_organization: t.boot.organization.id });
    expect(back.status).toBe(200);
    expect(back.body.organization.id).toBe(t.boot.organization.id);
    expect(back.body.team.organization).toBe(t.boot.organization.id);
    const team = await t.api('patch', '/api/users/@me/', key).send({ set_current_team: founded.teams[0].id });
    expect([team.body.organization.id, team.body.team.id]).toEqual([founded.id, founded.teams[0].id]);
    const stranger = await createOrganization(t.ctx, 'Not yours');
    const strangerProject = await createProject(t.ctx, { name: 'Not yours either', organizationId: stranger.id });
    expect((await t.api('patch', '/api/users/@me/', key).send({ set_current_organization: stranger.id })).body).toEqual(
      ve('does_not_exist', `Object with id=${stranger.id} does not exist.`, 'set_current_organization'),
    );
    expect((await t.api('patch', '/api/users/@me/', key).send({ set_current_team: strangerProject.id })).body).toEqual(
      ve('does_not_exist', `Object with id=${strangerProject.id} does not exist.`, 'set_current_team'),
    );
    expect((await t.api('patch', '/api/users/@me/', key).send({ set_current_team: 99999999999 })).status).toBe(400);
    expect((await me()).body.team.id).toBe(founded.teams[0].id);
  });

  it('the original project and its tokens are untouched by all of this', async () => {
    expect((await flagsWith(PROJECT_TOKEN)).status).toBe(200);
    expect((await definitionsWith(SECRET_TOKEN, PROJECT_TOKEN)).status).toBe(200);
    expect((await t.api('get', '/api/projects/1/', ADMIN_KEY)).body.secret_api_token_backup).toBe(null);
  });
});

async function waitFor<T>(fn: () => Promise<T>, ok: (value: T) => boolean, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (ok(value) || Date.now() > deadline) return value;
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe.runIf(Boolean(process.env.DATABASE_URL))('a second instance on the same PostgreSQL database', () => {
  let second: FastifyInstance;
  let secondDb: Database;
  beforeAll(async () => {
    secondDb = await openDatabase(t.config.database);
    second = await buildApp({ config: t.config, database: secondDb });
    await second.services.start();
    await second.ready();
  });
  afterAll(async () => {
    await second?.close();
    await secondDb?.close();
  });
  const flagsOnSecond = (token: string) => supertest(second.server).post('/flags/?v=2').send({ token, distinct_id: 'someone' });
  const definitionsOnSecond = (secret: string, token: string) =>
    supertest(second.server).get(`/api/feature_flag/local_evaluation?token=${token}`).set('Authorization', `Bearer ${secret}`);

  it('a reset project token is refused there as soon as the change is notified, and the new one answers', async () => {
    const project = await freshProject('Reset, two instances');
    expect((await flagsOnSecond(project.apiToken)).status).toBe(200); // snapshot and token map built there
    const fresh = (await t.api('patch', `/api/projects/${project.id}/reset_token/`, admin)).body.api_token as string;
    expect(
      (
        await waitFor(
          () => flagsOnSecond(project.apiToken),
          (r) => r.status === 401,
          5000,
        )
      ).status,
    ).toBe(401);
    expect((await flagsOnSecond(fresh)).status).toBe(200);
  });

  it('a rotated secret: the backup keeps working there, and is refused once deleted (before the 10 s cache would expire)', async () => {
    const project = await freshProject('Rotate, two instances');
    const old = project.secretApiToken;
    expect((await definitionsOnSecond(old, project.apiToken)).status).toBe(200);
    const fresh = (await t.api('patch', `/api/projects/${project.id}/rotate_secret_token/`, admin)).body.secret_api_token as string;
    expect(
      (
        await waitFor(
          () => definitionsOnSecond(fresh, project.apiToken),
          (r) => r.status === 200,
          5000,
        )
      ).status,
    ).toBe(200);
    expect((await definitionsOnSecond(old, project.apiToken)).status).toBe(200);
    const cachedAt = Date.now();
    expect((await t.api('patch', `/api/projects/${project.id}/delete_secret_token_backup/`, admin)).status).toBe(200);
    const refused = await waitFor(
      () => definitionsOnSecond(old, project.apiToken),
      (r) => r.status === 401,
      9000,
    );
    expect(refused.status).toBe(401);
    expect(Date.now() - cachedAt).toBeLessThan(10_000);
    expect((await definitionsOnSecond(fresh, project.apiToken)).status).toBe(200);
  });
});
