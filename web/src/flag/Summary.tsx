// A flag's configuration in words: its value type, variants and payloads, and its release conditions.
import type { Cohort, FeatureFlag, GroupType, PropertyFilter } from '../types.ts';
import { operatorInfo } from './operators.ts';
import { payloadText } from './model.ts';
import { Link } from '../router.tsx';

function valueText(p: PropertyFilter): string {
  if (Array.isArray(p.value)) return p.value.map(String).join(', ');
  return String(p.value ?? '');
}

function PropertyText({ p, flags, projectId }: { p: PropertyFilter; flags: FeatureFlag[]; projectId: number }) {
  if (p.type === 'cohort')
    return (
      <>
        {p.operator === 'not_in' ? 'not in cohort' : 'in cohort'} <strong>{p.cohort_name ?? `#${String(p.value)}`}</strong>
      </>
    );
  if (p.type === 'flag') {
    const dep = flags.find((f) => String(f.id) === String(p.key));
    return (
      <>
        flag{' '}
        {dep ? (
          <Link to={`/project/${projectId}/flags/${dep.id}`} className="mono">
            {dep.key}
          </Link>
        ) : (
          <span className="mono">#{p.key}</span>
        )}{' '}
        evaluates to <strong>{String(p.value)}</strong>
      </>
    );
  }
  const info = operatorInfo(p.type, p.operator);
  return (
    <>
      <span className="mono">{p.key}</span> {info.label}
      {info.kind === 'none' ? null : (
        <>
          {' '}
          <strong>{valueText(p)}</strong>
        </>
      )}
    </>
  );
}

export function FlagSummary({
  flag,
  flags,
  projectId,
  groupTypes,
}: {
  flag: FeatureFlag;
  flags: FeatureFlag[];
  projectId: number;
  groupTypes: GroupType[];
  cohorts?: Cohort[];
}) {
  const filters = flag.filters ?? {};
  const variants = filters.multivariate?.variants ?? [];
  const payloads = filters.payloads ?? {};
  const groups = filters.groups ?? [];
  const aggregation = filters.aggregation_group_type_index;
  const groupType = groupTypes.find((g) => g.group_type_index === aggregation);
  const subject =
    aggregation === null || aggregation === undefined ? 'users' : groupType?.name_plural || groupType?.group_type || `groups (type ${aggregation})`;
  return (
    <div className="summary">
      <section className="card" aria-labelledby="sum-values">
        <h2 id="sum-values">{variants.length ? 'Variants' : 'Value'}</h2>
        {variants.length ? (
          <table className="table compact">
            <thead>
              <tr>
                <th scope="col">Variant</th>
                <th scope="col">Split</th>
                <th scope="col">Payload</th>
              </tr>
            </thead>
            <tbody>
              {variants.map((v) => (
                <tr key={v.key}>
                  <td>
                    <span className="mono">{v.key}</span>
                    {v.name ? <span className="muted"> · {v.name}</span> : null}
                  </td>
                  <td>{v.rollout_percentage} %</td>
                  <td>
                    {payloads[v.key] !== undefined ? <pre className="code-inline">{payloadText(payloads[v.key])}</pre> : <span className="muted">None</span>}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : (
          <dl className="details">
            <dt>Type</dt>
            <dd>
              Boolean: <span className="mono">true</span> for matching {subject}, <span className="mono">false</span> otherwise
            </dd>
            <dt>Payload</dt>
            <dd>{payloads['true'] !== undefined ? <pre className="code-inline">{payloadText(payloads['true'])}</pre> : <span className="muted">None</span>}</dd>
          </dl>
        )}
      </section>
      <section className="card" aria-labelledby="sum-conditions">
        <h2 id="sum-conditions">Release conditions</h2>
        {groups.length === 0 ? <p className="muted">No condition sets: the flag is off for everyone.</p> : null}
        <ol className="condition-summary">
          {groups.map((g, i) => (
            // biome-ignore lint/suspicious/noArrayIndexKey: a read-only summary: set i is "Set i + 1", its position is its identity
            <li key={i}>
              <div className="condition-summary-head">
                <span className="condition-index">Set {i + 1}</span>
                <strong>{g.rollout_percentage ?? 100} %</strong> of {subject}
                {g.variant ? (
                  <>
                    {' '}
                    get <span className="mono">{g.variant}</span>
                  </>
                ) : null}
              </div>
              {(g.properties ?? []).length ? (
                <ul className="property-summary">
                  {(g.properties ?? []).map((p, j) => (
                    // biome-ignore lint/suspicious/noArrayIndexKey: a read-only summary, never reordered
                    <li key={j}>
                      {j > 0 ? <span className="and-label">and</span> : <span className="and-label">where</span>}
                      <PropertyText p={p} flags={flags} projectId={projectId} />
                    </li>
                  ))}
                </ul>
              ) : (
                <p className="muted">Everyone</p>
              )}
            </li>
          ))}
        </ol>
      </section>
    </div>
  );
}
