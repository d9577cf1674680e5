// A flag's access: why the signed-in user cannot edit it (when they cannot), and the roles it is
// shared with, which the people the server allows may change from here.
import { useState } from 'react';
import { api, flagsPath } from '../api.ts';
import { useSession } from '../session.tsx';
import { Alert, Button, ErrorState, Spinner } from '../components/ui.tsx';
import { useResource } from '../components/hooks.ts';
import { userName } from '../format.ts';
import type { FeatureFlag, Page } from '../types.ts';
import { canShareFlags, CAN_ALWAYS_EDIT, loadPolicy, rolesOf, type Role } from './policy.ts';

interface RoleAccess {
  id: number;
  role: Role;
}

function useFlagAccess(projectId: number, flagId: number, orgId: string | undefined) {
  return useResource(
    async (signal) => {
      const [policy, shared] = await Promise.all([
        loadPolicy(orgId!, signal),
        api.get<Page<RoleAccess>>(flagsPath(projectId, `${flagId}/role_access/?limit=100`), { signal }),
      ]);
      return { policy, shared: shared.results };
    },
    [projectId, flagId, orgId],
  );
}

/** Shown above a flag the user may not edit: the controls are read-only, and this says why. */
export function ReadOnlyNotice({ projectId, flag }: { projectId: number; flag: FeatureFlag }) {
  return flag.can_edit ? null : <ReadOnlyReason projectId={projectId} flag={flag} />;
}

function ReadOnlyReason({ projectId, flag }: { projectId: number; flag: FeatureFlag }) {
  const { me } = useSession();
  const access = useFlagAccess(projectId, flag.id, me.organization?.id);
  const data = access.data;
  const mine = data ? rolesOf(data.policy, me.uuid) : [];
  const sharedWith = data?.shared.map((s) => s.role.name) ?? [];
  return (
    <Alert tone="info">
      <div data-testid="read-only-reason">
        <p>
          <strong>You can view this flag but not change it.</strong> In {me.organization?.name}, members can only view feature flags, except the flags they
          created and the flags shared with one of their roles.
        </p>
        {data ? (
          <p>
            {sharedWith.length ? `This flag is shared with ${sharedWith.join(', ')}` : 'This flag is not shared with any role'}
            {mine.length ? `; your roles are ${mine.map((r) => r.name).join(', ')}.` : '; you have no role.'} Ask an admin
            {flag.created_by ? ` or ${userName(flag.created_by)}, who created it,` : ''} to share it with one of your roles, or to give you a role that can
            always edit flags.
          </p>
        ) : null}
      </div>
    </Alert>
  );
}

/** The "Access" tab: the roles this flag is shared with. */
export function FlagRoleAccess({ projectId, flag }: { projectId: number; flag: FeatureFlag }) {
  const { me } = useSession();
  const access = useFlagAccess(projectId, flag.id, me.organization?.id);
  const [adding, setAdding] = useState('');
  const [error, setError] = useState<string | null>(null);
  if (access.error) return <ErrorState error={access.error} retry={access.reload} />;
  if (!access.data) return <Spinner />;
  const { policy, shared } = access.data;
  const editable = canShareFlags(me, policy, flag.created_by?.uuid);
  const candidates = policy.roles.filter((r) => !shared.some((s) => s.role.id === r.id));
  const run = async (action: () => Promise<unknown>) => {
    setError(null);
    try {
      await action();
    } catch (e) {
      setError((e as Error).message);
    }
    access.reload();
  };
  return (
    <section className="card" aria-labelledby="flag-access-title">
      <h2 id="flag-access-title">Roles this flag is shared with</h2>
      <p className="muted">
        {policy.flagsLevel >= CAN_ALWAYS_EDIT
          ? 'Every member can edit flags in this organization, so sharing only matters if admins restrict flags to "can only view".'
          : 'Members can only view flags here; the members of these roles can edit this one.'}
      </p>
      {!editable ? (
        <p className="muted" data-testid="share-reason">
          Only admins, the flag's creator and members of a role that can always edit flags change who it is shared with.
        </p>
      ) : null}
      {error ? <Alert>{error}</Alert> : null}
      {shared.length ? (
        <ul className="plain-list invite-list">
          {shared.map((s) => (
            <li key={s.id}>
              <div>
                <strong>{s.role.name}</strong>
                <div className="muted small">{s.role.members.length ? s.role.members.map((m) => userName(m.user)).join(', ') : 'No members'}</div>
              </div>
              {editable ? (
                <Button kind="ghost" className="btn-small" onClick={() => void run(() => api.delete(flagsPath(projectId, `${flag.id}/role_access/${s.id}/`)))}>
                  Stop sharing<span className="visually-hidden"> with {s.role.name}</span>
                </Button>
              ) : null}
            </li>
          ))}
        </ul>
      ) : (
        <p className="muted">Not shared with any role.</p>
      )}
      {editable && candidates.length ? (
        <div className="inline-form-row">
          <div className="field">
            <label htmlFor="share-role">Share with a role</label>
            <select id="share-role" value={adding} onChange={(e) => setAdding(e.target.value)}>
              <option value="">Choose a role…</option>
              {candidates.map((r) => (
                <option key={r.id} value={r.id}>
                  {r.name}
                </option>
              ))}
            </select>
          </div>
          <Button
            kind="primary"
            disabled={!adding}
            onClick={() =>
              void run(async () => {
                await api.post(flagsPath(projectId, `${flag.id}/role_access/`), { role_id: adding });
                setAdding('');
              })
            }
          >
            Share
          </Button>
        </div>
      ) : null}
    </section>
  );
}
