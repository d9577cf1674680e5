// One property filter of a condition set: what it tests (person or group property, cohort, another
// flag), the operator, and a value input that fits the operator.
import { useId } from 'react';
import { ChipsInput } from '../components/ui.tsx';
import type { Cohort, FeatureFlag, PropertyType } from '../types.ts';
import { newProperty, type FormProperty } from './model.ts';
import { operatorInfo, operatorsFor, valueProblem, type OperatorInfo } from './operators.ts';

const COMMON_PROPERTIES = [
  'email',
  '$email',
  'name',
  'plan',
  '$browser',
  '$os',
  '$device_type',
  '$app_version',
  '$geoip_country_code',
  '$geoip_city_name',
  '$initial_referring_domain',
  'created_at',
];

const RELATIVE_UNITS: Array<[string, string]> = [
  ['h', 'hours'],
  ['d', 'days'],
  ['w', 'weeks'],
  ['m', 'months'],
  ['y', 'years'],
];

function DateValue({
  id,
  value,
  onChange,
  describedBy,
  invalid,
}: {
  id: string;
  value: string;
  onChange: (v: string) => void;
  describedBy?: string;
  invalid?: boolean;
}) {
  const relative = /^-?(\d+)([hdwmy])$/.exec(value);
  const mode = relative || (value.startsWith('-') && !/^\d/.test(value)) ? 'relative' : 'absolute';
  return (
    <div className="date-value">
      <select aria-label="Date kind" value={mode} onChange={(e) => onChange(e.target.value === 'relative' ? '-30d' : new Date().toISOString().slice(0, 10))}>
        <option value="absolute">Date</option>
        <option value="relative">Time ago</option>
      </select>
      {mode === 'relative' ? (
        <>
          <input
            id={id}
            type="number"
            min={1}
            inputMode="numeric"
            aria-label="Amount"
            value={relative?.[1] ?? ''}
            aria-invalid={invalid}
            aria-describedby={describedBy}
            onChange={(e) => onChange(`-${e.target.value}${relative?.[2] ?? 'd'}`)}
          />
          <select aria-label="Unit" value={relative?.[2] ?? 'd'} onChange={(e) => onChange(`-${relative?.[1] ?? '30'}${e.target.value}`)}>
            {RELATIVE_UNITS.map(([u, label]) => (
              <option key={u} value={u}>
                {label} ago
              </option>
            ))}
          </select>
        </>
      ) : (
        <input
          id={id}
          type="date"
          aria-label="Date"
          value={/^\d{4}-\d{2}-\d{2}$/.test(value) ? value : ''}
          aria-invalid={invalid}
          aria-describedby={describedBy}
          onChange={(e) => onChange(e.target.value)}
        />
      )}
    </div>
  );
}

