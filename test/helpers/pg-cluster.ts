// A throwaway PostgreSQL cluster for outage tests: its own data directory and port, started with
// pg_ctl, and stopped, killed (SIGKILL) or frozen (SIGSTOP) on demand. Run as root (CI), the
// server runs as the `postgres` user; run as anyone else, as that user. remove() cleans up, and a
// process exit hook kills the server and deletes the directory if a test run dies first.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

/** The bin directory of the newest PostgreSQL installed the Debian way, else the one on PATH. */
function binDir(): string {
  const base = '/usr/lib/postgresql';
  const versions = fs.existsSync(base)
    ? fs
        .readdirSync(base)
        .filter((v) => /^\d+$/.test(v))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  for (const v of versions) if (fs.existsSync(path.join(base, v, 'bin', 'pg_ctl'))) return path.join(base, v, 'bin');
  return execFileSync('pg_config', ['--bindir'], { encoding: 'utf8' }).trim();
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** State and parent pid of a live process, from /proc (no procps needed); undefined once it is gone. */
function statOf(pid: number): { state: string; parent: number } | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name is in parentheses and may contain spaces: read after the last ')'.
    const [state, parent] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // A zombie has exited; a container's init may never reap it.
    return state === 'Z' ? undefined : { state, parent: Number(parent) };
  } catch {
    return undefined;
  }
}

const alive = (pid: number) => statOf(pid) !== undefined;

function childrenOf(pid: number): number[] {
  return fs
    .readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map(Number)
    .filter((child) => statOf(child)?.parent === pid);
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // Already gone.
  }
}

export class PgCluster {
  readonly url: string;
  private frozen: number[] = [];
  private removed = false;
  private readonly onExit = () => this.removeSync();

  private constructor(
    readonly dir: string,
    readonly port: number,
    private readonly bin: string,
  ) {
    this.url = `postgres://postgres@127.0.0.1:${port}/postgres`;
    process.on('exit', this.onExit);
  }

  /** initdb in a fresh temporary directory, then start the server on a free port. */
  static async create(): Promise<PgCluster> {
    const bin = binDir();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flaghost-pg-'));
    if (isRoot) execFileSync('chown', ['postgres:postgres', dir]);
    const cluster = new PgCluster(dir, await freePort(), bin);
    try {
      cluster.run('initdb', ['-D', path.join(dir, 'data'), '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']);
      cluster.start();
    } catch (error) {
      cluster.removeSync();
      throw error;
    }
    return cluster;
  }

  private run(tool: string, args: string[]): void {
    const command = path.join(this.bin, tool);
    const result = isRoot
      ? spawnSync('runuser', ['-u', 'postgres', '--', command, ...args], { encoding: 'utf8' })
      : spawnSync(command, args, { encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`${tool} failed (${result.status}): ${result.stderr || result.stdout}`);
  }

  /** Starts the server (again) and waits until it accepts connections. */
  start(): void {
    const options = `-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off -c max_connections=50`;
    this.run('pg_ctl', ['-D', path.join(this.dir, 'data'), '-o', options, '-l', path.join(this.dir, 'server.log'), '-w', '-t', '60', 'start']);
  }

  /** An immediate shutdown (what `pg_ctl stop -m immediate` does: no checkpoint, connections cut). */
  stop(): void {
    this.run('pg_ctl', ['-D', path.join(this.dir, 'data'), '-m', 'immediate', '-w', 'stop']);
  }

  /** The postmaster's pid while it runs. */
  postmasterPid(): number | undefined {
    try {
      const pid = Number(fs.readFileSync(path.join(this.dir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0]);
      return Number.isInteger(pid) && pid > 0 && alive(pid) ? pid : undefined;
    } catch {
      return undefined;
    }
  }

  /** The postmaster and every process it forked (backends, checkpointer, walwriter…). */
  private processes(): number[] {
    const root = this.postmasterPid();
    return root === undefined ? [] : [root, ...childrenOf(root)];
  }

  /** A crash: SIGKILL to the postmaster and its children at once. Returns when they are gone. */
  async kill(): Promise<void> {
    const pids = this.processes();
    for (const pid of pids) signal(pid, 'SIGKILL');
    for (let i = 0; i < 200 && pids.some(alive); i++) await new Promise((r) => setTimeout(r, 10));
    // A container's init may never reap the dead postmaster, and PostgreSQL takes a zombie for a
    // running server: drop its lock files, as a reboot after a crash would.
    if (pids.some(alive)) return;
    for (const file of [
      path.join(this.dir, 'data', 'postmaster.pid'),
      path.join(this.dir, `.s.PGSQL.${this.port}.lock`),
      path.join(this.dir, `.s.PGSQL.${this.port}`),
    ]) {
      fs.rmSync(file, { force: true });
    }
  }

  /** A hung server: SIGSTOP to the postmaster and its children (connections stay open, nothing answers). */
  freeze(): void {
    this.frozen = this.processes();
    for (const pid of this.frozen) signal(pid, 'SIGSTOP');
  }

  thaw(): void {
    for (const pid of this.frozen) signal(pid, 'SIGCONT');
    this.frozen = [];
  }

  /** Stops the server whatever its state and deletes the directory. */
  async remove(): Promise<void> {
    this.removeSync();
  }

  private removeSync(): void {
    if (this.removed) return;
    this.removed = true;
    process.off('exit', this.onExit);
    this.thaw();
    for (const pid of this.processes()) signal(pid, 'SIGKILL');
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
