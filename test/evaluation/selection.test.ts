// Which flags a request evaluates (docs/compatibility.md#sdk-3.2): runtime inference and
// filtering, contexts, flag_keys_to_evaluate, surveys.
import { describe, expect, it } from 'vitest';
import { evaluateFlags, inferRuntime, type EvaluationRequest, type FlagDefinition } from '../../src/evaluation/index.js';
import { flag, project, rollout } from './fixtures.js';

const keys = (flags: FlagDefinition[], request: Partial<EvaluationRequest> = {}) =>
  evaluateFlags(project(flags), { distinctId: 'u', ...request }).map((r) => r.key);

describe('inferRuntime', () => {
  it('prefers the explicit runtime; unknown explicit values mean all', () => {
    expect(inferRuntime({ explicit: 'server', userAgent: 'Mozilla/5.0' })).toBe('server');
    expect(inferRuntime({ explicit: 'CLIENT' })).toBe('client');
    expect(inferRuntime({ explicit: 'all', userAgent: 'posthog-node/5.70.0' })).toBe('all');
    expect(inferRuntime({ explicit: 'whatever' })).toBe('all');
  });

  it.each([
    ['posthog-node/5.70.0', 'server'],
    ['posthog-python/6.0.0 (Linux; Python 3.12)', 'server'],
    ['posthog-ruby/2.0.0', 'server'],
    ['posthog-go/1.0.0', 'server'],
    ['posthog-php/3.1.0', 'server'],
    ['posthog-java/1.1.0', 'server'],
    ['posthog-dotnet/1.0.0', 'server'],
    ['posthog-elixir/0.2.0', 'server'],
    ['posthog-server/1.0.0', 'server'],
    ['curl/8.5.0', 'server'],
    ['python-requests/2.31.0', 'server'],
    ['posthog-js/1.200.0', 'client'],
    ['posthog-android/3.0.0', 'client'],
    ['posthog-ios/3.0.0', 'client'],
    ['posthog-react-native/4.0.0', 'client'],
    ['posthog-flutter/4.0.0', 'client'],
    ['Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36', 'client'],
    ['Chrome/120.0.0.0 Safari/537.36', 'client'],
  ])('infers %s → %s', (ua, runtime) => {
    expect(inferRuntime({ userAgent: ua })).toBe(runtime);
    expect(inferRuntime({ headers: { 'user-agent': ua } })).toBe(runtime);
  });

  it('answers the same for a User-Agent seen before, past the cache bound too', () => {
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 600; i++) {
        expect(inferRuntime({ userAgent: `posthog-node/5.${i}.0` })).toBe('server');
        expect(inferRuntime({ userAgent: `posthog-js/1.${i}.0` })).toBe('client');
        expect(inferRuntime({ userAgent: `some-bot/${i}` })).toBeUndefined();
        expect(inferRuntime({ userAgent: `some-bot/${i}`, hasBrowserHeaders: true })).toBe('client');
      }
    }
  });

  it('falls back to browser-only headers, else unknown', () => {
    expect(inferRuntime({ userAgent: 'my-client/1.0', headers: { origin: 'https://app.example.com' } })).toBe('client');
    expect(inferRuntime({ headers: { referer: 'https://x' } })).toBe('client');
    expect(inferRuntime({ headers: { 'sec-fetch-mode': 'cors' } })).toBe('client');
    expect(inferRuntime({ headers: { 'sec-fetch-site': 'same-origin' } })).toBe('client');
    expect(inferRuntime({ userAgent: 'my-client/1.0', hasBrowserHeaders: true })).toBe('client');
    expect(inferRuntime({ userAgent: 'posthog-node/5.0.0', hasBrowserHeaders: true })).toBe('server');
    expect(inferRuntime({ userAgent: 'my-client/1.0' })).toBeUndefined();
    expect(inferRuntime({ userAgent: 'posthog-unknown/1.0' })).toBeUndefined();
    expect(inferRuntime({ userAgent: 'posthog-python/' })).toBeUndefined();
    expect(inferRuntime({})).toBeUndefined();
  });
});

