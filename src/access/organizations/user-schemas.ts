// User shapes: PostHog's UserBasic (embedded in flags, activity) and the @me representation.
import { z } from 'zod';
import type { User } from './users-repository.ts';

export const UserBasicSchema = z
  .object({
    id: z.number().int(),
    uuid: z.string(),
    distinct_id: z.string(),
    first_name: z.string(),
    last_name: z.string(),
    email: z.string(),
    is_email_verified: z.boolean().nullable(),
    hedgehog_config: z.null(),
    role_at_organization: z.string().nullable(),
  })
  .meta({ id: 'UserBasic' });

export type UserBasic = z.infer<typeof UserBasicSchema>;

export function toUserBasic(user: User): UserBasic {
  return {
    id: user.id,
    uuid: user.uuid,
    distinct_id: user.distinctId,
    first_name: user.firstName,
    last_name: user.lastName,
    email: user.email,
    is_email_verified: user.isEmailVerified ?? null,
    hedgehog_config: null,
    role_at_organization: null,
  };
}
