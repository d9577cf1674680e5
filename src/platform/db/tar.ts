// The tar format (POSIX ustar) of embedded-database backups: written and read as streams, regular
// files and directories only, so a backup is also readable with `tar tzf` and `tar xzf`.
import fs from 'node:fs';

const BLOCK = 512;
const MAX_SIZE = 8 ** 11 - 1; // 11 octal digits: 8 GiB
/** Files up to this size are read in one synchronous call (see tarStream). */
const SMALL_FILE = 256 * 1024;

export type TarEntry =
  | { type: 'dir'; name: string; mode?: number; mtime?: Date }
  | { type: 'file'; name: string; size: number; mode?: number; mtime?: Date; content: Buffer | string };

export class TarFormatError extends Error {}

function octal(buf: Buffer, offset: number, length: number, value: number): void {
  buf.write(value.toString(8).padStart(length - 1, '0') + '\0', offset, length, 'ascii');
}

/** Splits a path into ustar's prefix (155 bytes) and name (100 bytes). */
function splitName(name: string): [string, string] {
  if (Buffer.byteLength(name) <= 100) return ['', name];
  for (let i = name.indexOf('/'); i !== -1; i = name.indexOf('/', i + 1)) {
    const prefix = name.slice(0, i);
    const rest = name.slice(i + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(rest) <= 100 && rest) return [prefix, rest];
  }
  throw new TarFormatError(`Path too long for a tar entry: ${name}`);
}

function header(entry: { name: string; type: 'file' | 'dir'; size: number; mode: number; mtime: Date }): Buffer {
  if (entry.size > MAX_SIZE) throw new TarFormatError(`File too large for a tar entry: ${entry.name}`);
  const b = Buffer.alloc(BLOCK);
  const [prefix, name] = splitName(entry.type === 'dir' ? `${entry.name}/` : entry.name);
  b.write(name, 0, 100, 'utf8');
  octal(b, 100, 8, entry.mode & 0o7777);
  octal(b, 108, 8, 0);
  octal(b, 116, 8, 0);
  octal(b, 124, 12, entry.type === 'dir' ? 0 : entry.size);
  octal(b, 136, 12, Math.max(0, Math.floor(entry.mtime.getTime() / 1000)));
  b.fill(' ', 148, 156);
  b.write(entry.type === 'dir' ? '5' : '0', 156, 1, 'ascii');
  b.write('ustar\u000000', 257, 8, 'ascii');
  b.write(prefix, 345, 155, 'utf8');
  let sum = 0;
  for (const byte of b) sum += byte;
  b.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8, 'ascii');
  return b;
}

const padding = (size: number) => Buffer.alloc((BLOCK - (size % BLOCK)) % BLOCK);

/**
 * The tar stream of `entries`, then `files`: paths on disk stored under their entry name. A file
 * must not change while it is read (its size is in the header): the caller copies live files first.
 */
export async function* tarStream(entries: TarEntry[], files: Array<{ name: string; path: string }>): AsyncGenerator<Buffer> {
  for (const e of entries) {
    const mtime = e.mtime ?? new Date();
    if (e.type === 'dir') {
      yield header({ name: e.name, type: 'dir', size: 0, mode: e.mode ?? 0o700, mtime });
      continue;
    }
    const content = Buffer.from(e.content);
    yield header({ name: e.name, type: 'file', size: content.length, mode: e.mode ?? 0o600, mtime });
    yield content;
    yield padding(content.length);
  }
  for (const f of files) {
    const stat = await fs.promises.stat(f.path);
    if (stat.isDirectory()) {
      yield header({ name: f.name, type: 'dir', size: 0, mode: stat.mode, mtime: stat.mtime });
      continue;
    }
    yield header({ name: f.name, type: 'file', size: stat.size, mode: stat.mode, mtime: stat.mtime });
    let read = 0;
    if (stat.size <= SMALL_FILE) {
      // Most of a database's files are small: one synchronous read (microseconds from the page
      // cache) instead of several trips through the thread pool, each waiting for an event-loop
      // turn, which on a busy server made a backup crawl.
      const content = fs.readFileSync(f.path);
      read = content.length;
      yield content;
    } else {
      for await (const chunk of fs.createReadStream(f.path, { highWaterMark: 1024 * 1024 })) {
        read += (chunk as Buffer).length;
        yield chunk as Buffer;
      }
    }
    if (read !== stat.size) throw new TarFormatError(`${f.path} changed while it was read.`);
    yield padding(stat.size);
  }
  yield Buffer.alloc(BLOCK * 2);
}

