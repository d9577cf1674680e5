// What a restored flaghost must still have: data written through the API (flags with encrypted
// payloads, cohorts, keys, activity), read back through the API as a client sees it.
export interface Seeded {
  /** Personal API keys whose values must still work, besides the admin's. */
  keys: string[];
}

async function call(url: string, key: string, method: string, path: string, body?: unknown): Promise<any> {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(60_000),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : undefined;
}

/** Cohorts, flags (one with encrypted payloads, one on the cohort), edits, a deletion and a scoped key. */
export async function seed(url: string, adminKey: string): Promise<Seeded> {
  const P = '/api/projects/1';
  const cohort = await call(url, adminKey, 'POST', `${P}/cohorts/`, {
    name: 'Power users',
    filters: { properties: { type: 'OR', values: [{ type: 'AND', values: [{ key: 'plan', value: 'pro', type: 'person', operator: 'exact' }] }] } },
  });
  await call(url, adminKey, 'PATCH', `${P}/cohorts/${cohort.id}/`, { description: 'paying customers' });
  await call(url, adminKey, 'POST', `${P}/feature_flags/`, {
    key: 'secret-config',
    is_remote_configuration: true,
    has_encrypted_payloads: true,
    filters: { groups: [{ rollout_percentage: 100 }], payloads: { true: '{"password": "hunter2"}' } },
  });
  const multi = await call(url, adminKey, 'POST', `${P}/feature_flags/`, {
    key: 'checkout',
    filters: {
      groups: [{ properties: [{ key: 'id', type: 'cohort', value: cohort.id }], rollout_percentage: 100 }, { rollout_percentage: 30 }],
      multivariate: {
        variants: [
          { key: 'control', rollout_percentage: 50 },
          { key: 'test', rollout_percentage: 50 },
        ],
      },
      payloads: { test: '{"color": "green"}' },
    },
  });
  await call(url, adminKey, 'PATCH', `${P}/feature_flags/${multi.id}/`, { name: 'New checkout', tags: ['web'] });
  const gone = await call(url, adminKey, 'POST', `${P}/feature_flags/`, { key: 'to-delete', filters: { groups: [{ rollout_percentage: 10 }] } });
  await call(url, adminKey, 'PATCH', `${P}/feature_flags/${gone.id}/`, { deleted: true });
  const scoped = await call(url, adminKey, 'POST', '/api/personal_api_keys/', { label: 'read flags', scopes: ['feature_flag:read'] });
  return { keys: [scoped.value] };
}

/** Everything a client can read of the seeded data, with the fields that move by themselves left out. */
export async function observe(url: string, adminKey: string, seeded: Seeded, projectToken: string) {
  const P = '/api/projects/1';
  const flags = (await call(url, adminKey, 'GET', `${P}/feature_flags/?limit=1000`)).results;
  const cohorts = (await call(url, adminKey, 'GET', `${P}/cohorts/?limit=1000`)).results;
  const flagActivity = (await call(url, adminKey, 'GET', `${P}/feature_flags/activity?limit=1000`)).results;
  const cohortActivity = (await call(url, adminKey, 'GET', `${P}/cohorts/activity?limit=1000`)).results;
  const keys = (await call(url, adminKey, 'GET', '/api/personal_api_keys/')).map(({ last_used_at: _, ...k }: Record<string, unknown>) => k);
  // Each key still authenticates (the scoped one may only read flags).
  const me = [(await call(url, adminKey, 'GET', '/api/users/@me/')).email];
  const secretFlag = flags.find((f: { key: string }) => f.key === 'secret-config');
  for (const key of seeded.keys) me.push((await call(url, key, 'GET', `${P}/feature_flags/${secretFlag.id}/`)).key);
  const payload = await call(url, adminKey, 'GET', `${P}/feature_flags/secret-config/remote_config`);
  const evaluated = await fetch(`${url}/flags?v=2`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ api_key: projectToken, distinct_id: 'restored-user', person_properties: { plan: 'pro' } }),
  }).then((r) => r.json() as Promise<{ flags: Record<string, { enabled: boolean; variant: string | null }> }>);
  const decisions = Object.fromEntries(Object.entries(evaluated.flags).map(([k, v]) => [k, [v.enabled, v.variant]]));
  return { flags, cohorts, flagActivity, cohortActivity, keys, me, payload, decisions };
}
