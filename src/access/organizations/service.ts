// Read models for who-am-I endpoints: the user, their organizations and projects.
import type { AppContext } from '../../platform/context.ts';
import { findOrganization, listOrganizations, listProjectsOfOrganizations, type Organization, type Project } from './projects-repository.ts';
import { listMembersOfOrganization, listMembershipsOfUser, type Membership, type User } from './users-repository.ts';
import { toMe, toOrganization, toOrganizationBasic } from './schemas.ts';

export async function describeOrganization(ctx: AppContext, org: Organization, membership: Membership | undefined) {
  const [projects, members] = await Promise.all([listProjectsOfOrganizations(ctx.db, [org.id]), listMembersOfOrganization(ctx.db, org.id)]);
  return toOrganization(org, membership, projects, members.length);
}

export async function currentOrganizationOf(ctx: AppContext, user: User): Promise<{ org: Organization; membership: Membership } | undefined> {
  const memberships = await listMembershipsOfUser(ctx.db, user.id);
  const membership = memberships.find((m) => m.organizationId === user.currentOrganizationId) ?? memberships[0];
  if (!membership) return undefined;
  const org = await findOrganization(ctx.db, membership.organizationId);
  return org ? { org, membership } : undefined;
}

export async function describeMe(ctx: AppContext, user: User) {
  const memberships = await listMembershipsOfUser(ctx.db, user.id);
  const orgs = await listOrganizations(
    ctx.db,
    memberships.map((m) => m.organizationId),
  );
  const projects = await listProjectsOfOrganizations(
    ctx.db,
    orgs.map((o) => o.id),
  );
  const current = await currentOrganizationOf(ctx, user);
  const team = projects.find((p) => p.id === user.currentProjectId) ?? projects.find((p) => p.organizationId === current?.org.id);
  const organization = current ? await describeOrganization(ctx, current.org, current.membership) : null;
  const basics = orgs.map((o) =>
    toOrganizationBasic(
      o,
      memberships.find((m) => m.organizationId === o.id),
    ),
  );
  return toMe(user, team, organization, basics);
}

/** Projects of every organization the user belongs to, narrowed to a key's scoped projects. */
export async function projectsVisibleTo(ctx: AppContext, user: User, scopedTeams: number[] | null): Promise<Project[]> {
  const memberships = await listMembershipsOfUser(ctx.db, user.id);
  const projects = await listProjectsOfOrganizations(
    ctx.db,
    memberships.map((m) => m.organizationId),
  );
  return scopedTeams?.length ? projects.filter((p) => scopedTeams.includes(p.id)) : projects;
}
