// A CLI command on the database the CLI opens itself: PostgreSQL, or the embedded database when no
// server runs on its data directory. Loaded only on that path (src/cli.ts), since opening a database
// needs the drivers, migrations and every repository.
import type { Writable } from 'node:stream';
import type { Config } from '../platform/config.ts';
import { openDatabase, type Database } from '../platform/db/index.ts';
import { createAppContext, type Log } from '../platform/context.ts';
import { safeText } from '../platform/log-redaction.ts';
import { writeBackup } from '../platform/db/embedded-backup.ts';
import { bootstrap } from '../access/organizations/admin.ts';
import { countOrganizations } from '../access/organizations/projects-repository.ts';
import { CliError } from './commands.ts';
import type { Parsed } from './parse.ts';
import { HANDLERS, renderBootstrap } from './handlers.ts';

export { failure } from './handlers.ts';

type Run = Extract<Parsed, { kind: 'run' }>;

export interface LocalIo {
  err: (s: string) => void;
}

/** Whether flaghost initialised this database: its tables exist and hold an organization. */
async function initialised(database: Database): Promise<boolean> {
  try {
    return (await countOrganizations(database.db)) > 0;
  } catch (err) {
    const code = ((err as { cause?: { code?: string } }).cause ?? (err as { code?: string })).code;
    if (code === '42P01') return false; // undefined_table: no migration ever ran here
    throw err;
  }
}

/** The CLI's log: warnings as JSON lines on stderr (stdout is the command's answer); no debug output. */
function stderrLog(err: (s: string) => void): Log {
  return {
    warn: (obj, msg) => {
      const cause = (obj as { err?: unknown }).err;
      err(`${JSON.stringify({ warning: msg, ...(cause === undefined ? {} : { detail: safeText(String(cause), 4096) }) })}\n`);
    },
    debug: () => {
      // The CLI prints warnings and errors only.
    },
  };
}

/**
 * Opens the database (PGlite takes the data directory's lock: a DataDirLockedError means another
 * process has it), refuses an uninitialised one unless `--init` or `init` asked for it, migrates,
 * and runs the command. `describe` names the database on stderr once it is open.
 */
export async function runOnDatabase(
  config: Config,
  parsed: Run,
  password: string | undefined,
  io: LocalIo,
  describe: string,
  backupTo?: Writable,
): Promise<unknown> {
  const database = await openDatabase(config.database);
  try {
    io.err(`${describe}\n`);
    if (!parsed.init && !(await initialised(database))) {
      throw new CliError(
        `${describe.replace(/^flaghost: /, 'The ')} holds no flaghost data yet. Run \`flaghost init\` to initialise it, or check ${config.database.url ? 'DATABASE_URL' : 'FLAGHOST_DATA_DIR'}.`,
      );
    }
    await database.migrate();
    const ctx = createAppContext(config, database, stderrLog(io.err));
    if (parsed.cmd.kind === 'backup') {
      return writeBackup(database, config.database.dataDir, Boolean(config.secretKey), backupTo!);
    }
    if (parsed.init && parsed.cmd.kind !== 'init') {
      const boot = await bootstrap(ctx, config.init);
      if (boot) {
        io.err(
          JSON.stringify({
            notice: 'flaghost initialised an empty database. Store the personal API key now: it is shown only this once.',
            ...renderBootstrap(ctx, boot),
          }) + '\n',
        );
      }
    }
    return await HANDLERS[parsed.cmd.name](ctx, { values: parsed.values, positionals: parsed.positionals, password, init: config.init });
  } finally {
    await database
      .close()
      .catch((err: unknown) => io.err(`${JSON.stringify({ warning: 'closing the database failed', detail: safeText(String(err), 4096) })}\n`));
  }
}
