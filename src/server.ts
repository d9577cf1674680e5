// Entry point: config → listen check → database → migrations → first-start bootstrap → listen (TCP, and
// the CLI's socket on the embedded database) → graceful shutdown.
import { buildApp, loggerOptions } from './app.ts';
import { checkServerConfig, ConfigError, loadConfig, type Config } from './platform/config.ts';
import { checkListenAddress, ListenError, listenErrorMessage } from './platform/http/listen-check.ts';
import { ignoredInitVariables } from './access/organizations/first-admin.ts';
import { serveCliSocket, type CliSocket } from './cli/socket-server.ts';
import { openDatabase } from './platform/db/index.ts';
import { DataDirLockedError } from './platform/db/lock.ts';
import { bootstrap, type BootstrapResult } from './access/organizations/admin.ts';
import { SecretKeyMismatchError } from './platform/secrets.ts';
import { setupLinkUrl } from './access/sign-in/accounts.ts';
import { consoleBuildHint, DEFAULT_CONSOLE_DIR } from './console/static.ts';

function printBootstrap(result: BootstrapResult, config: Config): void {
  const lines = [
    '',
    'flaghost initialised an empty database:',
    `  organization      ${result.organization.name}`,
    `  project           ${result.project.id} (${result.project.name})`,
    `  project token     ${result.project.apiToken}`,
    `  secret token      ${result.project.secretApiToken}`,
    `  admin user        ${result.user.email}`,
    `  personal API key  ${result.personalApiKey}`,
    '',
    result.generated.personalApiKey ? 'Store the personal API key now: it is shown only this once.' : '',
    ...(result.passwordSetupToken
      ? [
          "Set the admin's console password within 24 hours with this one-time link:",
          `  ${setupLinkUrl(config, result.user.uuid, result.passwordSetupToken)}`,
          '(or later: npx flaghost users set-password --email ' + result.user.email + ')',
        ]
      : []),
    `Try: curl -H "Authorization: Bearer <key>" http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${config.port}/api/projects/1/feature_flags/`,
    '',
  ];
  process.stdout.write(lines.filter((l, i) => l !== '' || i === 0 || i === lines.length - 1).join('\n') + '\n');
}

export async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
    checkServerConfig(config);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }

  // Before anything is written: a first start must not initialise a database, print its one-time
  // key, and only then find that it cannot listen.
  try {
    await checkListenAddress(config.host, config.port);
  } catch (err) {
    if (err instanceof ListenError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }

  let database;
  try {
    database = await openDatabase(config.database);
  } catch (err) {
    if (err instanceof DataDirLockedError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    }
    process.stderr.write(`Could not open the database: ${(err as Error).message}\n`);
    process.exit(1);
  }

  await database.migrate();
  const app = await buildApp({ config, database, logger: loggerOptions(config.logLevel) });
  const result = await bootstrap(app.services.ctx, config.init);
  if (result) printBootstrap(result, config);
  else {
    // FLAGHOST_INIT_* apply to an empty database only: name each one whose value is not in effect.
    for (const ignored of await ignoredInitVariables(app.services.ctx, config.init)) {
      app.log.warn({ variable: ignored.variable }, `${ignored.variable} is ignored: ${ignored.reason}`);
    }
  }
  try {
    await app.services.start();
  } catch (err) {
    if (err instanceof SecretKeyMismatchError) {
      process.stderr.write(`${err.message}\n`);
      await database.close();
      process.exit(1);
    }
    throw err;
  }

  let closing = false;
  let cliSocket: CliSocket | undefined;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, 'shutting down');
    const force = setTimeout(() => process.exit(1), 15_000);
    force.unref();
    try {
      // The socket goes before the data directory's lock: a CLI finding neither can open the database.
      await cliSocket?.close();
      await app.close();
      await database.close();
      process.exit(0);
    } catch (err) {
      app.log.error({ err }, 'error during shutdown');
      process.exit(1);
    }
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));

  try {
    await app.listen({ port: config.port, host: config.host });
  } catch (err) {
    // Taken since the check at start (another process was quicker).
    process.stderr.write(`${listenErrorMessage(err, config.host, config.port)}\n`);
    // Exiting anyway: a failure to close is reported beside the reason, not instead of it.
    await app.close().catch((closeErr: unknown) => process.stderr.write(`closing the server failed: ${String(closeErr)}\n`));
    await database.close().catch((closeErr: unknown) => process.stderr.write(`closing the database failed: ${String(closeErr)}\n`));
    process.exit(1);
  }
  cliSocket = await serveCliSocket(app.services.ctx, app.log);
  const hint = consoleBuildHint(DEFAULT_CONSOLE_DIR);
  if (hint) process.stderr.write(`${hint}\n`);
}

await main();
