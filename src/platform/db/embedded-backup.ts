// Backups of the embedded database (PGlite): a .tar.gz holding a manifest, the payload key when it
// lives in the data directory, and a copy of PGlite's data directory; and their restore.
//
// Why files, and how they stay consistent: PGlite is PostgreSQL in this process, and while a
// transaction runs no other statement can (src/platform/db/index.ts, `quiesce`), so nothing writes
// to its files meanwhile. The files are copied into a staging directory inside that transaction
// (a local copy: other database requests wait only that long, and SDK answers from memory go on),
// then tarred and gzipped from the copy at leisure. The copy is what a crash at that instant would
// leave (the WAL of every committed transaction since the last checkpoint included), and PostgreSQL
// recovers it when it next starts. No CHECKPOINT first: PGlite runs it on the event loop, and
// replaying the WAL at restore costs nothing while serving. Restoring does that start before
// anything replaces the target, and compares row counts with the manifest (counted in the same
// transaction as the copy). PGlite's own dumpDataDir() makes the same copy but reads every file
// synchronously on the event loop and holds the whole archive in memory twice: 0.6 s with nothing
// answered, measured on a fresh database on the 2-core development machine.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import type { DatabaseConfig } from '../config.ts';
import { openDatabase, type Database, type Rows } from './index.ts';
import { acquireDataDirLock } from './lock.ts';
import { readTar, TarFormatError, tarStream } from './tar.ts';

export const MANIFEST_NAME = 'flaghost-backup.json';
const SECRET_NAME = 'secret.key';
const PGLITE_NAME = 'pglite';
/** Files PostgreSQL's own base backups leave out: they describe the running process, not the data. */
const SKIPPED = new Set(['postmaster.pid', 'postmaster.opts']);
/** Tables whose row counts a backup records and a restore checks. */
const COUNTED = ['organizations', 'users', 'projects', 'personal_api_keys', 'feature_flags', 'cohorts', 'activity_log', 'persons'];

export interface BackupManifest {
  format: 'flaghost-backup';
  version: 1;
  created_at: string;
  /** The data directory backed up. */
  data_dir: string;
  /** PostgreSQL's version inside PGlite: a data directory only opens with the same major version. */
  postgres_version: string;
  /** `secret.key`: the archive holds it; `FLAGHOST_SECRET_KEY`: the restored server needs that variable. */
  payload_key: 'secret.key' | 'FLAGHOST_SECRET_KEY' | 'none yet';
  payload_key_fingerprint: string | null;
  counts: Record<string, number>;
}

export class BackupError extends Error {}

const countsQuery = () => `select ${COUNTED.map((t) => `(select count(*)::int from ${t}) as ${t}`).join(', ')}`;
const asCounts = (rows: Rows) => Object.fromEntries(Object.entries(rows[0]).map(([k, v]) => [k, Number(v)]));

