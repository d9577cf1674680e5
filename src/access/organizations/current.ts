// Choosing the user's current organization or project (PostHog's set_current_organization and
// set_current_team on PATCH /api/users/@me/): only among the organizations they belong to.
import { transact, type AppContext } from '../../platform/context.ts';
import { listMembershipsOfUser, updateUser, type User } from './users-repository.ts';
import { findProject, listProjectsOfOrganizations } from './projects-repository.ts';
import { ValidationError } from '../../platform/errors.ts';

const doesNotExist = (value: string | number, attr: string) => new ValidationError(`Object with id=${value} does not exist.`, 'does_not_exist', attr);

export async function chooseCurrent(ctx: AppContext, user: User, choice: { organization?: string; project?: number }): Promise<void> {
  await transact(ctx, async (tx) => {
    const organizations = new Set((await listMembershipsOfUser(tx, user.id)).map((m) => m.organizationId));
    const values: Partial<User> = {};
    if (choice.organization !== undefined) {
      const id = choice.organization.toLowerCase();
      if (!organizations.has(id)) throw doesNotExist(choice.organization, 'set_current_organization');
      const [first] = await listProjectsOfOrganizations(tx, [id]);
      values.currentOrganizationId = id;
      values.currentProjectId = first?.id ?? null;
    }
    if (choice.project !== undefined) {
      const project = choice.project > 0 && choice.project <= 2 ** 31 - 1 ? await findProject(tx, choice.project) : undefined;
      if (!project || !organizations.has(project.organizationId)) throw doesNotExist(choice.project, 'set_current_team');
      values.currentOrganizationId = project.organizationId;
      values.currentProjectId = project.id;
    }
    await updateUser(tx, user.id, values);
  });
}
