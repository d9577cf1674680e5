// Roles and who may edit feature flags: the organization's level for flags, each role's level and
// members, and the flags shared with it. Admins change them; everyone else reads them.
import { useState, type FormEvent } from 'react';
import { api, ApiError } from '../api.ts';
import { Alert, Badge, Button, ConfirmDialog, ErrorState, Field, Spinner } from '../components/ui.tsx';
import type { Resource } from '../components/hooks.ts';
import { userName } from '../format.ts';
import type { OrganizationMember } from '../types.ts';
import { CAN_ALWAYS_EDIT, CAN_ONLY_VIEW, FLAG_LEVELS, type Policy, type Role } from './policy.ts';

function FlagsLevel({ orgId, policy, admin, onChanged }: { orgId: string; policy: Policy; admin: boolean; onChanged: () => void }) {
  const [error, setError] = useState<string | null>(null);
  const set = async (level: number) => {
    setError(null);
    try {
      if (policy.flagsAccess) await api.patch(`/api/organizations/${orgId}/resource_access/${policy.flagsAccess.id}/`, { access_level: level });
      else await api.post(`/api/organizations/${orgId}/resource_access/`, { resource: 'feature flags', access_level: level });
    } catch (e) {
      setError((e as Error).message);
    }
    onChanged();
  };
  return (
    <div className="field">
      <label htmlFor="flags-level">Members (not admins) and feature flags</label>
      <select id="flags-level" value={policy.flagsLevel} disabled={!admin} onChange={(e) => void set(Number(e.target.value))}>
        <option value={CAN_ALWAYS_EDIT}>Can edit every flag</option>
        <option value={CAN_ONLY_VIEW}>Can only view flags, unless a flag is shared with one of their roles</option>
      </select>
      {error ? (
        <p className="error-text" role="alert">
          {error}
        </p>
      ) : null}
    </div>
  );
}

