// Release conditions: OR-ed condition sets, each with AND-ed filters, a rollout percentage and,
// for multivariate flags, an optional variant override.
import type { Cohort, FeatureFlag, GroupType } from '../types.ts';
import { Button } from '../components/ui.tsx';
import { groupProperties, newGroup, newProperty, uid, type FlagForm, type FormGroup } from './model.ts';
import { BlastRadius } from './BlastRadius.tsx';
import { PropertyRow } from './PropertyRow.tsx';
import { valueProblem, operatorInfo } from './operators.ts';

/** What is wrong with a condition set's filters, one line each. */
function setProblems(g: FormGroup): string[] {
  const problems: string[] = [];
  for (const p of g.properties) {
    const info = operatorInfo(p.type, p.operator);
    if ((p.type === 'person' || p.type === 'group' || p.type === 'flag') && !p.key.trim())
      problems.push(`a filter has no ${p.type === 'flag' ? 'flag' : 'property'}.`);
    else if (valueProblem(info.kind, p.operator, p.value)) problems.push("a filter's value is missing or invalid.");
  }
  return problems;
}

export function groupProblems(form: FlagForm): string[] {
  const problems: string[] = [];
  form.groups.forEach((g, i) => {
    const rollout = Number(g.rollout);
    if (g.rollout.trim() === '' || !Number.isFinite(rollout) || rollout < 0 || rollout > 100)
      problems.push(`Condition set ${i + 1}: the rollout must be between 0 and 100 %.`);
    for (const problem of setProblems(g)) problems.push(`Condition set ${i + 1}: ${problem}`);
  });
  return problems;
}

function ConditionSet({
  group,
  index,
  count,
  form,
  update,
  remove,
  duplicate,
  cohorts,
  flags,
  groupMode,
  attempted,
  projectId,
}: {
  group: FormGroup;
  index: number;
  count: number;
  form: FlagForm;
  update: (g: FormGroup) => void;
  remove: () => void;
  duplicate: () => void;
  cohorts: Cohort[];
  flags: FeatureFlag[];
  groupMode: string | null;
  attempted: boolean;
  projectId?: number;
}) {
  const rolloutId = `rollout-${group.uid}`;
  const rollout = Number(group.rollout);
  const badRollout = group.rollout.trim() === '' || !Number.isFinite(rollout) || rollout < 0 || rollout > 100;
  const subject = groupMode ? `${groupMode}s` : 'users';
  return (
    <section className="condition" aria-labelledby={`cond-${group.uid}`}>
      <div className="condition-head">
        <h3 id={`cond-${group.uid}`}>Condition set {index + 1}</h3>
        <div className="condition-actions">
          <Button kind="ghost" className="btn-small" onClick={duplicate}>
            Duplicate
          </Button>
          <Button kind="ghost" className="btn-small" onClick={remove} disabled={count === 1} aria-label={`Remove condition set ${index + 1}`}>
            Remove
          </Button>
        </div>
      </div>
      {group.properties.length === 0 ? (
        <p className="muted condition-all">Matches all {subject}. Add a filter to narrow it down.</p>
      ) : (
        <div className="property-list">
          {group.properties.map((p, i) => (
            <div key={p.uid}>
              {i > 0 ? <span className="and-label">and</span> : null}
              <PropertyRow
                property={p}
                index={i}
                groupMode={groupMode}
                cohorts={cohorts}
                flags={flags}
                attempted={attempted}
                onChange={(next) => update({ ...group, properties: group.properties.map((q) => (q.uid === p.uid ? next : q)) })}
                onRemove={() => update({ ...group, properties: group.properties.filter((q) => q.uid !== p.uid) })}
              />
            </div>
          ))}
        </div>
      )}
      <Button
        kind="ghost"
        className="btn-small add-filter"
        onClick={() => update({ ...group, properties: [...group.properties, newProperty(groupMode ? 'group' : 'person')] })}
      >
        + Add filter
      </Button>
      <div className="rollout">
        <label htmlFor={rolloutId}>Roll out to</label>
        <div className="rollout-controls">
          <input
            type="range"
            min={0}
            max={100}
            step={1}
            aria-label={`Rollout of condition set ${index + 1} (slider)`}
            value={badRollout ? 0 : rollout}
            onChange={(e) => update({ ...group, rollout: e.target.value })}
          />
          <span className="percent-input">
            <input
              id={rolloutId}
              type="number"
              min={0}
              max={100}
              step="any"
              inputMode="decimal"
              value={group.rollout}
              aria-invalid={badRollout || undefined}
              aria-describedby={badRollout ? `${rolloutId}-error` : undefined}
              onChange={(e) => update({ ...group, rollout: e.target.value })}
            />
            <span aria-hidden="true">%</span>
          </span>
          <span className="muted">of {subject} matching this set</span>
        </div>
        {badRollout ? (
          <p className="error-text" id={`${rolloutId}-error`}>
            Enter a percentage from 0 to 100.
          </p>
        ) : null}
      </div>
      {projectId !== undefined ? (
        <BlastRadius
          projectId={projectId}
          properties={groupProperties(form, group)}
          groupTypeIndex={form.aggregation === '' ? null : Number(form.aggregation)}
          rollout={badRollout ? null : rollout}
          subject={groupMode ? `${groupMode}s` : 'persons'}
          valid={!setProblems(group).length}
        />
      ) : null}
      {form.multivariate ? (
        <div className="field field-inline">
          <label htmlFor={`variant-${group.uid}`}>Variant for this set</label>
          <select id={`variant-${group.uid}`} value={group.variant} onChange={(e) => update({ ...group, variant: e.target.value })}>
            <option value="">Split by percentages</option>
            {form.variants
              .filter((v) => v.key.trim())
              .map((v) => (
                <option key={v.uid} value={v.key}>
                  Always {v.key}
                </option>
              ))}
          </select>
        </div>
      ) : null}
    </section>
  );
}

