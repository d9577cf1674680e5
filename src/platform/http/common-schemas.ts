// Shapes shared by many routes: path parameters, the paginated envelope, the error envelope.
import { z } from 'zod';
import { NotFoundError } from '../errors.ts';

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

/** An integer id from the path; anything else is the 404 a missing row would get. */
export function idParam(raw: string, notFoundDetail?: string): number {
  if (!/^\d{1,9}$/.test(raw)) throw new NotFoundError(notFoundDetail);
  return Number(raw);
}