describe('runtime filtering', () => {
  const flags = [
    flag('any', { groups: [rollout(100)] }, { evaluationRuntime: 'all' }),
    flag('server', { groups: [rollout(100)] }, { evaluationRuntime: 'server' }),
    flag('client', { groups: [rollout(100)] }, { evaluationRuntime: 'client' }),
  ];

  it('keeps flags for all runtimes plus those of the request runtime', () => {
    expect(keys(flags, { runtime: 'server' })).toEqual(['any', 'server']);
    expect(keys(flags, { runtime: 'client' })).toEqual(['any', 'client']);
    expect(keys(flags, { runtime: 'all' })).toEqual(['any', 'server', 'client']);
  });

  it('excludes runtime-specific flags when the runtime is unknown', () => {
    expect(keys(flags)).toEqual(['any']);
  });
});

describe('evaluation contexts', () => {
  const flags = [
    flag('untagged', { groups: [rollout(100)] }),
    flag('web', { groups: [rollout(100)] }, { evaluationTags: ['web'] }),
    flag('web-or-app', { groups: [rollout(100)] }, { evaluationTags: ['web', 'app'] }),
    flag('app', { groups: [rollout(100)] }, { evaluationTags: ['app'] }),
  ];

  it('keeps untagged flags and flags sharing a context', () => {
    expect(keys(flags, { evaluationContexts: ['web'] })).toEqual(['untagged', 'web', 'web-or-app']);
    expect(keys(flags, { evaluationContexts: ['app', 'other'] })).toEqual(['untagged', 'web-or-app', 'app']);
  });

  it('keeps every flag when the request sends no contexts', () => {
    expect(keys(flags)).toEqual(['untagged', 'web', 'web-or-app', 'app']);
    expect(keys(flags, { evaluationContexts: [] })).toEqual(['untagged', 'web', 'web-or-app', 'app']);
  });
});

describe('flag_keys_to_evaluate', () => {
  const dep = (id: number) => ({ key: String(id), type: 'flag', operator: 'flag_evaluates_to', value: true });
  const flags = [
    flag('leaf', { groups: [rollout(100)] }, { id: 1 }),
    flag('middle', { groups: [{ properties: [dep(1)] }] }, { id: 2 }),
    flag('top', { groups: [{ properties: [dep(2)] }] }, { id: 3 }),
    flag('unrelated', { groups: [rollout(100)] }, { id: 4 }),
    flag('inactive', { groups: [rollout(100)] }, { id: 5, active: false }),
    flag('on-inactive', { groups: [{ properties: [{ ...dep(5), value: false }] }] }, { id: 6 }),
  ];

  it('evaluates the requested flags plus their dependencies', () => {
    expect(keys(flags, { flagKeys: ['top'] })).toEqual(['leaf', 'middle', 'top']);
    expect(keys(flags, { flagKeys: ['middle', 'unrelated'] })).toEqual(['leaf', 'middle', 'unrelated']);
    const [top] = evaluateFlags(project(flags), { distinctId: 'u', flagKeys: ['top'] }).filter((r) => r.key === 'top');
    expect(top.enabled).toBe(true);
  });

  it('ignores unknown keys and never answers skipped flags, which still count as false', () => {
    expect(keys(flags, { flagKeys: ['nope'] })).toEqual([]);
    expect(keys(flags, { flagKeys: ['inactive'] })).toEqual([]);
    const results = evaluateFlags(project(flags), { distinctId: 'u', flagKeys: ['on-inactive'] });
    expect(results.map((r) => [r.key, r.enabled])).toEqual([['on-inactive', true]]);
  });
});

describe('inactive, deleted and survey flags', () => {
  const flags = [
    flag('active', { groups: [rollout(100)] }),
    flag('inactive', { groups: [rollout(100)] }, { active: false }),
    flag('deleted', { groups: [rollout(100)] }, { deleted: true }),
    flag('survey-targeting-abc', { groups: [rollout(100)] }),
  ];

  it('omits inactive and deleted flags', () => {
    expect(keys(flags)).toEqual(['active', 'survey-targeting-abc']);
  });

  it('only_evaluate_survey_feature_flags keeps survey-targeting- flags', () => {
    expect(keys(flags, { onlySurveyFlags: true })).toEqual(['survey-targeting-abc']);
  });
});
