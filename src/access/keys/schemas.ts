// The personal API key representation (PostHog's PersonalAPIKeySerializer) and its write bodies.
import { z } from 'zod';
import type { PersonalApiKey } from './repository.ts';
import { drfInteger, drfString, fail } from '../../platform/http/drf.ts';
import { findInvalidScope, invalidScopeMessage } from '../scopes.ts';
import { isoTime } from '../../platform/time.ts';

export const PersonalApiKeySchema = z
  .object({
    id: z.string(),
    label: z.string(),
    value: z.string().nullable().meta({ description: 'The key itself: only in the response that creates it' }),
    mask_value: z.string().meta({ description: 'First and last four characters, e.g. phx_...abcd' }),
    created_at: z.string(),
    last_used_at: z.string().nullable().meta({ description: 'Updated at most once an hour' }),
    last_rolled_at: z.string().nullable().meta({ description: 'When the value was last replaced by roll' }),
    user_id: z.number().int(),
    scopes: z.array(z.string()).meta({ description: '["*"] for a key without scope limits' }),
    scoped_teams: z.array(z.number().int()).meta({ description: 'Projects the key is limited to; empty: not limited' }),
    scoped_organizations: z.array(z.string()).meta({ description: 'Organizations the key is limited to; empty: not limited' }),
  })
  .meta({ id: 'PersonalAPIKey' });

export type PersonalApiKeyOut = z.infer<typeof PersonalApiKeySchema>;

export function toPersonalApiKey(key: PersonalApiKey, value: string | null = null): PersonalApiKeyOut {
  return {
    id: key.id,
    label: key.label,
    value,
    mask_value: key.maskValue,
    created_at: isoTime(key.createdAt),
    last_used_at: isoTime(key.lastUsedAt),
    last_rolled_at: isoTime(key.lastRolledAt),
    user_id: key.userId,
    scopes: key.scopes?.length ? key.scopes : ['*'],
    // Always a list, as PostHog shows it: keys made at first start or by the CLI store null for
    // "not limited", and clients such as the agent toolkit read .length (docs/compatibility.md#api-5.2).
    scoped_teams: key.scopedTeams ?? [],
    scoped_organizations: key.scopedOrganizations ?? [],
  };
}

const scopes = () =>
  z
    .array(drfString())
    .min(1)
    .superRefine((list, ctx) => {
      const invalid = findInvalidScope(list);
      if (invalid !== undefined) fail(ctx, invalidScopeMessage(invalid));
    })
    .meta({ description: '`*`, or `<object>:read` / `<object>:write` (write implies read), e.g. feature_flag:write' });

export const PersonalApiKeyCreateBody = z
  .object({
    label: drfString({ max: 40 }),
    scopes: scopes(),
    scoped_teams: z.array(drfInteger()).optional().meta({ description: 'Projects the key is limited to (empty: all of yours)' }),
    scoped_organizations: z.array(drfString()).optional().meta({ description: 'Organizations the key is limited to (empty: all of yours)' }),
  })
  .meta({ id: 'PersonalAPIKeyCreate' });

export const PersonalApiKeyUpdateBody = PersonalApiKeyCreateBody.partial().meta({ id: 'PersonalAPIKeyUpdate' });

export type PersonalApiKeyWrite = z.output<typeof PersonalApiKeyUpdateBody>;