export function ConditionsEditor({
  form,
  setForm,
  cohorts,
  flags,
  groupTypes,
  error,
  attempted,
  projectId,
}: {
  form: FlagForm;
  setForm: (update: (f: FlagForm) => FlagForm) => void;
  cohorts: Cohort[];
  flags: FeatureFlag[];
  groupTypes: GroupType[];
  error: string | null;
  attempted: boolean;
  /** Shows each set's blast radius when given. */
  projectId?: number;
}) {
  const groupType = groupTypes.find((g) => String(g.group_type_index) === form.aggregation);
  const groupMode = form.aggregation === '' ? null : groupType?.name_singular || groupType?.group_type || `group ${form.aggregation}`;
  const setGroups = (groups: FormGroup[]) => setForm((f) => ({ ...f, groups }));
  return (
    <div className="conditions">
      <div className="field field-inline">
        <label htmlFor="aggregation">Match by</label>
        <select
          id="aggregation"
          value={form.aggregation}
          onChange={(e) => {
            const aggregation = e.target.value;
            // Person filters do not apply to groups and group filters not to persons: start the filters again.
            setForm((f) => ({ ...f, aggregation, groups: f.groups.map((g) => ({ ...g, properties: [] })) }));
          }}
        >
          <option value="">Users</option>
          {groupTypes.map((g) => (
            <option key={g.group_type_index} value={g.group_type_index}>
              {g.name_plural || g.group_type}
            </option>
          ))}
        </select>
      </div>
      {error ? (
        <p className="error-text section-error" role="alert" id="conditions-error">
          {error}
        </p>
      ) : null}
      {form.groups.length === 0 ? <p className="muted">No condition sets: the flag is off for everyone. Add one to release it.</p> : null}
      {form.groups.map((g, i) => (
        <div key={g.uid}>
          {i > 0 ? (
            <div className="or-divider">
              <span>or</span>
            </div>
          ) : null}
          <ConditionSet
            group={g}
            index={i}
            count={form.groups.length}
            form={form}
            cohorts={cohorts}
            flags={flags}
            groupMode={groupMode}
            attempted={attempted}
            projectId={projectId}
            update={(next) => setGroups(form.groups.map((q) => (q.uid === g.uid ? next : q)))}
            remove={() => setGroups(form.groups.filter((q) => q.uid !== g.uid))}
            duplicate={() =>
              setGroups([
                ...form.groups.slice(0, i + 1),
                { ...g, uid: uid(), properties: g.properties.map((p) => ({ ...p, uid: uid() })) },
                ...form.groups.slice(i + 1),
              ])
            }
          />
        </div>
      ))}
      <Button onClick={() => setGroups([...form.groups, newGroup()])}>+ Add condition set</Button>
    </div>
  );
}