/** Copies the files under `from` to `to` (created), several at a time: the database waits meanwhile. */
async function copyTree(from: string, to: string): Promise<void> {
  const files: string[] = [];
  const walk = async (rel: string) => {
    await fs.promises.mkdir(path.join(to, rel), { recursive: true, mode: 0o700 });
    for (const entry of await fs.promises.readdir(path.join(from, rel), { withFileTypes: true })) {
      if (SKIPPED.has(entry.name)) continue;
      if (entry.isDirectory()) await walk(path.join(rel, entry.name));
      else if (entry.isFile()) files.push(path.join(rel, entry.name));
    }
  };
  await walk('');
  let next = 0;
  const worker = async () => {
    while (next < files.length) {
      const rel = files[next++];
      await fs.promises.copyFile(path.join(from, rel), path.join(to, rel));
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
}

async function listTree(root: string, prefix: string): Promise<Array<{ name: string; path: string }>> {
  const out = [{ name: prefix, path: root }];
  for (const entry of (await fs.promises.readdir(root, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
    const full = path.join(root, entry.name);
    if (entry.isDirectory()) out.push(...(await listTree(full, `${prefix}/${entry.name}`)));
    else if (entry.isFile()) out.push({ name: `${prefix}/${entry.name}`, path: full });
  }
  return out;
}

function removeLeftovers(dataDir: string, prefix: string): void {
  for (const name of fs.readdirSync(dataDir)) {
    if (name.startsWith(prefix)) fs.rmSync(path.join(dataDir, name), { recursive: true, force: true });
  }
}

/**
 * Writes a backup of `database` (PGlite in `dataDir`) to `out`; returns its manifest, and how long
 * the database was held for the copy (other statements wait that long at most). Run by the
 * process that has the database open: the server (for `flaghost backup` on its socket) or the CLI.
 * `secretKeyFromEnv`: the server's payload key is FLAGHOST_SECRET_KEY, so secret.key is not its key.
 */
export async function writeBackup(
  database: Database,
  dataDir: string,
  secretKeyFromEnv: boolean,
  out: Writable,
): Promise<{ manifest: BackupManifest; copyMs: number }> {
  const files = database.embedded;
  if (!files) throw new BackupError('Backups of this kind are for the embedded database in a data directory.');
  // Only the process holding the data directory's lock writes here: older staging copies are leftovers.
  removeLeftovers(dataDir, 'backup-staging-');
  const staging = path.join(dataDir, `backup-staging-${process.pid}-${crypto.randomBytes(4).toString('hex')}`);
  try {
    let copyMs = 0;
    const snapshot = await files.quiesce(async (query) => {
      const started = performance.now();
      const counts = asCounts(await query(countsQuery()));
      const [version] = await query('show server_version');
      const [fingerprint] = await query(`select value from instance_settings where key = 'payload_key_fingerprint'`);
      await copyTree(files.dir, path.join(staging, PGLITE_NAME));
      copyMs = performance.now() - started;
      return { counts, version: String(version.server_version), fingerprint: (fingerprint?.value as string | undefined) ?? null };
    });
    const secretFile = path.join(dataDir, SECRET_NAME);
    const secret = !secretKeyFromEnv && fs.existsSync(secretFile) ? fs.readFileSync(secretFile, 'utf8') : undefined;
    const manifest: BackupManifest = {
      format: 'flaghost-backup',
      version: 1,
      created_at: new Date().toISOString(),
      data_dir: dataDir,
      postgres_version: snapshot.version,
      payload_key: secretKeyFromEnv ? 'FLAGHOST_SECRET_KEY' : secret !== undefined ? 'secret.key' : 'none yet',
      payload_key_fingerprint: snapshot.fingerprint,
      counts: snapshot.counts,
    };
    const entries = [
      { type: 'file' as const, name: MANIFEST_NAME, size: 0, content: JSON.stringify(manifest, null, 2) + '\n' },
      ...(secret !== undefined ? [{ type: 'file' as const, name: SECRET_NAME, size: 0, content: secret }] : []),
    ];
    const tree = await listTree(path.join(staging, PGLITE_NAME), PGLITE_NAME);
    // Large gzip chunks (each one is a trip through the thread pool and an event-loop turn), and the
    // fastest level: the CPU it takes is taken from the server answering meanwhile.
    await pipeline(Readable.from(tarStream(entries, tree)), zlib.createGzip({ level: 1, chunkSize: 256 * 1024 }), out);
    return { manifest, copyMs };
  } finally {
    await fs.promises.rm(staging, { recursive: true, force: true });
  }
}

/** A tar entry name that stays inside the directory it is extracted to. */
function safeName(name: string): string {
  const parts = name.split('/');
  if (name.startsWith('/') || name.includes('\\') || parts.some((p) => p === '..' || p === '.' || p === '')) {
    throw new BackupError(`The backup holds an unsafe path: ${JSON.stringify(name)}.`);
  }
  return name;
}

/** Reads a backup; writes PGlite's files under `into` when given. Returns the manifest and the payload key. */
export async function readBackup(file: string, into?: string): Promise<{ manifest: BackupManifest; secret?: string }> {
  const input = fs.createReadStream(file);
  const gunzip = zlib.createGunzip();
  input.on('error', (err) => gunzip.destroy(err));
  input.pipe(gunzip);
  let manifest: BackupManifest | undefined;
  let secret: string | undefined;
  let sawVersion = false;
  try {
    for await (const entry of readTar(gunzip)) {
      const collect = async () => {
        const chunks: Buffer[] = [];
        for await (const piece of entry.content) chunks.push(piece);
        return Buffer.concat(chunks).toString('utf8');
      };
      if (!manifest) {
        if (entry.name !== MANIFEST_NAME || entry.type !== 'file' || entry.size > 1024 * 1024) break;
        manifest = JSON.parse(await collect()) as BackupManifest;
        if (manifest.format !== 'flaghost-backup' || manifest.version !== 1) {
          throw new BackupError(`${file} is a flaghost backup of another format version (${manifest.version}) than this flaghost reads (1).`);
        }
        continue;
      }
      const name = safeName(entry.name);
      if (name === SECRET_NAME && entry.type === 'file') {
        secret = await collect();
        continue;
      }
      if (name !== PGLITE_NAME && !name.startsWith(`${PGLITE_NAME}/`)) throw new BackupError(`Unexpected entry in the backup: ${name}`);
      if (name === `${PGLITE_NAME}/PG_VERSION`) sawVersion = true;
      if (!into) continue;
      const target = path.join(into, name);
      if (entry.type === 'dir') {
        await fs.promises.mkdir(target, { recursive: true, mode: 0o700 });
        continue;
      }
      await fs.promises.mkdir(path.dirname(target), { recursive: true, mode: 0o700 });
      const handle = await fs.promises.open(target, 'wx', entry.mode & 0o777 || 0o600);
      try {
        for await (const piece of entry.content) await handle.write(piece);
      } finally {
        await handle.close();
      }
    }
  } catch (err) {
    if (err instanceof BackupError) throw err;
    const reason = err instanceof TarFormatError || err instanceof SyntaxError ? err.message : `${(err as Error).message} (not a gzip file, or a damaged one)`;
    throw new BackupError(`${file} is not a readable flaghost backup: ${reason}`);
  } finally {
    input.destroy();
  }
  if (!manifest) throw new BackupError(`${file} is not a flaghost backup (it does not start with ${MANIFEST_NAME}).`);
  if (!sawVersion) throw new BackupError(`${file} holds no database (no ${PGLITE_NAME}/PG_VERSION).`);
  return { manifest, secret };
}

function writeDurably(file: string, content: string): void {
  const tmp = `${file}.tmp-${process.pid}`;
  const fd = fs.openSync(tmp, 'w', 0o600);
  try {
    fs.writeSync(fd, content);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
}

function syncDir(dir: string): void {
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** What a data directory holds that a restore would replace. */
export function existingDatabase(dataDir: string): string | undefined {
  const pglite = path.join(dataDir, PGLITE_NAME);
  if (fs.existsSync(pglite) && fs.readdirSync(pglite).length) return pglite;
  const secret = path.join(dataDir, SECRET_NAME);
  return fs.existsSync(secret) ? secret : undefined;
}

export class RestoreRefusedError extends Error {}

export interface RestoreResult {
  manifest: BackupManifest;
  /** Row counts of the restored database (equal to the manifest's). */
  counts: Record<string, number>;
  secretKeyRestored: boolean;
  replaced: boolean;
}

/**
 * Restores `file` into `config.dataDir`, holding the directory's lock throughout (so no server
 * starts on it meanwhile). The database is extracted and started beside the current one, which is
 * replaced only once the restored one has opened and its row counts match the manifest.
 */
export async function restoreBackup(file: string, config: DatabaseConfig, force: boolean): Promise<RestoreResult> {
  const dataDir = config.dataDir;
  await readBackup(file);
  fs.mkdirSync(dataDir, { recursive: true });
  const lock = acquireDataDirLock(dataDir);
  const staging = path.join(dataDir, `restore-staging-${process.pid}`);
  try {
    const existing = existingDatabase(dataDir);
    if (existing && !force) {
      throw new RestoreRefusedError(
        `${dataDir} already holds a flaghost database (${existing}). Restore into an empty directory, or pass --force to replace it.`,
      );
    }
    removeLeftovers(dataDir, 'restore-staging-');
    fs.mkdirSync(staging, { mode: 0o700 });
    const { manifest, secret } = await readBackup(file, staging);
    // Starting PostgreSQL on the copy replays its WAL: the restored database is whole before it replaces anything.
    const restored = await openDatabase({ ...config, url: undefined, dataDir: staging });
    let counts: Record<string, number>;
    try {
      counts = await restored.embedded!.quiesce(async (query) => asCounts(await query(countsQuery())));
    } finally {
      await restored.close();
    }
    const differ = Object.entries(manifest.counts).filter(([table, n]) => counts[table] !== n);
    if (differ.length) {
      throw new BackupError(
        `The restored database differs from the backup's manifest (${differ.map(([t, n]) => `${t}: ${counts[t]} instead of ${n}`).join(', ')}); nothing was replaced.`,
      );
    }

    const target = path.join(dataDir, PGLITE_NAME);
    const replaced = fs.existsSync(target) ? `${target}.replaced-${process.pid}` : undefined;
    if (replaced) fs.renameSync(target, replaced);
    fs.renameSync(path.join(staging, PGLITE_NAME), target);
    const marker = path.join(dataDir, 'pglite.synced');
    fs.rmSync(marker, { force: true });
    if (fs.existsSync(path.join(staging, 'pglite.synced'))) fs.renameSync(path.join(staging, 'pglite.synced'), marker);
    const secretFile = path.join(dataDir, SECRET_NAME);
    if (secret !== undefined) writeDurably(secretFile, secret);
    else fs.rmSync(secretFile, { force: true });
    syncDir(dataDir);
    if (replaced) await fs.promises.rm(replaced, { recursive: true, force: true });
    return { manifest, counts, secretKeyRestored: secret !== undefined, replaced: Boolean(existing) };
  } finally {
    await fs.promises.rm(staging, { recursive: true, force: true });
    lock.release();
  }
}
