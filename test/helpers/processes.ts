// flaghost as an operator runs it: the server (`node --import tsx src/server.ts`) and the CLI
// (`bin/flaghost.mjs`) in child processes, with only the flaghost variables a test gives them.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ENV_VARIABLES } from '../../src/platform/config.ts';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const BIN = path.join(ROOT, 'bin', 'flaghost.mjs');

/** This process's environment minus every flaghost variable (and NODE_OPTIONS), plus `extra`. */
export function processEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of ENV_VARIABLES) delete env[name];
  delete env.NODE_OPTIONS;
  return { ...env, ...extra };
}

export interface ServerProcess {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
  /** The http://127.0.0.1:<port> the server listens on, once it does. */
  url: () => Promise<string>;
  /** SIGTERM, then the exit code. */
  stop: () => Promise<number | null>;
}

const running: ChildProcess[] = [];

/** Kills whatever a test left running (call from afterAll). */
export function killAll(): void {
  for (const child of running) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

/** Starts a server; PORT defaults to 0 (any free port). */
export function startServer(env: Record<string, string>, cwd = ROOT): ServerProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/server.ts')], {
    cwd,
    env: processEnv({ PORT: '0', ...env }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.push(child);
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    child,
    output: () => output,
    exited,
    async url() {
      for (let i = 0; i < 1200; i++) {
        // The CLI's socket, when there is one, is the last thing a server on the embedded database opens.
        const ready = env.DATABASE_URL ? true : /the CLI reaches this server through its socket|CLI cannot run beside/.test(output);
        const match = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
        if (match && ready) return match[1];
        if (child.exitCode !== null) throw new Error(`server exited (${child.exitCode}): ${output}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`server did not start: ${output}`);
    },
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON (undefined when empty or not JSON). */
  out: any;
  /** The last stderr line parsed as JSON (undefined when empty or not JSON). */
  err: any;
  ms: number;
}

function parseJson(text: string): unknown {
  try {
    return text.trim() ? JSON.parse(text) : undefined;
  } catch {
    return undefined;
  }
}

/** `flaghost <args>` in a child process, as a person runs it. */
export function cli(env: Record<string, string>, args: string[], options: { cwd?: string; stdin?: string } = {}): Promise<CliResult> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: options.cwd ?? ROOT, env: processEnv(env), stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      resolve({ code, stdout, stderr, out: parseJson(stdout), err: parseJson(stderr.trim().split('\n').at(-1) ?? ''), ms: performance.now() - started });
    });
    child.stdin.end(options.stdin ?? '');
  });
}
