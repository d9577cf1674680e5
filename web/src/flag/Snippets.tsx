// Code that evaluates this flag against this server: posthog-node, posthog-js and curl.
import { useState } from 'react';
import { CopyButton } from '../components/ui.tsx';
import type { FeatureFlag } from '../types.ts';

export function snippets(flag: FeatureFlag, origin: string, token: string): Array<{ id: string; label: string; code: string }> {
  const key = JSON.stringify(flag.key);
  const variants = flag.filters?.multivariate?.variants ?? [];
  const check = variants.length ? `=== ${JSON.stringify(variants[variants.length - 1].key)}` : '';
  return [
    {
      id: 'node',
      label: 'posthog-node',
      code: `import { PostHog } from 'posthog-node';

const posthog = new PostHog('${token}', { host: '${origin}' });

const value = await posthog.getFeatureFlag(${key}, 'user-distinct-id');
${variants.length ? `if (value ${check}) {\n  // this user gets the ${variants[variants.length - 1].key} variant\n}` : 'if (value) {\n  // the flag is on for this user\n}'}
const payload = await posthog.getFeatureFlagPayload(${key}, 'user-distinct-id');

await posthog.shutdown();`,
    },
    {
      id: 'js',
      label: 'posthog-js',
      code: `import posthog from 'posthog-js';

posthog.init('${token}', { api_host: '${origin}' });

posthog.onFeatureFlags(() => {
${variants.length ? `  if (posthog.getFeatureFlag(${key}) ${check}) {` : `  if (posthog.isFeatureEnabled(${key})) {`}
    const payload = posthog.getFeatureFlagPayload(${key});
  }
});`,
    },
    {
      id: 'curl',
      label: 'curl',
      code: `curl -s -X POST '${origin}/flags/?v=2' \\
  -H 'Content-Type: application/json' \\
  -d '{"token": "${token}", "distinct_id": "user-distinct-id", "flag_keys_to_evaluate": [${key}]}'`,
    },
  ];
}

export function Snippets({ flag, token }: { flag: FeatureFlag; token: string }) {
  const all = snippets(flag, window.location.origin, token);
  const [active, setActive] = useState(all[0].id);
  const current = all.find((s) => s.id === active) ?? all[0];
  return (
    <section className="card" aria-labelledby="code-title">
      <h2 id="code-title">Use this flag in your code</h2>
      <div className="snippet-tabs" role="group" aria-label="Language">
        {all.map((s) => (
          <button
            type="button"
            key={s.id}
            className={`pill${s.id === active ? ' is-active' : ''}`}
            aria-pressed={s.id === active}
            onClick={() => setActive(s.id)}
          >
            {s.label}
          </button>
        ))}
      </div>
      <div className="snippet">
        <div className="snippet-bar">
          <span className="muted">{current.label}</span>
          <CopyButton text={current.code} />
        </div>
        <pre className="code-block" role="region" tabIndex={0} aria-label={`${current.label} example`}>
          <code>{current.code}</code>
        </pre>
      </div>
    </section>
  );
}
