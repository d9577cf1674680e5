// How the embedded database (PGlite) reaches the disk: its start-up parameters and a Node
// filesystem whose fsync is real.
//
// PGlite runs PostgreSQL compiled to WebAssembly over Emscripten's NODEFS, which maps open, read
// and write to Node's fs but has no fsync: PostgreSQL's fsync() returns success without flushing
// anything, and fdatasync() is a no-op in the runtime whatever the filesystem. PGlite also starts
// PostgreSQL with `-F` (fsync=off). So by default nothing the embedded database writes is ever
// flushed: a power loss or a kernel crash can lose acknowledged commits or leave data pages and
// WAL out of step (a corrupt data directory). A crash of the process alone loses nothing, because
// the kernel still holds the written pages. (PGlite's relaxedDurability option is another matter:
// it only lets queries return before an asynchronous filesystem, such as IndexedDB, has synced;
// NodeFS has nothing to sync there.)
import fs from 'node:fs';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { NodeFS } from '@electric-sql/pglite/nodefs';

/**
 * Files PostgreSQL keeps open at most (max_files_per_process; it closes the least recently used
 * beyond). Each is a real file descriptor of this process, so it is part of the budget the HTTP
 * server's connection limit leaves room for. PostgreSQL's default (1,000) would let the database
 * alone exhaust a 1,024 open-files limit.
 */
export const PGLITE_MAX_OPEN_FILES = 128;

/** PGlite's own start-up parameters, with or without fsync. */
export function pgliteStartParams(fsyncOn: boolean): string[] {
  const params = PGlite.defaultStartParams.filter((p) => !(fsyncOn && p === '-F'));
  params.push('-c', `max_files_per_process=${PGLITE_MAX_OPEN_FILES}`);
  // fdatasync (PostgreSQL's default on Linux) flushes nothing here; fsync goes through DurableNodeFS.
  if (fsyncOn) params.push('-c', 'wal_sync_method=fsync');
  return params;
}

interface EmscriptenStream {
  nfd?: number;
}
interface EmscriptenModule {
  NODEFS: { stream_ops: Record<string, unknown>; tryFSOperation?: <T>(op: () => T) => T };
}

/** NODEFS with an fsync that flushes the host file (PostgreSQL's WAL at each commit, data files at checkpoints). */
export class DurableNodeFS extends NodeFS {
  override async init(pg: PGlite, opts: Parameters<NodeFS['init']>[1]) {
    const result = await super.init(pg, opts);
    const preRun = result.emscriptenOpts.preRun ?? [];
    result.emscriptenOpts.preRun = [
      ...(Array.isArray(preRun) ? preRun : [preRun]),
      (mod: EmscriptenModule) => {
        // A failed flush must reach PostgreSQL as an errno (it then refuses to go on, as it
        // should), not as a JavaScript exception thrown through the WebAssembly stack.
        const run = mod.NODEFS.tryFSOperation?.bind(mod.NODEFS) ?? (<T>(op: () => T) => op());
        mod.NODEFS.stream_ops.fsync = (stream: EmscriptenStream) => {
          if (stream.nfd !== undefined) run(() => fs.fsyncSync(stream.nfd!));
          return 0;
        };
      },
    ];
    return result;
  }
}

/**
 * Flushes every file and directory under `dir` once (what `initdb --sync-only` does), unless the
 * `marker` file says it was done and fsync stayed on since. A data directory written with fsync
 * off (by PGlite's initdb, or an older flaghost, or FLAGHOST_EMBEDDED_FSYNC=off) may still have
 * pages only in the kernel's cache; once this returns they are on disk, and fsync at each commit
 * and checkpoint keeps it so. (After an unclean stop with fsync on, PostgreSQL syncs the data
 * directory itself before recovering.)
 */
export function syncDataDirOnce(dir: string, marker: string): void {
  if (fs.existsSync(marker)) return;
  syncTree(dir);
  fs.writeFileSync(marker, 'The embedded database was flushed to disk with fsync on; see FLAGHOST_EMBEDDED_FSYNC.\n');
  syncPath(marker);
  syncPath(path.dirname(marker));
}

/** With fsync off, what is written from now on may not reach the disk: the next fsync-on start syncs again. */
export function forgetDataDirSynced(marker: string): void {
  fs.rmSync(marker, { force: true });
}

function syncTree(dir: string): void {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) syncTree(full);
    else if (entry.isFile()) syncPath(full);
  }
  syncPath(dir);
}

function syncPath(file: string): void {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (err) {
    // Windows cannot open (nor flush) a directory; its file system journals the entries itself.
    if ((err as NodeJS.ErrnoException).code === 'EISDIR' || (err as NodeJS.ErrnoException).code === 'EPERM') return;
    throw err;
  }
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}
