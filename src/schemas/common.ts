// Shapes shared by many routes: path parameters, the paginated envelope, the error envelope.
import { z } from 'zod';

export const ProjectParams = z.object({
  project_id: z.string().meta({ description: 'Project id, or @current' }),
});

export function paginatedSchema<T extends z.ZodType>(item: T) {
  return z.object({
    count: z.number().int(),
    next: z.string().nullable(),
    previous: z.string().nullable(),
    results: z.array(item),
  });
}
