// What a handler may rely on in `request.auth`: the auth hook (src/access/auth-hook.ts) resolves
// the project, organization, membership and user that the route's `config.access` asks for. These
// helpers return them typed, and fail loudly (a 500, logged) when a route uses one its access
// declaration does not resolve: a programming error, which a non-null assertion would turn into a
// TypeError somewhere further down, or into a silently wrong query.
import type { RequestAuth } from './auth.ts';
import type { Organization, Project } from './organizations/projects-repository.ts';
import type { Membership, User } from './organizations/users-repository.ts';

/** Thrown when a handler needs a part of `request.auth` that its route's access does not resolve. */
export class MissingAuthContextError extends Error {
  constructor(part: string, needs: string) {
    super(`request.auth has no ${part}: the route's config.access must declare ${needs}`);
    this.name = 'MissingAuthContextError';
  }
}

/** The project of a project route (`access.project` 'param' or 'legacy'). */
export function requireProject(auth: RequestAuth): Project {
  if (!auth.project) throw new MissingAuthContextError('project', "project: 'param' or 'legacy'");
  return auth.project;
}

/** The organization of a project or organization route. */
export function requireOrganization(auth: RequestAuth): Organization {
  if (!auth.organization) throw new MissingAuthContextError('organization', "a project or organization: 'param'");
  return auth.organization;
}

/** The caller's membership in that organization (a user, not a project secret token). */
export function requireMembership(auth: RequestAuth): Membership {
  if (!auth.membership) throw new MissingAuthContextError('membership', 'a project or organization route called by a user');
  return auth.membership;
}

/** The calling user (a personal API key or a console session; not a project secret token). */
export function requireUser(auth: RequestAuth): User {
  if (!auth.user) throw new MissingAuthContextError('user', 'a route a project secret token cannot call');
  return auth.user;
}
