// Shapes of GET …/cohorts/:id/persons/: PostHog's CohortPersonsResponse (serialized persons).
import { z } from 'zod';

export const CohortPersonSchema = z
  .object({
    type: z.literal('person'),
    id: z.string().meta({ description: 'The person uuid' }),
    uuid: z.string(),
    created_at: z.string(),
    properties: z.record(z.string(), z.unknown()),
    is_identified: z.boolean(),
    name: z.string().meta({ description: 'Display name: the email, name or username property, else a distinct id' }),
    distinct_ids: z.array(z.string()).meta({ description: 'At most 10 distinct ids' }),
    matched_recordings: z.array(z.never()).meta({ description: 'Always empty' }),
    value_at_data_point: z.null(),
  })
  .meta({ id: 'CohortPerson' });

export const CohortPersonsPageSchema = z
  .object({
    results: z.array(CohortPersonSchema),
    next: z.string().nullable().meta({ description: 'Given when the page is full' }),
    previous: z.string().nullable(),
  })
  .meta({ id: 'CohortPersonsPage' });

export const CohortPersonsQuery = z.looseObject({
  limit: z.string().optional().meta({ description: 'Persons per page: default 100, at most 1000' }),
  offset: z.string().optional(),
});
