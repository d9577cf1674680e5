// `flaghost backup` and `flaghost restore` on the CLI's side: the backup file (written beside its
// final name, flushed, renamed, then read back whole), and restoring into a data directory no
// server runs on. The archive itself is src/platform/db/embedded-backup.ts.
import fs from 'node:fs';
import path from 'node:path';
import type { Writable } from 'node:stream';
import type { Config } from '../platform/config.ts';
import { DataDirLockedError } from '../platform/db/lock.ts';
import { CliError } from './commands.ts';
import { serverPid } from './socket-client.ts';

/** On PostgreSQL, backups are PostgreSQL's own. */
export function postgresBackupHint(url: string): string {
  const u = new URL(url);
  const db = decodeURIComponent(u.pathname.slice(1)) || 'flaghost';
  return `flaghost backup and restore are for the embedded database. On PostgreSQL use pg_dump and pg_restore (README "Backups"), e.g. pg_dump --format=custom --file=${db}.dump "$DATABASE_URL".`;
}

function fsyncPath(file: string): void {
  const fd = fs.openSync(file, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Writes a backup to `out` through `produce` (the server's socket, or the database the CLI opened),
 * then reads it back: a file that does not read whole is deleted and the command fails.
 */
export async function writeBackupFile(out: string, produce: (stream: Writable) => Promise<void>) {
  const file = path.resolve(out);
  const dir = path.dirname(file);
  if (!fs.existsSync(dir)) throw new CliError(`The directory ${dir} does not exist.`);
  if (fs.existsSync(file) && fs.statSync(file).isDirectory())
    throw new CliError(`${file} is a directory: give a file name, e.g. ${path.join(file, 'flaghost-backup.tar.gz')}.`);
  const partial = `${file}.partial-${process.pid}`;
  const stream = fs.createWriteStream(partial, { mode: 0o600, flags: 'w' });
  try {
    await produce(stream);
    if (!stream.writableFinished) await new Promise<void>((resolve, reject) => stream.once('finish', resolve).once('error', reject));
    fsyncPath(partial);
    fs.renameSync(partial, file);
    fsyncPath(dir);
  } catch (err) {
    stream.destroy();
    // The file is opened asynchronously: remove it only once the stream has let go of it.
    if (!stream.closed) await new Promise<void>((resolve) => stream.once('close', () => resolve()));
    fs.rmSync(partial, { force: true });
    throw err;
  }
  const { readBackup } = await import('../platform/db/embedded-backup.ts');
  const { manifest } = await readBackup(file).catch((err: Error) => {
    fs.rmSync(file, { force: true });
    throw new CliError(`The backup written to ${file} does not read back (${err.message}); it was deleted.`);
  });
  return {
    file,
    bytes: fs.statSync(file).size,
    created_at: manifest.created_at,
    data_dir: manifest.data_dir,
    payload_key: manifest.payload_key,
    counts: manifest.counts,
  };
}

/** Restores `file` into the configured data directory, which no server may be running on. */
export async function restoreFromFile(config: Config, file: string, force: boolean, io: { err: (s: string) => void }) {
  const dataDir = config.database.dataDir;
  const source = path.resolve(file);
  if (!fs.existsSync(source)) throw new CliError(`No such file: ${source}`);
  const pid = await serverPid(dataDir);
  if (pid !== undefined) {
    throw new CliError(`A flaghost server (pid ${pid}) is running on ${dataDir}: stop it before restoring (a restore replaces the database under it).`);
  }
  io.err(`flaghost: restoring ${source} into the embedded database in ${dataDir} (FLAGHOST_DATA_DIR)\n`);
  const { BackupError, RestoreRefusedError, restoreBackup } = await import('../platform/db/embedded-backup.ts');
  try {
    const r = await restoreBackup(source, config.database, force);
    if (r.manifest.payload_key === 'FLAGHOST_SECRET_KEY') {
      io.err(
        `flaghost: the backed-up server used FLAGHOST_SECRET_KEY: start this one with the same value (key fingerprint ${r.manifest.payload_key_fingerprint}).\n`,
      );
    }
    return {
      restored: true,
      data_dir: dataDir,
      file: source,
      backup_created_at: r.manifest.created_at,
      replaced_existing_database: r.replaced,
      payload_key: r.secretKeyRestored
        ? 'secret.key restored'
        : r.manifest.payload_key === 'FLAGHOST_SECRET_KEY'
          ? 'set FLAGHOST_SECRET_KEY as on the backed-up server'
          : 'none',
      counts: r.counts,
    };
  } catch (err) {
    if (err instanceof DataDirLockedError) throw new CliError(`${err.message} Stop it before restoring.`);
    if (err instanceof BackupError || err instanceof RestoreRefusedError) throw new CliError(err.message);
    throw err;
  }
}
