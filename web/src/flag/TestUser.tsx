// "Test a user": evaluates this flag for a distinct id and properties the way an SDK would
// (POST /flags?v=2 with the project token), and shows the value, the payload and the reason.
import { useState, type FormEvent } from 'react';
import { ApiError } from '../api.ts';
import { Alert, Badge, Button, Field } from '../components/ui.tsx';
import { JsonEditor, jsonProblem } from '../components/JsonEditor.tsx';
import type { FeatureFlag } from '../types.ts';
import { payloadText } from './model.ts';

interface FlagAnswer {
  key: string;
  enabled: boolean;
  variant: string | null;
  failed?: boolean;
  reason?: { code: string; condition_index: number | null; description?: string };
  metadata?: { payload?: unknown; version?: number };
}

export function TestUser({ flag, projectToken }: { flag: FeatureFlag; projectToken: string | undefined }) {
  const [distinctId, setDistinctId] = useState('');
  const [properties, setProperties] = useState('{\n  "email": "someone@example.com"\n}');
  const [groups, setGroups] = useState('');
  const [runtime, setRuntime] = useState<'server' | 'client'>(flag.evaluation_runtime === 'client' ? 'client' : 'server');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [answer, setAnswer] = useState<{ flag: FlagAnswer | undefined; distinctId: string } | null>(null);
  const groupFlag = flag.filters?.aggregation_group_type_index !== null && flag.filters?.aggregation_group_type_index !== undefined;

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (!distinctId.trim()) return setError('Enter a distinct id.');
    if (jsonProblem(properties) || jsonProblem(groups)) return setError('Fix the JSON first.');
    setBusy(true);
    setError(null);
    try {
      const groupsValue = groups.trim() ? JSON.parse(groups) : {};
      const response = await fetch('/flags/?v=2', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        credentials: 'omit',
        body: JSON.stringify({
          token: projectToken,
          distinct_id: distinctId.trim(),
          person_properties: properties.trim() ? JSON.parse(properties) : {},
          groups: groupsValue.groups ?? groupsValue,
          group_properties: groupsValue.group_properties ?? {},
          flag_keys_to_evaluate: [flag.key],
          evaluation_runtime: runtime,
          geoip_disable: true,
        }),
      });
      if (!response.ok) throw new ApiError(response.status, { detail: (await response.text()) || `The server answered ${response.status}.` });
      const body = (await response.json()) as { flags?: Record<string, FlagAnswer> };
      setAnswer({ flag: body.flags?.[flag.key], distinctId: distinctId.trim() });
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };

  const result = answer?.flag;
  const value = result ? (result.variant ?? result.enabled) : false;
  return (
    <div className="test-user">
      <form onSubmit={submit} className="card" noValidate>
        <h2>Test a user</h2>
        <p className="muted section-intro">
          Evaluates this flag as an SDK would, with the properties below merged over what flaghost already knows about the person.
        </p>
        {!flag.active || flag.deleted ? (
          <Alert tone="warning">This flag is {flag.deleted ? 'deleted' : 'disabled'}: SDKs get no value for it (false).</Alert>
        ) : null}
        <Field label="Distinct id">
          {(p) => <input {...p} className="mono" value={distinctId} placeholder="e.g. user-123" onChange={(e) => setDistinctId(e.target.value)} />}
        </Field>
        <JsonEditor label="Person properties (JSON object)" value={properties} onChange={setProperties} />
        {groupFlag ? (
          <JsonEditor label='Groups (JSON, e.g. {"company": "acme"})' value={groups} onChange={setGroups} placeholder='{"company": "acme"}' />
        ) : null}
        <fieldset className="radio-group inline">
          <legend>Evaluate as</legend>
          <label>
            <input type="radio" name="test-runtime" checked={runtime === 'server'} onChange={() => setRuntime('server')} /> a server SDK
          </label>
          <label>
            <input type="radio" name="test-runtime" checked={runtime === 'client'} onChange={() => setRuntime('client')} /> a browser or mobile SDK
          </label>
        </fieldset>
        {error ? <Alert>{error}</Alert> : null}
        <Button kind="primary" type="submit" busy={busy} disabled={!projectToken}>
          Evaluate
        </Button>
      </form>
      {answer ? (
        <section className="card result" aria-live="polite" aria-labelledby="test-result">
          <h2 id="test-result">
            Result for <span className="mono">{answer.distinctId}</span>
          </h2>
          {result ? (
            <dl className="details">
              <dt>Value</dt>
              <dd>
                <Badge tone={value === false ? 'neutral' : 'success'}>
                  <span className="mono" data-testid="test-value">
                    {String(value)}
                  </span>
                </Badge>
              </dd>
              <dt>Reason</dt>
              <dd data-testid="test-reason">
                {result.reason?.description ?? result.reason?.code ?? 'Unknown'}
                {result.reason?.code ? <span className="muted"> ({result.reason.code})</span> : null}
              </dd>
              <dt>Payload</dt>
              <dd>
                {result.metadata?.payload !== undefined && result.metadata?.payload !== null ? (
                  <pre className="code-inline">{payloadText(result.metadata.payload)}</pre>
                ) : (
                  <span className="muted">None</span>
                )}
              </dd>
            </dl>
          ) : (
            <p>
              The flag was not evaluated: it is disabled, deleted, or limited to another runtime. SDKs treat it as <span className="mono">false</span>.
            </p>
          )}
        </section>
      ) : (
        <section className="card result-placeholder" aria-label="Result">
          <p className="muted">Enter a distinct id and press Evaluate to see the value this user gets, its payload, and why.</p>
        </section>
      )}
    </div>
  );
}
