// buildApp(deps): the Fastify application with every plugin and route; server.ts and tests build it.
import type http from 'node:http';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { Config } from './platform/config.ts';
import type { Database } from './platform/db/index.ts';
import { createAppContext, type AppContext } from './platform/context.ts';
import { Authenticator } from './access/auth.ts';
import { errorsPlugin, methodNotAllowedRoutes } from './platform/http/errors.ts';
import { registerBodyParsers } from './platform/http/body-parsers.ts';
import { registerAuthHook } from './access/auth-hook.ts';
import { openapiPlugin, zodSerializerCompiler, zodValidatorCompiler } from './platform/http/openapi.ts';
import { redactUrl } from './platform/redact.ts';
import { connectionBudget, createLimitedServer } from './platform/http/connections.ts';
import { PGLITE_MAX_OPEN_FILES } from './platform/db/pglite-fs.ts';
import { finalizeLogLine, registerLogSecret, safeMessage, safeText, sanitizeLogObject, serializeError } from './platform/log-redaction.ts';
import type { LoggerOptions } from 'pino';
import { identityRoutes } from './access/organizations/routes.ts';
import { groupTypeRoutes } from './groups/routes.ts';
import { cohortRoutes } from './cohorts/routes.ts';
import { featureFlagRoutes } from './flags/routes.ts';
import { featureFlagHistoryRoutes } from './flags/history-routes.ts';
import { featureFlagCopyRoutes } from './flags/copy-routes.ts';
import { activityRoutes } from './activity/routes.ts';
import { personRoutes } from './persons/routes.ts';
import { featureFlagUsageRoutes } from './flags/usage-routes.ts';
import { dashboardPageRoutes, dashboardRoutes } from './flags/dashboards/routes.ts';
import { ingestionRoutes } from './ingestion/stats-routes.ts';
import { sdkDefinitionsRoutes } from './sdk/definitions-routes.ts';
import { sdkFlagsRoutes } from './sdk/flags-routes.ts';
import { sdkConfigRoutes } from './sdk/config-routes.ts';
import { ofrepRoutes } from './sdk/ofrep-routes.ts';
import { sdkAssetRoutes } from './sdk/assets-routes.ts';
import { sdkCaptureRoutes } from './ingestion/capture-routes.ts';
import { registerRawBodyParser } from './sdk/body.ts';
import { createHotPath } from './sdk/hot-path.ts';
import { SdkDecisions } from './sdk/decisions.ts';
import { SnapshotStore } from './sdk/snapshots.ts';
import { checkSecretKey } from './platform/secrets.ts';
import { EventIngestor } from './ingestion/ingestor.ts';
import { RateLimits } from './access/rate-limit.ts';
import { organizationMemberRoutes } from './access/organizations/members-routes.ts';
import { projectSettingsRoutes } from './access/organizations/project-routes.ts';
import { roleRoutes } from './access/roles/routes.ts';
import { featureFlagRoleAccessRoutes } from './access/roles/flag-role-access-routes.ts';
import { personalApiKeyRoutes } from './access/keys/routes.ts';
import { accountRoutes } from './access/sign-in/account-routes.ts';
import { loginRoutes } from './access/sign-in/login-routes.ts';
import { organizationInviteRoutes, signupRoutes } from './access/sign-in/invite-routes.ts';
import { oidcRoutes } from './access/sign-in/oidc.ts';
import { consoleRoutes } from './console/static.ts';
import { registerOps } from './ops/routes.ts';

export interface AppDeps {
  config: Config;
  database: Database;
  /** Clock override for tests. */
  now?: () => Date;
  logger?: FastifyServerOptions['logger'];
  /** Distinct keys each rate limiter remembers (tests lower it to show the bound). */
  rateLimitMaxKeys?: number;
  /** Where the built web console is (default dist/console); tests point it elsewhere. */
  consoleDir?: string;
}

export interface Services {
  ctx: AppContext;
  authenticator: Authenticator;
  snapshots: SnapshotStore;
  rateLimits: RateLimits;
  /** Capture ingestion: acknowledges events once committed; app.close() drains it. */
  ingestion: EventIngestor;
  /** Starts background work (change notifications from other instances); stopped by app.close(). */
  start(): Promise<void>;
}

