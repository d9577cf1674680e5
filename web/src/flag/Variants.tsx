// The flag's values: boolean with an optional payload, or multivariate variants whose split must
// total 100 %, each with its own JSON payload.
import { Button } from '../components/ui.tsx';
import { JsonEditor } from '../components/JsonEditor.tsx';
import { distributeEvenly, newVariant, variantSum, type FlagForm, type FormVariant } from './model.ts';

const VARIANT_KEY = /^[a-zA-Z0-9_-]+$/;

export function variantProblems(form: FlagForm): string[] {
  if (!form.multivariate) return [];
  const problems: string[] = [];
  if (form.variants.length < 1) problems.push('Add at least one variant.');
  const keys = form.variants.map((v) => v.key.trim());
  if (keys.some((k) => !k)) problems.push('Every variant needs a key.');
  if (new Set(keys).size !== keys.length) problems.push('Variant keys must be different.');
  if (variantSum(form) !== 100) problems.push(`The variant split must total 100 % (now ${variantSum(form)} %).`);
  return problems;
}

export function VariantsEditor({
  form,
  setForm,
  variantsError,
  payloadError,
}: {
  form: FlagForm;
  setForm: (update: (f: FlagForm) => FlagForm) => void;
  variantsError: string | null;
  payloadError: string | null;
}) {
  const sum = variantSum(form);
  const setVariant = (uid: string, patch: Partial<FormVariant>) =>
    setForm((f) => ({ ...f, variants: f.variants.map((v) => (v.uid === uid ? { ...v, ...patch } : v)) }));
  const renameVariant = (v: FormVariant, key: string) =>
    setForm((f) => ({
      ...f,
      variants: f.variants.map((x) => (x.uid === v.uid ? { ...x, key } : x)),
      // Conditions that forced the old key follow the rename.
      groups: f.groups.map((g) => (g.variant && g.variant === v.key ? { ...g, variant: key } : g)),
    }));
  return (
    <div className="variants">
      <fieldset className="segmented">
        <legend>Served value</legend>
        <div className="segmented-options">
          <label className={!form.multivariate ? 'is-checked' : ''}>
            <input
              type="radio"
              name="flag-type"
              checked={!form.multivariate}
              onChange={() => setForm((f) => ({ ...f, multivariate: false, groups: f.groups.map((g) => ({ ...g, variant: '' })) }))}
            />
            Boolean (on / off)
          </label>
          <label className={form.multivariate ? 'is-checked' : ''}>
            <input type="radio" name="flag-type" checked={form.multivariate} onChange={() => setForm((f) => ({ ...f, multivariate: true }))} />
            Multiple variants
          </label>
        </div>
      </fieldset>

      {!form.multivariate ? (
        <JsonEditor
          label="Payload when the flag is on (optional JSON)"
          value={form.booleanPayload}
          onChange={(booleanPayload) => setForm((f) => ({ ...f, booleanPayload }))}
          error={payloadError}
        />
      ) : (
        <>
          {variantsError ? (
            <p className="error-text section-error" role="alert">
              {variantsError}
            </p>
          ) : null}
          <ol className="variant-list">
            {form.variants.map((v, i) => {
              const badKey = v.key.trim() !== '' && !VARIANT_KEY.test(v.key.trim());
              return (
                <li key={v.uid} className="variant">
                  <div className="variant-fields">
                    <div className="field">
                      <label htmlFor={`vkey-${v.uid}`}>Variant {i + 1} key</label>
                      <input
                        id={`vkey-${v.uid}`}
                        className="mono"
                        value={v.key}
                        placeholder="e.g. test"
                        onChange={(e) => renameVariant(v, e.target.value)}
                        aria-invalid={badKey || undefined}
                      />
                      {badKey ? <p className="error-text">Use letters, numbers, hyphens and underscores.</p> : null}
                    </div>
                    <div className="field">
                      <label htmlFor={`vname-${v.uid}`}>Variant {i + 1} description</label>
                      <input id={`vname-${v.uid}`} value={v.name} placeholder="Optional" onChange={(e) => setVariant(v.uid, { name: e.target.value })} />
                    </div>
                    <div className="field field-percent">
                      <label htmlFor={`vroll-${v.uid}`}>Split</label>
                      <span className="percent-input">
                        <input
                          id={`vroll-${v.uid}`}
                          type="number"
                          min={0}
                          max={100}
                          step={1}
                          inputMode="numeric"
                          value={v.rollout}
                          aria-invalid={sum !== 100 || undefined}
                          aria-describedby="variant-sum"
                          onChange={(e) => setVariant(v.uid, { rollout: e.target.value })}
                        />
                        <span aria-hidden="true">%</span>
                      </span>
                    </div>
                    <button
                      type="button"
                      className="icon-button variant-remove"
                      aria-label={`Remove variant ${v.key || i + 1}`}
                      disabled={form.variants.length <= 1}
                      onClick={() =>
                        setForm((f) => ({
                          ...f,
                          variants: f.variants.filter((x) => x.uid !== v.uid),
                          groups: f.groups.map((g) => (g.variant === v.key ? { ...g, variant: '' } : g)),
                        }))
                      }
                    >
                      <svg viewBox="0 0 20 20" aria-hidden="true">
                        <path d="M5 5l10 10M15 5L5 15" stroke="currentColor" strokeWidth="1.8" strokeLinecap="round" />
                      </svg>
                    </button>
                  </div>
                  <JsonEditor
                    label={`Payload for ${v.key || `variant ${i + 1}`} (optional JSON)`}
                    value={v.payload}
                    onChange={(payload) => setVariant(v.uid, { payload })}
                  />
                </li>
              );
            })}
          </ol>
          <div className="variant-footer">
            <p id="variant-sum" className={sum === 100 ? 'sum-ok' : 'error-text'} aria-live="polite">
              {sum === 100 ? 'Split totals 100 %.' : `Split totals ${sum} %: it must total 100 %.`}
            </p>
            <div className="button-row">
              <Button className="btn-small" onClick={() => setForm((f) => ({ ...f, variants: distributeEvenly(f.variants) }))}>
                Distribute evenly
              </Button>
              <Button
                className="btn-small"
                onClick={() => setForm((f) => ({ ...f, variants: [...f.variants, newVariant(`variant-${f.variants.length + 1}`)] }))}
              >
                + Add variant
              </Button>
            </div>
          </div>
          {payloadError ? (
            <p className="error-text" role="alert">
              {payloadError}
            </p>
          ) : null}
        </>
      )}
    </div>
  );
}
