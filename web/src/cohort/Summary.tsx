// A dynamic cohort's criteria in words: groups joined by "and"/"or", each a list of conditions.
import { Link } from '../router.tsx';
import { operatorInfo } from '../flag/operators.ts';
import type { CohortForm, CohortFull } from './model.ts';

function valueText(value: string | string[]): string {
  return Array.isArray(value) ? value.join(', ') : value;
}

export function CriteriaSummary({ projectId, form, cohorts }: { projectId: number; form: CohortForm; cohorts: CohortFull[] }) {
  if (form.unsupported)
    return <p className="muted">These criteria use filters the console cannot show (events, or deeper nesting). The API has them in full.</p>;
  if (!form.groups.length) return <p className="muted">No criteria: nobody is in this cohort.</p>;
  return (
    <ol className="condition-summary">
      {form.groups.map((g, i) => (
        <li key={g.uid}>
          <div className="condition-summary-head">
            <span className="condition-index">{i === 0 ? 'Group 1' : `${form.match === 'AND' ? 'And' : 'Or'} group ${i + 1}`}</span>
            <span className="muted">{g.type === 'AND' ? 'all of' : 'any of'}</span>
          </div>
          <ul className="property-summary">
            {g.properties.map((p) => {
              const info = operatorInfo(p.type, p.operator);
              if (p.type === 'cohort') {
                const target = cohorts.find((c) => String(c.id) === String(p.value));
                return (
                  <li key={p.uid}>
                    {info.label} cohort{' '}
                    <Link to={`/project/${projectId}/cohorts/${p.value}`}>{target ? target.name || `Cohort ${target.id}` : `#${p.value}`}</Link>
                  </li>
                );
              }
              return (
                <li key={p.uid}>
                  <span className="mono">{p.key}</span> {p.negation ? 'does not satisfy: ' : ''}
                  {info.label}
                  {info.kind === 'none' ? null : (
                    <>
                      {' '}
                      <strong className="mono">{valueText(p.value)}</strong>
                    </>
                  )}
                </li>
              );
            })}
          </ul>
        </li>
      ))}
    </ol>
  );
}