export function PropertyRow({
  property,
  onChange,
  onRemove,
  groupMode,
  cohorts,
  flags,
  index,
  attempted,
  types: typeChoices,
  personOperators,
}: {
  property: FormProperty;
  onChange: (p: FormProperty) => void;
  onRemove: () => void;
  groupMode: string | null;
  cohorts: Cohort[];
  flags: FeatureFlag[];
  index: number;
  /** After a save attempt every problem shows; before it, only those of values already typed. */
  attempted: boolean;
  /** What a filter may test, when not the flag editor's choices (the cohort editor: person properties and cohorts). */
  types?: Array<[PropertyType, string]>;
  /** The operators offered for person properties, when not the flag editor's. */
  personOperators?: OperatorInfo[];
}) {
  const id = useId();
  const info = operatorInfo(property.type, property.operator);
  const typed = Array.isArray(property.value) ? property.value.length > 0 : String(property.value).trim() !== '';
  const rawProblem = valueProblem(info.kind, property.operator, property.value);
  const problem = rawProblem && (attempted || (typed && info.kind !== 'cohort')) ? rawProblem : null;
  const keyProblem =
    attempted && (property.type === 'person' || property.type === 'group' || property.type === 'flag') && !property.key.trim()
      ? property.type === 'flag'
        ? 'Choose a flag.'
        : 'Enter a property name.'
      : null;
  const types: Array<[PropertyType, string]> = typeChoices
    ? typeChoices
    : groupMode
      ? [['group', `${groupMode} property`]]
      : [
          ['person', 'Person property'],
          ['cohort', 'Cohort'],
          ['flag', 'Another flag'],
        ];
  const dependency = property.type === 'flag' ? flags.find((f) => String(f.id) === property.key) : undefined;
  const shownProblem = keyProblem ?? problem;
  const errorId = `${id}-problem`;

  const setOperator = (operator: string) => {
    const next = operatorInfo(property.type, operator);
    const wasList = Array.isArray(property.value);
    let value: string | string[] = property.value;
    if (next.kind === 'list' && !wasList) value = property.value ? [String(property.value)] : [];
    else if (next.kind !== 'list' && wasList) value = (property.value as string[])[0] ?? '';
    if (next.kind !== info.kind && (next.kind === 'date' || info.kind === 'date')) value = next.kind === 'list' ? [] : '';
    onChange({ ...property, operator, value });
  };

  return (
    <div className="property-row" role="group" aria-label={`Filter ${index + 1}`}>
      <select aria-label="Filter on" value={property.type} onChange={(e) => onChange(newProperty(e.target.value as PropertyType))}>
        {types.map(([value, label]) => (
          <option key={value} value={value}>
            {label}
          </option>
        ))}
      </select>

      {property.type === 'cohort' ? (
        <select
          aria-label="Cohort"
          value={String(property.value)}
          onChange={(e) => onChange({ ...property, value: e.target.value })}
          aria-invalid={problem ? true : undefined}
          aria-describedby={problem ? errorId : undefined}
        >
          <option value="">Choose a cohort…</option>
          {cohorts.map((c) => (
            <option key={c.id} value={c.id}>
              {c.name || `Cohort ${c.id}`}
            </option>
          ))}
        </select>
      ) : property.type === 'flag' ? (
        <select aria-label="Flag" value={property.key} onChange={(e) => onChange({ ...property, key: e.target.value, value: 'true' })}>
          <option value="">Choose a flag…</option>
          {flags.map((f) => (
            <option key={f.id} value={f.id}>
              {f.key}
            </option>
          ))}
        </select>
      ) : (
        <>
          <input
            aria-label="Property name"
            list={`${id}-props`}
            placeholder="Property, e.g. email"
            value={property.key}
            onChange={(e) => onChange({ ...property, key: e.target.value })}
            aria-invalid={keyProblem ? true : undefined}
          />
          <datalist id={`${id}-props`}>
            {COMMON_PROPERTIES.map((p) => (
              <option key={p} value={p} />
            ))}
          </datalist>
        </>
      )}

      <select aria-label="Operator" value={info.value} onChange={(e) => setOperator(e.target.value)}>
        {(property.type === 'person' && personOperators ? personOperators : operatorsFor(property.type)).map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>

      <div className="property-value">
        {info.kind === 'list' ? (
          <ChipsInput
            ariaLabel="Values (press Enter after each)"
            values={property.value as string[]}
            onChange={(value) => onChange({ ...property, value })}
            placeholder="Type a value, press Enter"
            aria-invalid={problem ? true : undefined}
            aria-describedby={problem ? errorId : undefined}
          />
        ) : info.kind === 'none' || info.kind === 'cohort' ? null : info.kind === 'flag' ? (
          <select aria-label="Value" value={String(property.value)} onChange={(e) => onChange({ ...property, value: e.target.value })}>
            <option value="true">true (enabled)</option>
            <option value="false">false (disabled)</option>
            {(dependency?.filters?.multivariate?.variants ?? []).map((v) => (
              <option key={v.key} value={v.key}>
                variant {v.key}
              </option>
            ))}
          </select>
        ) : info.kind === 'date' ? (
          <DateValue
            id={`${id}-value`}
            value={String(property.value)}
            onChange={(value) => onChange({ ...property, value })}
            invalid={Boolean(problem)}
            describedBy={problem ? errorId : undefined}
          />
        ) : (
          <input
            aria-label="Value"
            className={info.kind === 'regex' || info.kind === 'semver' ? 'mono' : undefined}
            type={info.kind === 'number' ? 'number' : 'text'}
            inputMode={info.kind === 'number' ? 'decimal' : undefined}
            step="any"
            placeholder={
              info.kind === 'semver' ? (property.operator === 'semver_wildcard' ? '1.2.*' : '1.4.0') : info.kind === 'regex' ? '^.+@example\\.com$' : 'Value'
            }
            value={String(property.value)}
            aria-invalid={problem ? true : undefined}
            aria-describedby={problem ? errorId : undefined}
            onChange={(e) => onChange({ ...property, value: e.target.value })}
          />
        )}
      </div>

      <button type="button" className="icon-button" aria-label={`Remove filter ${index + 1}`} onClick={onRemove}>
        <svg viewBox="0 0 20 20" aria-hidden="true">
          <path d="M5 5l10 10M15 5L5 15" stroke="currentColor" strokeWidth="1.8" strokeLinecap="round" />
        </svg>
      </button>
      {shownProblem ? (
        <p className="property-problem error-text" id={errorId}>
          {shownProblem}
        </p>
      ) : null}
    </div>
  );
}
