// Child processes and temporary resources of a benchmark run, released on every way out: normal
// end, an error, Ctrl-C (SIGINT), SIGTERM, and (children and directories only) a sudden exit.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';

export interface Child {
  name: string;
  process: ChildProcess;
  /** The last lines the child wrote (stdout and stderr), for error messages. */
  tail(): string;
  /** Resolves with the exit code (or signal) when the child is gone. */
  exited: Promise<string>;
}

const children = new Set<Child>();
const tempDirs = new Set<string>();
const asyncCleanups: Array<() => Promise<void>> = [];
let cleaning: Promise<void> | undefined;
let signalled = false;

/** Whether a signal is stopping the run (errors from killed children are expected then). */
export function interrupted(): boolean {
  return signalled;
}

export function trackTempDir(dir: string): void {
  tempDirs.add(dir);
}

/** Registers asynchronous cleanup (dropping a database) run once, after the children are stopped. */
export function onCleanup(fn: () => Promise<void>): void {
  asyncCleanups.push(fn);
}

export function startChild(name: string, command: string, args: string[], options: SpawnOptions): Child {
  const proc = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const collect = (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (line.trim() === '') continue;
      lines.push(line);
      if (lines.length > 40) lines.shift();
    }
  };
  proc.stdout?.on('data', collect);
  proc.stderr?.on('data', collect);
  const exited = new Promise<string>((resolve) => {
    proc.once('exit', (code, signal) => resolve(signal ?? String(code)));
    proc.once('error', (err) => resolve(`spawn error: ${err.message}`));
  });
  const child: Child = { name, process: proc, tail: () => lines.join('\n'), exited };
  children.add(child);
  void exited.then(() => children.delete(child));
  return child;
}

/** SIGTERM, then SIGKILL after `graceMs` if the child is still there. */
export async function stopChild(child: Child, graceMs = 10_000): Promise<void> {
  if (child.process.exitCode !== null || child.process.signalCode !== null) return;
  child.process.kill('SIGTERM');
  const timer = setTimeout(() => child.process.kill('SIGKILL'), graceMs);
  await child.exited;
  clearTimeout(timer);
}

/** First JSON line a child prints on stdout (the reference server prints its port this way). */
export function firstJsonLine<T>(child: Child, timeoutMs = 15_000): Promise<T> {
  return new Promise((resolve, reject) => {
    let buffered = '';
    const timer = setTimeout(() => reject(new Error(`${child.name} did not start within ${timeoutMs} ms:\n${child.tail()}`)), timeoutMs);
    child.process.stdout?.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      const newline = buffered.indexOf('\n');
      if (newline >= 0) {
        clearTimeout(timer);
        try {
          resolve(JSON.parse(buffered.slice(0, newline)) as T);
        } catch (err) {
          reject(err);
        }
      }
    });
    void child.exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${child.name} exited (${code}) before starting:\n${child.tail()}`));
    });
  });
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export interface HttpResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** One request with exactly the given headers (unlike fetch, no Accept-Encoding is added). */
export function request(url: string, options: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<HttpResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: options.method ?? 'GET', headers: options.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.setTimeout(30_000, () => req.destroy(new Error(`timeout: ${options.method ?? 'GET'} ${url}`)));
    req.end(options.body);
  });
}

/** Stops every child, runs the registered cleanups and removes the temporary directories. */
export function cleanupAll(): Promise<void> {
  cleaning ??= (async () => {
    await Promise.all(
      [...children].map((c) => stopChild(c, 5_000).catch((err) => process.stderr.write(`stopping a child process failed: ${(err as Error).message}\n`))),
    );
    for (const fn of asyncCleanups.splice(0).reverse()) {
      await fn().catch((err) => process.stderr.write(`cleanup failed: ${(err as Error).message}\n`));
    }
    removeTempDirs();
  })();
  return cleaning;
}

function removeTempDirs(): void {
  for (const dir of tempDirs) {
    try {
      fs.rmSync(dir, { recursive: true, force: true });
    } catch {
      // best effort
    }
    tempDirs.delete(dir);
  }
}

/** Installs the handlers: signals clean up then exit; a sudden exit still kills children. */
export function installExitHandlers(): void {
  const onSignal = (signal: NodeJS.Signals) => {
    signalled = true;
    process.stderr.write(`\n${signal}: stopping the benchmark, cleaning up…\n`);
    const force = setTimeout(() => process.exit(130), 15_000);
    force.unref();
    void cleanupAll().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  process.on('exit', () => {
    for (const child of children) {
      try {
        child.process.kill('SIGKILL');
      } catch {
        // already gone
      }
    }
    removeTempDirs();
  });
}
