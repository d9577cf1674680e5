// A dynamic cohort's criteria: groups of conditions (person properties, membership of other
// cohorts), the groups joined by "any" or "all", the conditions of each group likewise.
import { Button } from '../components/ui.tsx';
import { PropertyRow } from '../flag/PropertyRow.tsx';
import { COHORT_PROPERTY_OPERATORS } from '../flag/operators.ts';
import type { Cohort } from '../types.ts';
import { COHORT_FILTER_TYPES, newCohortGroup, newCohortProperty, type CohortForm, type CohortGroup, type Match } from './model.ts';

function MatchSelect({ id, value, onChange, label }: { id: string; value: Match; onChange: (m: Match) => void; label: string }) {
  return (
    <>
      <label htmlFor={id} className="visually-hidden">
        {label}
      </label>
      <select id={id} value={value} onChange={(e) => onChange(e.target.value as Match)}>
        <option value="AND">all</option>
        <option value="OR">any</option>
      </select>
    </>
  );
}

function Group({
  group,
  index,
  count,
  cohorts,
  attempted,
  update,
  remove,
}: {
  group: CohortGroup;
  index: number;
  count: number;
  cohorts: Cohort[];
  attempted: boolean;
  update: (g: CohortGroup) => void;
  remove: () => void;
}) {
  const joiner = group.type === 'AND' ? 'and' : 'or';
  return (
    <section className="condition" aria-labelledby={`group-${group.uid}`}>
      <div className="condition-head">
        <h3 id={`group-${group.uid}`}>Group {index + 1}</h3>
        <div className="condition-actions">
          <Button kind="ghost" className="btn-small" onClick={remove} disabled={count === 1} aria-label={`Remove group ${index + 1}`}>
            Remove
          </Button>
        </div>
      </div>
      <p className="cohort-match">
        Persons match{' '}
        <MatchSelect
          id={`group-match-${group.uid}`}
          label={`Group ${index + 1}: match all or any conditions`}
          value={group.type}
          onChange={(type) => update({ ...group, type })}
        />{' '}
        of these conditions
      </p>
      {group.properties.length === 0 ? <p className="muted condition-all">No conditions yet: add one.</p> : null}
      <div className="property-list">
        {group.properties.map((p, i) => (
          <div key={p.uid}>
            {i > 0 ? <span className="and-label">{joiner}</span> : null}
            <PropertyRow
              property={p}
              index={i}
              groupMode={null}
              types={COHORT_FILTER_TYPES}
              personOperators={COHORT_PROPERTY_OPERATORS}
              cohorts={cohorts}
              flags={[]}
              attempted={attempted}
              onChange={(next) =>
                update({
                  ...group,
                  properties: group.properties.map((q) => (q.uid === p.uid ? { ...next, negation: next.type === p.type ? p.negation : false } : q)),
                })
              }
              onRemove={() => update({ ...group, properties: group.properties.filter((q) => q.uid !== p.uid) })}
            />
          </div>
        ))}
      </div>
      <Button kind="ghost" className="btn-small add-filter" onClick={() => update({ ...group, properties: [...group.properties, newCohortProperty()] })}>
        + Add condition
      </Button>
    </section>
  );
}

export function CriteriaEditor({
  form,
  setForm,
  cohorts,
  attempted,
  error,
}: {
  form: CohortForm;
  setForm: (update: (f: CohortForm) => CohortForm) => void;
  cohorts: Cohort[];
  attempted: boolean;
  error: string | null;
}) {
  const setGroups = (groups: CohortGroup[]) => setForm((f) => ({ ...f, groups }));
  return (
    <div className="conditions">
      <p className="cohort-match">
        A person is in this cohort when they match{' '}
        <MatchSelect id="cohort-match" label="Match all or any groups" value={form.match} onChange={(match) => setForm((f) => ({ ...f, match }))} /> of these
        groups.
      </p>
      {error ? (
        <p className="error-text section-error" role="alert" id="criteria-error">
          {error}
        </p>
      ) : null}
      {form.groups.map((g, i) => (
        <div key={g.uid}>
          {i > 0 ? (
            <div className="or-divider">
              <span>{form.match === 'AND' ? 'and' : 'or'}</span>
            </div>
          ) : null}
          <Group
            group={g}
            index={i}
            count={form.groups.length}
            cohorts={cohorts}
            attempted={attempted}
            update={(next) => setGroups(form.groups.map((q) => (q.uid === g.uid ? next : q)))}
            remove={() => setGroups(form.groups.filter((q) => q.uid !== g.uid))}
          />
        </div>
      ))}
      <Button onClick={() => setGroups([...form.groups, newCohortGroup()])}>+ Add group</Button>
    </div>
  );
}