declare module 'fastify' {
  interface FastifyInstance {
    services: Services;
  }
}

/**
 * Every logger flaghost builds uses these options, so every line goes through the same filters:
 * errors are serialized without query parameters, every string in a logged object and every
 * message is redacted and capped, and the finished line is redacted again and capped at
 * LOG_LINE_MAX_BYTES (src/platform/log-redaction.ts).
 */
export function loggerOptions(level: string): LoggerOptions {
  return {
    level,
    redact: {
      paths: ['req.headers.authorization', 'req.headers.cookie', '*.personal_api_key', '*.secret_api_key', '*.token', '*.api_key'],
      censor: '[redacted]',
    },
    serializers: {
      req: (req: { method: string; url: string; ip?: string }) => ({ method: req.method, url: safeText(redactUrl(req.url)), ip: req.ip }),
      err: (err: unknown) => serializeError(err),
      msg: (msg: unknown) => (typeof msg === 'string' ? safeMessage(msg) : msg),
    },
    formatters: { log: sanitizeLogObject },
    hooks: { streamWrite: finalizeLogLine },
  };
}

/** The password in a database URL, so that a driver message quoting the URL cannot log it. */
function urlPassword(url: string | undefined): string | undefined {
  try {
    return url ? decodeURIComponent(new URL(url).password) || undefined : undefined;
  } catch {
    return undefined;
  }
}

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const { config } = deps;
  registerLogSecret(config.secretKey);
  registerLogSecret(urlPassword(config.database.url));
  // SDK requests the hot path can answer from memory never reach Fastify (src/sdk/hot-path.ts).
  let hotPath: ((req: http.IncomingMessage, res: http.ServerResponse) => boolean) | undefined;
  // Client connections share the process's file descriptors with the database's files and sockets.
  const databaseFiles = deps.database.kind === 'pglite' ? PGLITE_MAX_OPEN_FILES : config.database.poolSize + 2;
  const budget = connectionBudget(config.http.maxConnections, databaseFiles);
  const app = Fastify({
    logger: deps.logger ?? false,
    bodyLimit: config.bodyLimitBytes,
    routerOptions: { ignoreTrailingSlash: true, ignoreDuplicateSlashes: true, maxParamLength: 1000 },
    requestIdHeader: false,
    trustProxy: true,
    return503OnClosing: true,
    serverFactory: (handler) =>
      createLimitedServer(
        (req, res) => {
          if (!hotPath?.(req, res)) handler(req, res);
        },
        { ...config.http, maxConnections: budget.maxConnections },
        () => warnRefused(),
      ),
  });
  if (budget.openFilesLimit !== undefined) {
    app.log.warn(
      { configured: config.http.maxConnections, maxConnections: budget.maxConnections, openFilesLimit: budget.openFilesLimit },
      'the open-files limit (ulimit -n) lowers the connection limit: raise it to accept FLAGHOST_MAX_CONNECTIONS connections',
    );
  }
  let lastRefusedWarning = 0;
  let refusedSince = 0;
  const warnRefused = () => {
    refusedSince++;
    if (Date.now() - lastRefusedWarning < 60_000) return;
    lastRefusedWarning = Date.now();
    app.log.warn(
      { maxConnections: budget.maxConnections, refused: refusedSince },
      'connection limit reached with every connection busy: new connections are closed',
    );
    refusedSince = 0;
  };

  const ctx = createAppContext(config, deps.database, app.log, deps.now);
  const stoppers: Array<() => void | Promise<void>> = [];
  const snapshots = new SnapshotStore(ctx);
  const ingestion = new EventIngestor(ctx, snapshots, app.log);
  stoppers.push(() => ingestion.close());
  const services: Services = {
    ctx,
    authenticator: new Authenticator(ctx),
    snapshots,
    ingestion,
    rateLimits: new RateLimits(config.rateLimits, { maxKeys: deps.rateLimitMaxKeys }),
    async start() {
      await checkSecretKey(ctx.db, ctx.payloadCipher());
      deps.database.health.onChange((available) => {
        if (!available) {
          app.log.warn('database unavailable: SDK endpoints answer from memory, other requests get 503 until it answers again');
          return;
        }
        app.log.info('database available again');
        // Rebuilds that failed during the outage are retried now, not at the next periodic check.
        snapshots.check().catch((err) => app.log.warn({ err }, 'snapshot re-check after the outage failed: the periodic check retries'));
      });
      await deps.database.listen(
        (payload) => ctx.changes.handleNotification(payload),
        // Notifications sent while the listener was reconnecting are lost: re-check revisions.
        () => {
          services.authenticator.clear();
          snapshots.check().catch((err) => app.log.warn({ err }, 'snapshot re-check after the change listener reconnected failed: the periodic check retries'));
        },
      );
      snapshots.start(config.snapshotCheckIntervalMs);
      stoppers.push(() => snapshots.stop());
    },
  };
  app.decorate('services', services);
  // The SDK endpoints' decisions, shared by the hot path and the Fastify routes.
  const decisions = new SdkDecisions(services);
  hotPath = createHotPath({ decisions, log: app.log });
  app.addHook('onClose', async () => {
    for (const stop of stoppers) await stop();
  });
  // Probes and /metrics (src/ops/); every request is measured, the hot path's answers too.
  hotPath = registerOps(app, { config, database: deps.database, snapshots, ingestion, rateLimits: services.rateLimits }).observeHotPath(hotPath);

  app.setValidatorCompiler(zodValidatorCompiler);
  app.setSerializerCompiler(zodSerializerCompiler);
  await errorsPlugin(app, { bodyLimit: config.bodyLimitBytes });
  registerBodyParsers(app);
  const installMethodNotAllowed = methodNotAllowedRoutes(app);
  await openapiPlugin(app);

  // The management API: every route here declares `config.access` and is authenticated.
  await app.register(async (api) => {
    registerAuthHook(api, services.authenticator, services.rateLimits);
    await api.register(identityRoutes);
    await api.register(groupTypeRoutes);
    await api.register(cohortRoutes);
    await api.register(personRoutes);
    await api.register(featureFlagRoutes, { base: '/api/projects/:project_id/feature_flags', project: 'param' });
    await api.register(featureFlagRoutes, { base: '/api/feature_flag', project: 'legacy' });
    await api.register(featureFlagHistoryRoutes, { base: '/api/projects/:project_id/feature_flags', project: 'param' });
    await api.register(featureFlagHistoryRoutes, { base: '/api/feature_flag', project: 'legacy' });
    await api.register(featureFlagCopyRoutes);
    await api.register(featureFlagUsageRoutes, { base: '/api/projects/:project_id/feature_flags', project: 'param' });
    await api.register(featureFlagUsageRoutes, { base: '/api/feature_flag', project: 'legacy' });
    await api.register(dashboardRoutes);
    await api.register(activityRoutes);
    await api.register(ingestionRoutes);
    await api.register(organizationMemberRoutes);
    await api.register(projectSettingsRoutes);
    await api.register(roleRoutes);
    await api.register(featureFlagRoleAccessRoutes);
    await api.register(personalApiKeyRoutes);
    await api.register(accountRoutes);
    await api.register(organizationInviteRoutes);
  });

  // Signing in: these routes authenticate (or sign in) themselves.
  await app.register(loginRoutes);
  await app.register(signupRoutes);
  await app.register(oidcRoutes);

  // SDK endpoints: raw bodies, no hooks, answered from in-memory snapshots.
  await app.register(async (sdk) => {
    registerRawBodyParser(sdk);
    await sdk.register(sdkDefinitionsRoutes, { decisions });
    await sdk.register(sdkFlagsRoutes, { decisions });
    await sdk.register(sdkConfigRoutes, { snapshots });
    await sdk.register(ofrepRoutes, { ctx, snapshots });
    await sdk.register(sdkAssetRoutes);
    await sdk.register(sdkCaptureRoutes, { snapshots });
  });

  await app.register(dashboardPageRoutes);

  await app.register(async (instance) => installMethodNotAllowed(instance));
  // Registered after the 405 routes so the console's paths keep answering 404 to other methods.
  await app.register(consoleRoutes, { dir: deps.consoleDir });
  return app;
}
