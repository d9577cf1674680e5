// GET /api/projects/:project_id/ingestion_stats/: what this instance's capture ingestion did for the
// project since it started (events received, stored, skipped as duplicates or malformed, refused
// merges). A flaghost extension: capture answers {"status": 1} whatever it skipped, as PostHog does.
import { z } from 'zod';
import { ProjectParams } from '../platform/http/common-schemas.ts';
import type { ZodFastify } from '../platform/http/openapi.ts';
import { requireProject } from '../access/require-auth.ts';

const IngestionStatsSchema = z
  .object({
    since: z.string().meta({ description: 'When this instance started counting' }),
    events_received: z.number().int(),
    events_ingested: z.number().int(),
    duplicates_skipped: z.number().int().meta({ description: 'Events whose uuid was ingested within the dedup window' }),
    malformed_skipped: z.number().int(),
    malformed_reasons: z.record(z.string(), z.number().int()),
    warnings: z.record(z.string(), z.number().int()).meta({ description: "PostHog's ingestion warnings, e.g. cannot_merge_already_identified" }),
  })
  .meta({ id: 'IngestionStats', description: 'Counters of this instance only (each instance counts its own requests)' });

export async function ingestionRoutes(app: ZodFastify): Promise<void> {
  const { ingestion } = app.services;
  app.get(
    '/api/projects/:project_id/ingestion_stats',
    {
      config: { access: { scope: 'project:read', project: 'param' } },
      schema: {
        tags: ['ingestion'],
        summary: 'Capture ingestion counters of this instance for the project',
        params: ProjectParams,
        response: { 200: IngestionStatsSchema },
      },
    },
    async (request) => {
      const s = ingestion.stats(requireProject(request.auth).id);
      return {
        since: s.since,
        events_received: s.received,
        events_ingested: s.ingested,
        duplicates_skipped: s.duplicates,
        malformed_skipped: s.malformed,
        malformed_reasons: s.malformedReasons,
        warnings: s.warnings,
      };
    },
  );
}