function NewRole({ orgId, onCreated }: { orgId: string; onCreated: () => void }) {
  const [name, setName] = useState('');
  const [level, setLevel] = useState(CAN_ONLY_VIEW);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (!name.trim()) return setError('Enter a name.');
    setBusy(true);
    setError(null);
    try {
      await api.post(`/api/organizations/${orgId}/roles/`, { name: name.trim(), feature_flags_access_level: level });
      setName('');
      onCreated();
    } catch (e) {
      setError(e instanceof ApiError ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form className="inline-form-row role-form" onSubmit={submit} noValidate aria-label="Create a role">
      <Field label="Role name" error={error}>
        {(p) => <input {...p} value={name} maxLength={200} onChange={(e) => setName(e.target.value)} placeholder="e.g. Growth team" />}
      </Field>
      <Field label="Its flags level">
        {(p) => (
          <select {...p} value={level} onChange={(e) => setLevel(Number(e.target.value))}>
            <option value={CAN_ONLY_VIEW}>{FLAG_LEVELS[CAN_ONLY_VIEW]}</option>
            <option value={CAN_ALWAYS_EDIT}>{FLAG_LEVELS[CAN_ALWAYS_EDIT]}</option>
          </select>
        )}
      </Field>
      <Button kind="primary" type="submit" busy={busy}>
        Create role
      </Button>
    </form>
  );
}

function RoleCard({
  orgId,
  role,
  admin,
  members,
  onChanged,
}: {
  orgId: string;
  role: Role;
  admin: boolean;
  members: OrganizationMember[];
  onChanged: () => void;
}) {
  const [error, setError] = useState<string | null>(null);
  const [deleting, setDeleting] = useState(false);
  const base = `/api/organizations/${orgId}/roles/${role.id}`;
  const run = async (action: () => Promise<unknown>) => {
    setError(null);
    try {
      await action();
    } catch (e) {
      setError((e as Error).message);
    }
    onChanged();
  };
  const outside = members.filter((m) => !role.members.some((rm) => rm.user.uuid === m.user.uuid));
  return (
    <li className="role" data-testid={`role-${role.name}`}>
      <div className="role-head">
        <h3>{role.name}</h3>
        {admin ? (
          <select
            aria-label={`Flags level of ${role.name}`}
            value={role.feature_flags_access_level}
            onChange={(e) => void run(() => api.patch(base + '/', { feature_flags_access_level: Number(e.target.value) }))}
          >
            <option value={CAN_ONLY_VIEW}>{FLAG_LEVELS[CAN_ONLY_VIEW]}</option>
            <option value={CAN_ALWAYS_EDIT}>{FLAG_LEVELS[CAN_ALWAYS_EDIT]}</option>
          </select>
        ) : (
          <Badge>{FLAG_LEVELS[role.feature_flags_access_level] ?? role.feature_flags_access_level}</Badge>
        )}
        {admin ? (
          <Button kind="ghost" className="btn-small" onClick={() => setDeleting(true)}>
            Delete<span className="visually-hidden"> role {role.name}</span>
          </Button>
        ) : null}
      </div>
      {error ? <Alert>{error}</Alert> : null}
      <div className="muted small">Members</div>
      <div className="tag-list">
        {role.members.length ? null : <span className="muted">No members yet.</span>}
        {role.members.map((m) => (
          <span className="chip" key={m.id}>
            {userName(m.user)}
            {admin ? (
              <button
                type="button"
                className="chip-remove"
                aria-label={`Remove ${userName(m.user)} from ${role.name}`}
                onClick={() => void run(() => api.delete(`${base}/role_memberships/${m.id}/`))}
              >
                ×
              </button>
            ) : null}
          </span>
        ))}
      </div>
      {admin && outside.length ? (
        <select
          aria-label={`Add a member to ${role.name}`}
          value=""
          onChange={(e) => e.target.value && void run(() => api.post(`${base}/role_memberships/`, { user_uuid: e.target.value }))}
        >
          <option value="">Add a member…</option>
          {outside.map((m) => (
            <option key={m.user.uuid} value={m.user.uuid}>
              {userName(m.user)} ({m.user.email})
            </option>
          ))}
        </select>
      ) : null}
      <div className="muted small">
        Flags shared with this role: {role.associated_flags.length ? role.associated_flags.map((f) => f.key).join(', ') : 'none'}
      </div>
      <ConfirmDialog
        open={deleting}
        title={`Delete ${role.name}?`}
        confirmLabel="Delete role"
        tone="danger"
        onClose={() => setDeleting(false)}
        onConfirm={() => run(() => api.delete(base + '/'))}
      >
        <p>Its members lose what the role gave them, and the flags shared with it are no longer shared.</p>
      </ConfirmDialog>
    </li>
  );
}

export function Roles({ orgId, admin, policy, members }: { orgId: string; admin: boolean; policy: Resource<Policy>; members: OrganizationMember[] }) {
  return (
    <section className="card" aria-labelledby="roles-title">
      <h2 id="roles-title">Roles and feature flags</h2>
      <p className="muted">Admins and owners edit every flag, and everyone edits the flags they created. For the others, these settings decide.</p>
      {policy.error ? (
        <ErrorState error={policy.error} retry={policy.reload} />
      ) : !policy.data ? (
        <Spinner />
      ) : (
        <>
          <FlagsLevel orgId={orgId} policy={policy.data} admin={admin} onChanged={policy.reload} />
          {admin ? <NewRole orgId={orgId} onCreated={policy.reload} /> : null}
          {policy.data.roles.length ? (
            <ul className="plain-list role-list">
              {policy.data.roles.map((r) => (
                <RoleCard key={r.id} orgId={orgId} role={r} admin={admin} members={members} onChanged={policy.reload} />
              ))}
            </ul>
          ) : (
            <p className="muted">No roles yet.</p>
          )}
        </>
      )}
    </section>
  );
}