/** Reads exact byte counts from a stream of chunks. */
class ByteReader {
  private buffered: Buffer[] = [];
  private length = 0;
  private done = false;

  constructor(private readonly source: AsyncIterator<Buffer>) {}

  private async fill(n: number): Promise<boolean> {
    while (this.length < n && !this.done) {
      const next = await this.source.next();
      if (next.done) this.done = true;
      else {
        this.buffered.push(next.value);
        this.length += next.value.length;
      }
    }
    return this.length >= n;
  }

  /** Exactly `n` bytes, or undefined at the end of the stream (a partial read is an error). */
  async read(n: number): Promise<Buffer | undefined> {
    if (!(await this.fill(n))) {
      if (this.length === 0) return undefined;
      throw new TarFormatError('The archive ends in the middle of an entry: the file is truncated.');
    }
    const all = this.buffered.length === 1 ? this.buffered[0] : Buffer.concat(this.buffered);
    const out = all.subarray(0, n);
    const rest = all.subarray(n);
    this.buffered = rest.length ? [rest] : [];
    this.length = rest.length;
    return out;
  }

  /** `n` bytes in pieces of at most 1 MiB; `progress.read` counts what was handed out. */
  async *pieces(n: number, progress: { read: number }): AsyncGenerator<Buffer> {
    while (progress.read < n) {
      const piece = await this.read(Math.min(n - progress.read, 1024 * 1024));
      if (!piece) throw new TarFormatError('The archive ends in the middle of a file: the file is truncated.');
      progress.read += piece.length;
      yield piece;
    }
  }
}

function field(b: Buffer, offset: number, length: number): string {
  const raw = b.subarray(offset, offset + length);
  const end = raw.indexOf(0);
  return raw.subarray(0, end === -1 ? length : end).toString('utf8');
}

function parseOctal(b: Buffer, offset: number, length: number): number {
  const text = field(b, offset, length).trim();
  if (!/^[0-7]*$/.test(text)) throw new TarFormatError('Not a tar archive (bad number in a header).');
  return text ? parseInt(text, 8) : 0;
}

export interface ReadEntry {
  type: 'file' | 'dir';
  name: string;
  size: number;
  mode: number;
  mtime: Date;
  /** The file's bytes; read them (or not) before asking for the next entry. */
  content: AsyncGenerator<Buffer>;
}

/**
 * The entries of a tar stream. Each header's checksum is verified, and the stream must end with
 * tar's end-of-archive blocks, so a truncated file is an error rather than a shorter archive.
 */
export async function* readTar(source: AsyncIterable<Buffer>): AsyncGenerator<ReadEntry> {
  const reader = new ByteReader(source[Symbol.asyncIterator]());
  for (;;) {
    const h = await reader.read(BLOCK);
    if (!h) throw new TarFormatError('The archive has no end-of-archive marker: the file is truncated.');
    if (h.every((byte) => byte === 0)) return;
    const stored = parseOctal(h, 148, 8);
    let sum = 0;
    for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : h[i];
    if (sum !== stored) throw new TarFormatError('Not a tar archive, or a damaged one (header checksum mismatch).');
    const type = String.fromCharCode(h[156] || 48);
    const prefix = field(h, 345, 155);
    const name = (prefix ? `${prefix}/` : '') + field(h, 0, 100);
    const size = parseOctal(h, 124, 12);
    if (type !== '0' && type !== '5') throw new TarFormatError(`Unexpected entry type ${JSON.stringify(type)} for ${name}.`);
    const length = type === '0' ? size : 0;
    const progress = { read: 0 };
    const content = reader.pieces(length, progress);
    yield {
      type: type === '5' ? 'dir' : 'file',
      name: name.replace(/\/+$/, ''),
      size,
      mode: parseOctal(h, 100, 8),
      mtime: new Date(parseOctal(h, 136, 12) * 1000),
      content,
    };
    // Whatever the consumer did not read is skipped, then the padding.
    for await (const _ of reader.pieces(length, progress)) void _;
    if (type === '0' && size % BLOCK) await reader.read(BLOCK - (size % BLOCK));
  }
}
