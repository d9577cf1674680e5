// Person shapes: PostHog's PersonSerializer representation and its list page.
import { z } from 'zod';

export const PersonSchema = z
  .object({
    id: z.number().int().meta({ description: 'Numeric person id' }),
    name: z.string().meta({ description: 'Display name: the email, name or username property, else a distinct id' }),
    distinct_ids: z.array(z.string()).meta({ description: 'Distinct ids of this person, ids an app chose before generated (uuid-like) ones' }),
    properties: z.record(z.string(), z.unknown()).meta({ description: 'Properties set by $set, $set_once and $identify events' }),
    created_at: z.string(),
    uuid: z.string(),
    last_seen_at: z.string().nullable().meta({ description: 'Always null: flaghost does not keep events' }),
  })
  .meta({ id: 'Person' });

export const PersonsPageSchema = z
  .object({
    next: z.string().nullable(),
    previous: z.string().nullable(),
    count: z.number().int().optional().meta({ description: 'Only with ?include_total' }),
    results: z.array(PersonSchema),
  })
  .meta({ id: 'PersonsPage' });

export const PersonListQuery = z.looseObject({
  distinct_id: z.string().optional().meta({ description: 'Persons with this distinct id (exact)' }),
  email: z.string().optional().meta({ description: 'Persons whose email property is this (exact)' }),
  search: z.string().optional().meta({ description: 'Substring of the email or name property, or a distinct id or uuid (exact)' }),
  include_total: z.string().optional().meta({ description: 'Present: add `count`, the number of matching persons' }),
  limit: z.string().optional(),
  offset: z.string().optional(),
});
