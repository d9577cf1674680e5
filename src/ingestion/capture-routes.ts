// Event capture endpoints the SDKs post to: /batch/, /e/, /i/v0/e/, /capture/, /track/.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { allowBrowserOrigin, decodeSdkRequest, preflight, sdkBodyLimit, type SdkBodyKind } from '../sdk/body.ts';
import { serviceValidated } from '../platform/http/openapi.ts';
import { parseCaptureBody } from './capture.ts';
import type { SnapshotStore } from '../sdk/snapshots.ts';
import { AuthenticationFailedError, ValidationError } from '../platform/errors.ts';

const CaptureBodyDoc = z
  .object({
    api_key: z.string().optional(),
    batch: z.array(z.record(z.string(), z.unknown())).optional(),
    event: z.string().optional(),
    distinct_id: z.string().optional(),
    properties: z.record(z.string(), z.unknown()).optional(),
  })
  .meta({ id: 'CaptureRequest', description: 'A batch `{api_key, batch: [...]}`, one event, or an array of events; gzip and base64 accepted.' });

export const CAPTURE_PATHS = ['/batch', '/e', '/i/v0/e', '/capture', '/track'];

export async function sdkCaptureRoutes(app: FastifyInstance, opts: { snapshots: SnapshotStore }): Promise<void> {
  const { snapshots } = opts;

  const handler = (kind: SdkBodyKind) => async (request: FastifyRequest, reply: FastifyReply) => {
    const query = request.query as Record<string, unknown>;
    const body = await decodeSdkRequest(request.body as Buffer | undefined, request.headers, query, kind);
    const capture = parseCaptureBody(body, typeof query.token === 'string' ? query.token : undefined);
    if (!capture.token) throw new AuthenticationFailedError('API key not provided. You can find your project API key in your PostHog project settings.');
    const snapshot = await snapshots.forToken(capture.token);
    if (!snapshot) throw new AuthenticationFailedError('Project API key invalid. You can find your project API key in your PostHog project settings.');
    if (!capture.events.length && !capture.malformed) throw new ValidationError('No events in the request.', 'no_data', null);
    // Answered only once the events are committed: an acknowledged event is never lost.
    await app.services.ingestion.submit(snapshot.project.id, capture);
    allowBrowserOrigin(request, reply);
    return reply.type('application/json').send('{"status":1}');
  };

  for (const url of CAPTURE_PATHS) {
    const kind: SdkBodyKind = url === '/batch' ? 'batch' : 'event';
    app.post(
      url,
      {
        bodyLimit: sdkBodyLimit(app.services.ctx.config.bodyLimitBytes, kind),
        schema: { tags: ['sdk'], summary: 'Capture events', body: serviceValidated(CaptureBodyDoc), security: [] },
      },
      handler(kind),
    );
    app.options(url, { schema: { hide: true } }, async (request, reply) => preflight(request, reply));
  }
}
