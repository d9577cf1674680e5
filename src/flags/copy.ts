// POST /api/organizations/:organization_id/feature_flags/copy_flags/ (docs/compatibility.md#api-7.11):
// a flag copied to other projects of its organization, with the cohorts it uses (reused by name,
// else created) and its flag dependencies remapped by key. Each target project is written through
// the same create or update as the API's, with the caller's rights in that project, and reported
// as a success or with its errors.
import type { AppContext } from '../platform/context.ts';
import type { AccessLookups, RequestAuth } from '../access/authorization.ts';
import { authorizeProjectAccess } from '../access/authorization.ts';
import { ApiError, RawError } from '../platform/errors.ts';
import { findOrganization, findProject, type Project } from '../access/organizations/projects-repository.ts';
import { flagAccessResolver } from '../access/roles/flag-access.ts';
import { createCohort, flatCohortProperties } from '../cohorts/service.ts';
import { listProjectCohorts, type CohortRow } from '../cohorts/repository.ts';
import { listLiveFlags, type FeatureFlagRow } from './repository.ts';
import { normalizeFilters } from './filters.ts';
import { visiblePayloads } from './payloads.ts';
import { createFlag, updateFlagById } from './service.ts';
import type { FeatureFlagOut } from './schemas.ts';

/** Most target projects in one request: each is a transaction of its own. */
export const MAX_COPY_TARGETS = 100;

export interface CopyResult {
  success: FeatureFlagOut[];
  failed: Array<{ project_id: unknown; errors: unknown }>;
}

type Json = Record<string, unknown>;
const isDict = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);
const refused = (status: number, error: string) => new RawError(status, { error });
const asProjectId = (v: unknown): number | undefined =>
  typeof v === 'number' && Number.isInteger(v) && v > 0 && v <= 2_147_483_647 ? v : typeof v === 'string' && /^\d{1,9}$/.test(v) ? Number(v) : undefined;

/** The flag's cohorts and the cohorts they use, dependencies first. */
async function cohortsInOrder(ctx: AppContext, projectId: number, filters: Json): Promise<CohortRow[]> {
  const all = new Map((await listProjectCohorts(ctx.db, projectId)).map((c) => [c.id, c]));
  const ordered: CohortRow[] = [];
  const seen = new Set<number>();
  const visit = (id: number) => {
    const cohort = all.get(id);
    if (!cohort || cohort.deleted || seen.has(id)) return;
    seen.add(id);
    for (const p of flatCohortProperties(cohort.filters)) if (p.type === 'cohort') visit(Number(p.value));
    ordered.push(cohort);
  };
  for (const group of (filters.groups as unknown[]) ?? []) {
    for (const p of (isDict(group) && Array.isArray(group.properties) ? group.properties : []) as unknown[]) {
      if (isDict(p) && p.type === 'cohort') visit(Number(p.value));
    }
  }
  return ordered;
}

/** Rewrites `type: "cohort"` values (at any depth) and `type: "flag"` keys with the maps given. */
function remap(node: unknown, cohorts: Map<number, number>, flags: Map<string, string>): unknown {
  if (Array.isArray(node)) return node.map((n) => remap(n, cohorts, flags));
  if (!isDict(node)) return node;
  const out: Json = {};
  for (const [k, v] of Object.entries(node)) out[k] = remap(v, cohorts, flags);
  if (node.type === 'cohort' && cohorts.has(Number(node.value))) out.value = cohorts.get(Number(node.value));
  if (node.type === 'flag' && flags.has(String(node.key))) out.key = flags.get(String(node.key));
  return out;
}

