// How the CLI reads a password: from standard input when asked to (or when stdin is not a terminal),
// otherwise by prompting twice on the terminal without echo. The password is never printed.
import { CliError } from './commands.ts';

export type PasswordReader = (fromStdin: boolean) => Promise<string>;

async function readStdin(stream: NodeJS.ReadStream): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    size += (chunk as Buffer).length;
    // A password is short; refuse to buffer an accidental file.
    if (size > 64 * 1024) throw new CliError('Standard input is too long for a password.');
    chunks.push(chunk as Buffer);
  }
  // `echo pw | flaghost …` adds one newline: drop exactly one.
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

function promptHidden(question: string, stdin: NodeJS.ReadStream, stderr: NodeJS.WriteStream): Promise<string> {
  return new Promise((resolve, reject) => {
    stderr.write(question);
    let value = '';
    stdin.setRawMode(true);
    stdin.resume();
    stdin.setEncoding('utf8');
    const done = (error?: Error) => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.removeListener('data', onData);
      stderr.write('\n');
      if (error) reject(error);
      else resolve(value);
    };
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n') return done();
        if (ch === '\u0003') return done(new CliError('Cancelled.'));
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
        else value += ch;
      }
    };
    stdin.on('data', onData);
  });
}

/** The process's own reader: stdin when asked or piped, else a hidden prompt with confirmation. */
export const processPasswordReader: PasswordReader = async (fromStdin) => {
  const stdin = process.stdin;
  if (fromStdin || !stdin.isTTY) {
    const value = await readStdin(stdin);
    if (!value) throw new CliError('No password on standard input.');
    return value;
  }
  const first = await promptHidden('New password: ', stdin, process.stderr);
  const second = await promptHidden('New password (again): ', stdin, process.stderr);
  if (first !== second) throw new CliError('The two passwords did not match.');
  return first;
};
