// Flag actions beyond CRUD: bulk id→key lookup (docs/compatibility.md#api-7.3) and the staleness
// status (#api-7.1).
import type { AppContext } from '../platform/context.ts';
import { flagStatus, type FlagStatusResult } from './status.ts';
import { findFlag, findFlagByKey, findFlagsByIds } from './repository.ts';
import { RawError, ValidationError } from '../platform/errors.ts';
import { normalizeFilters } from './filters.ts';
import { pythonRepr } from '../platform/http/drf.ts';

/** Python's int() over a JSON value: ints, integral floats (truncated), digit strings, booleans. */
function pythonInt(value: unknown): number | undefined {
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'number' && Number.isFinite(value)) return Math.trunc(value);
  if (typeof value === 'string' && /^\s*[+-]?\d{1,15}\s*$/.test(value)) return Number(value.trim());
  return undefined;
}

/** Ids one bulk_keys request may ask about (flaghost's bound; PostHog has none). */
export const MAX_BULK_KEYS_IDS = 10_000;

export async function bulkKeys(ctx: AppContext, projectId: number, body: unknown): Promise<{ keys: Record<string, string>; warning?: string }> {
  const raw = body && typeof body === 'object' && !Array.isArray(body) ? (body as Record<string, unknown>).ids : undefined;
  if (raw === undefined || raw === null || raw === '' || (Array.isArray(raw) && raw.length === 0)) return { keys: {} };
  const ids = Array.isArray(raw) ? raw : [raw];
  if (ids.length > MAX_BULK_KEYS_IDS) throw new ValidationError(`Ensure this field has no more than ${MAX_BULK_KEYS_IDS} elements.`, 'max_length', 'ids');
  const valid: number[] = [];
  const invalid: unknown[] = [];
  for (const id of ids) {
    const n = pythonInt(id);
    if (n === undefined || n < 0 || n > 2_147_483_647) invalid.push(id);
    else valid.push(n);
  }
  if (!valid.length) throw new RawError(400, { error: 'Invalid flag IDs provided' });
  const flags = await findFlagsByIds(ctx.db, projectId, [...new Set(valid)]);
  const keys: Record<string, string> = {};
  for (const flag of flags.filter((f) => !f.deleted).sort((a, b) => a.id - b.id)) keys[String(flag.id)] = flag.key;
  return invalid.length ? { keys, warning: `Invalid flag IDs ignored: ${pythonRepr(invalid)}` } : { keys };
}

export async function statusOfFlag(ctx: AppContext, projectId: number, rawId: string): Promise<FlagStatusResult> {
  const flag = /^\d{1,9}$/.test(rawId) ? await findFlag(ctx.db, projectId, Number(rawId)) : undefined;
  return flagStatus(flag, ctx.now());
}

/**
 * The `"true"` payload of a remote-configuration flag, looked up by id or key (deleted flags
 * too), decrypted for the personal-API-key or secret-key caller (docs/compatibility.md#api-7.2).
 * Absent: bare 404.
 */
export async function remoteConfigPayload(ctx: AppContext, projectId: number, idOrKey: string): Promise<unknown> {
  let flag = /^\d{1,9}$/.test(idOrKey) ? await findFlag(ctx.db, projectId, Number(idOrKey)) : undefined;
  flag ??= await findFlagByKey(ctx.db, projectId, idOrKey);
  if (!flag || !flag.isRemoteConfiguration) throw new RawError(404, null);
  const payloads = normalizeFilters(flag.filters, flag.rolloutPercentage).payloads as Record<string, unknown> | undefined;
  const payload = payloads?.true ?? null;
  return flag.hasEncryptedPayloads ? ctx.payloadCipher().open(payload) : payload;
}