export async function copyFlags(ctx: AppContext, lookups: AccessLookups, auth: RequestAuth, body: unknown): Promise<CopyResult> {
  const organization = auth.organization;
  const data = isDict(body) ? body : {};
  const key = data.feature_flag_key;
  const from = asProjectId(data.from_project);
  const targets = data.target_project_ids;
  if (!key || typeof key !== 'string' || !data.from_project || !Array.isArray(targets) || !targets.length) throw refused(400, 'Missing required fields');
  if (targets.length > MAX_COPY_TARGETS) throw refused(400, `At most ${MAX_COPY_TARGETS} target projects in one request.`);
  if (!organization) throw refused(400, 'Missing required fields');

  const notFound = refused(400, 'Feature flag to copy does not exist.');
  const sourceProject = from === undefined ? undefined : await findProject(ctx.db, from);
  if (!sourceProject || sourceProject.organizationId !== organization.id) throw notFound;
  const sourceAuth = await authorizeProjectAccess(lookups, auth.principal, { project: sourceProject, organization }, { scope: 'feature_flag:read' }).catch(
    (error: unknown) => {
      throw error instanceof ApiError ? notFound : error;
    },
  );
  const sourceFlags = await listLiveFlags(ctx.db, sourceProject.id);
  const source = sourceFlags.find((f) => f.key === key);
  if (!source) throw notFound;
  if (!(await flagAccessResolver(ctx.db, sourceAuth, [source]))(source).canEdit) throw refused(403, 'You do not have permission to copy this flag.');

  const filters = normalizeFilters(source.filters, source.rolloutPercentage);
  if (isDict(filters.payloads)) filters.payloads = visiblePayloads(ctx.payloadCipher())(source, filters.payloads);
  const cohorts = await cohortsInOrder(ctx, sourceProject.id, filters);
  const dependencyKeys = new Map(sourceFlags.map((f) => [String(f.id), f.key]));

  const result: CopyResult = { success: [], failed: [] };
  for (const raw of targets) {
    const targetId = asProjectId(raw);
    const target = targetId === undefined ? undefined : await findProject(ctx.db, targetId);
    if (!target || target.organizationId !== organization.id) {
      result.failed.push({ project_id: raw, errors: 'Target project does not exist.' });
      continue;
    }
    try {
      result.success.push(await copyInto(ctx, lookups, auth, { source, filters, cohorts, dependencyKeys, target }));
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      result.failed.push({ project_id: target.id, errors: error.body ?? `HTTP ${error.statusCode}` });
    }
  }
  return result;
}

interface CopyInput {
  source: FeatureFlagRow;
  filters: Json;
  cohorts: CohortRow[];
  dependencyKeys: Map<string, string>;
  target: Project;
}

async function copyInto(ctx: AppContext, lookups: AccessLookups, auth: RequestAuth, input: CopyInput): Promise<FeatureFlagOut> {
  const { source, target } = input;
  const organization = await findOrganization(ctx.db, target.organizationId);
  if (!organization) throw refused(400, 'Target project does not exist.');
  const targetAuth = await authorizeProjectAccess(lookups, auth.principal, { project: target, organization }, { scope: 'feature_flag:write' });
  const targetFlags = await listLiveFlags(ctx.db, target.id);

  // Flag dependencies: the flag of the same key in the target project, checked before any write.
  const flagMap = new Map<string, string>();
  for (const group of (input.filters.groups as unknown[]) ?? []) {
    for (const p of (isDict(group) && Array.isArray(group.properties) ? group.properties : []) as unknown[]) {
      if (!isDict(p) || p.type !== 'flag') continue;
      const depKey = input.dependencyKeys.get(String(p.key));
      const there = depKey === undefined ? undefined : targetFlags.find((f) => f.key === depKey);
      if (!there) throw refused(400, `Flag dependency '${depKey ?? String(p.key)}' does not exist in project ${target.id}: copy it first.`);
      flagMap.set(String(p.key), String(there.id));
    }
  }

  // Cohorts: one of the same name in the target project, else a copy (static ones cannot be copied
  // without their members, so they must exist there already).
  const cohortMap = new Map<number, number>();
  const existing = await listProjectCohorts(ctx.db, target.id);
  for (const cohort of input.cohorts) {
    const same = existing.find((c) => !c.deleted && c.name === cohort.name);
    if (same) {
      cohortMap.set(cohort.id, same.id);
      continue;
    }
    if (cohort.isStatic) throw refused(400, `Static cohort '${cohort.name}' does not exist in project ${target.id}: create it there first.`);
    const created = await createCohort(
      ctx,
      targetAuth,
      { name: cohort.name, description: cohort.description, is_static: false, filters: remap(cohort.filters, cohortMap, flagMap) },
      { form: false },
    );
    cohortMap.set(cohort.id, created.id);
  }

  const body = {
    key: source.key,
    name: source.name,
    filters: remap(input.filters, cohortMap, flagMap),
    active: source.active,
    ensure_experience_continuity: source.ensureExperienceContinuity,
    evaluation_runtime: source.evaluationRuntime,
    bucketing_identifier: source.bucketingIdentifier,
    is_remote_configuration: source.isRemoteConfiguration,
    has_encrypted_payloads: source.hasEncryptedPayloads,
  };
  const current = targetFlags.find((f) => f.key === source.key);
  return current ? updateFlagById(ctx, targetAuth, current.id, body, 'partial_update') : createFlag(ctx, targetAuth, body);
}
