// @posthog/agent-toolkit (PostHog's tools for AI agents) against flaghost: it finds its feature-flag
// tools with every kind of key (first start, `flaghost keys create`, the API), which needs
// `scoped_teams` and `scoped_organizations` as lists (docs/compatibility.md#api-5.2), and lists,
// creates, updates, reads and deletes flags through the toolkit's own tool handlers.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostHogAgentToolkit } from '@posthog/agent-toolkit/tools';
import { ADMIN_EMAIL, ADMIN_KEY, createTestApp, type TestApp } from '../helpers/app.ts';
import { createKey } from '../../src/access/organizations/admin.ts';

let t: TestApp;
const FLAG_TOOLS = ['create-feature-flag', 'delete-feature-flag', 'feature-flag-get-all', 'feature-flag-get-definition', 'update-feature-flag'];

beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t?.close();
});

type Tools = Awaited<ReturnType<PostHogAgentToolkit['getTools']>>;
const toolkitFor = (key: string) => new PostHogAgentToolkit({ posthogApiToken: key, posthogApiBaseUrl: t.baseUrl });
const flagToolNames = (tools: Tools) => tools.map((tool) => tool.name).filter((name) => FLAG_TOOLS.includes(name));

/** Runs one tool as an agent would: its handler with the toolkit's context; the JSON of its text answer. */
async function run(toolkit: PostHogAgentToolkit, tools: Tools, name: string, params: Record<string, unknown>): Promise<unknown> {
  const tool = tools.find((candidate) => candidate.name === name);
  if (!tool) throw new Error(`no tool ${name}`);
  const answer = await tool.handler(toolkit.getContext(), tool.schema.parse(params));
  const text: string = answer.content[0].text;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

describe('keys as PostHog shows them', () => {
  it('a first-start key: @current shows empty lists, and the toolkit finds its flag tools', async () => {
    const current = await t.api('get', '/api/personal_api_keys/@current/');
    expect(current.status).toBe(200);
    expect(current.body).toMatchObject({ scopes: ['*'], scoped_teams: [], scoped_organizations: [] });
    expect(flagToolNames(await toolkitFor(ADMIN_KEY).getTools()).sort()).toEqual(FLAG_TOOLS);
  });

  it('a key made as `flaghost keys create` makes it: lists in every answer, and the flag tools', async () => {
    const { value } = await createKey(t.ctx, { email: ADMIN_EMAIL, scopes: ['feature_flag:write', 'user:read'], label: 'cli' });
    const current = await t.api('get', '/api/personal_api_keys/@current/', value);
    expect(current.body).toMatchObject({ scopes: ['feature_flag:write', 'user:read'], scoped_teams: [], scoped_organizations: [] });
    const listed = await t.api('get', '/api/personal_api_keys/');
    for (const key of listed.body) {
      expect(Array.isArray(key.scoped_teams)).toBe(true);
      expect(Array.isArray(key.scoped_organizations)).toBe(true);
    }
    expect(flagToolNames(await toolkitFor(value).getTools()).sort()).toEqual(FLAG_TOOLS);
  });

  it('a key made through the API, scoped to the project: the toolkit uses that project', async () => {
    const created = await t.api('post', '/api/personal_api_keys/').send({ label: 'agent', scopes: ['feature_flag:write', 'user:read'], scoped_teams: [1] });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ scoped_teams: [1], scoped_organizations: [] });
    const toolkit = toolkitFor(created.body.value);
    expect(await toolkit.getContext().stateManager.getProjectId()).toBe('1');
    expect(flagToolNames(await toolkit.getTools()).sort()).toEqual(FLAG_TOOLS);
  });

  it('a key without feature_flag scopes gets no flag tools (the toolkit reads scopes, so the test can tell)', async () => {
    const { value } = await createKey(t.ctx, { email: ADMIN_EMAIL, scopes: ['user:read'], label: 'no flags' });
    expect(flagToolNames(await toolkitFor(value).getTools())).toEqual([]);
  });
});

describe('flags through the toolkit', { shuffle: false }, () => {
  // One flag's life: each step works on what the step before made (CI shuffles order otherwise).
  let toolkit: PostHogAgentToolkit;
  let tools: Tools;
  let id: number;

  beforeAll(async () => {
    const { value } = await createKey(t.ctx, { email: ADMIN_EMAIL, scopes: ['feature_flag:write', 'user:read'], label: 'crud' });
    toolkit = toolkitFor(value);
    tools = await toolkit.getTools();
  });

  it('create-feature-flag creates the flag flaghost then serves', async () => {
    const flag = (await run(toolkit, tools, 'create-feature-flag', {
      name: 'Agent flag',
      key: 'agent-flag',
      description: 'made by an agent',
      active: true,
      filters: { groups: [{ properties: [{ key: 'email', type: 'person', value: 'a@example.com', operator: 'exact' }], rollout_percentage: 100 }] },
      tags: ['agents'],
    })) as Record<string, unknown>;
    expect(flag).toMatchObject({ key: 'agent-flag', name: 'Agent flag', active: true });
    expect(flag.url).toMatch(/\/project\/1\/feature_flags\/\d+$/);
    id = flag.id as number;
    const stored = await t.api('get', `/api/projects/1/feature_flags/${id}/`);
    expect(stored.body).toMatchObject({ key: 'agent-flag', name: 'Agent flag', active: true });
    expect(stored.body.filters.groups[0].properties[0]).toMatchObject({ key: 'email', value: 'a@example.com' });
  });

  it('feature-flag-get-all and feature-flag-get-definition find it', async () => {
    const all = (await run(toolkit, tools, 'feature-flag-get-all', {})) as Array<{ key: string }>;
    expect(all.map((flag) => flag.key)).toContain('agent-flag');
    expect(await run(toolkit, tools, 'feature-flag-get-definition', { flagKey: 'agent-flag' })).toMatchObject({ id, key: 'agent-flag' });
    expect(await run(toolkit, tools, 'feature-flag-get-definition', { flagId: id })).toMatchObject({ id, key: 'agent-flag' });
  });

  it('update-feature-flag changes it', async () => {
    const updated = await run(toolkit, tools, 'update-feature-flag', {
      flagKey: 'agent-flag',
      data: { active: false, filters: { groups: [{ properties: [], rollout_percentage: 25 }] } },
    });
    expect(updated).toMatchObject({ id, key: 'agent-flag', active: false });
    const stored = await t.api('get', `/api/projects/1/feature_flags/${id}/`);
    expect(stored.body.active).toBe(false);
    expect(stored.body.filters.groups).toEqual([expect.objectContaining({ properties: [], rollout_percentage: 25 })]);
  });

  it('delete-feature-flag soft-deletes it', async () => {
    await run(toolkit, tools, 'delete-feature-flag', { flagKey: 'agent-flag' });
    const stored = await t.api('get', `/api/projects/1/feature_flags/${id}/`);
    expect(stored.status === 404 || stored.body.deleted === true).toBe(true);
    const all = (await run(toolkit, tools, 'feature-flag-get-all', {})) as Array<{ key: string }>;
    expect(all.map((flag) => flag.key)).not.toContain('agent-flag');
  });
});
