// OpenAPI from the zod route schemas (@fastify/swagger), served at /api/schema/ with Swagger UI;
// plus the zod validator (PostHog's first-error envelope) and a plain JSON serializer.
import type {
  FastifyBaseLogger,
  FastifyInstance,
  FastifySchemaCompiler,
  FastifySerializerCompiler,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerDefault,
} from 'fastify';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import { jsonSchemaTransform, jsonSchemaTransformObject, type ZodTypeProvider } from 'fastify-type-provider-zod';
import type { z } from 'zod';
import { validationErrorFromZod } from './drf.ts';

/**
 * The instance route plugins receive: `request.body`, `request.query` and `request.params` are typed
 * from the route's zod schemas (the zod type provider), so handlers need no casts. Registering such a
 * plugin on a plain instance is fine: the provider only changes types.
 */
export type ZodFastify = FastifyInstance<RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression, FastifyBaseLogger, ZodTypeProvider>;

const serviceValidatedSchemas = new WeakSet<z.ZodType>();

/**
 * Marks a schema as documentation only for the route: the service validates that input itself
 * (to interleave type checks with database checks in PostHog's field order). The route does not
 * parse it, so the handler sees the input as `unknown`, not as the schema's output.
 */
export function serviceValidated(schema: z.ZodType): z.ZodType<unknown, unknown> {
  serviceValidatedSchemas.add(schema);
  return schema;
}

export const zodValidatorCompiler: FastifySchemaCompiler<z.ZodType> =
  ({ schema }) =>
  (data) => {
    if (serviceValidatedSchemas.has(schema)) return { value: data };
    const result = schema.safeParse(data, { reportInput: true });
    return result.success ? { value: result.data } : { error: validationErrorFromZod(result.error) };
  };

/** Response schemas document the API; replies are plain JSON (no per-request re-validation). */
export const zodSerializerCompiler: FastifySerializerCompiler<unknown> = () => (data) => JSON.stringify(data);

export async function openapiPlugin(app: FastifyInstance): Promise<void> {
  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'flaghost',
        description: "Self-hostable feature flags, wire-compatible with PostHog's feature-flag API and SDK endpoints.",
        version: '0.1.0',
      },
      components: {
        securitySchemes: {
          PersonalAPIKeyAuth: { type: 'http', scheme: 'bearer', description: 'Personal API key (phx_…)' },
          SessionAuth: {
            type: 'apiKey',
            in: 'cookie',
            name: 'sessionid',
            description: 'Console session from POST /api/login; writes also need the X-CSRFToken header (the csrftoken cookie)',
          },
          OfrepBearer: { type: 'http', scheme: 'bearer', description: 'OFREP: the project API token (phc_…) as a bearer token' },
          OfrepApiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key', description: 'OFREP: the project API token (phc_…)' },
        },
      },
      security: [{ PersonalAPIKeyAuth: [] }, { SessionAuth: [] }],
    },
    transform: jsonSchemaTransform,
    transformObject: jsonSchemaTransformObject,
  });
  await app.register(fastifySwaggerUi, { routePrefix: '/api/schema/swagger-ui' });
  app.get('/api/schema', { schema: { hide: true } }, async (_request, reply) => reply.type('application/json').send(JSON.stringify(app.swagger())));
}
