// JSON parsing whose cost is bounded before the work starts. JSON.parse builds every nested array
// it meets (one megabyte of `[` is half a second and hundreds of megabytes), so nesting is checked
// first by a linear scan of the raw bytes. Large texts are then parsed piece by piece (the
// elements of the outer containers), yielding the event loop between pieces, so one large body
// never stalls the other requests. Python-style NaN/Infinity are read as null when asked.

/** Texts up to this size are parsed in one go (well under a millisecond of work). */
export const SYNC_PARSE_BYTES = 256 * 1024;
/** Work between two yields to the event loop when parsing in pieces. */
const SLICE_BYTES = 128 * 1024;
/** Pieces are grouped up to this size before each JSON.parse. */
const PIECE_BYTES = 64 * 1024;

export class JsonTooDeepError extends SyntaxError {
  constructor(readonly limit: number) {
    super(`nesting deeper than ${limit} levels`);
  }
}

export interface JsonOptions {
  /** Deepest nesting accepted (a top-level array or object is level 1). */
  maxDepth: number;
  /** Read NaN, Infinity and -Infinity outside strings as null (Python's json.dumps writes them). */
  lenient?: boolean;
}

const UTF8 = new TextDecoder();
const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const COMMA = 0x2c;
const COLON = 0x3a;

const isSpace = (c: number) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
const hasBom = (b: Uint8Array) => b.length >= 3 && b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf;

/**
 * Whether the text holds at most `limit` opening brackets, strings included. Then it cannot nest
 * deeper than `limit`, and the byte-by-byte scan below is not needed: counting through
 * Buffer#indexOf (memchr) costs a tenth of it for a /flags body.
 */
function fewOpenings(bytes: Uint8Array, limit: number): boolean {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let n = 0;
  for (let i = buf.indexOf(OPEN_OBJECT); i >= 0; i = buf.indexOf(OPEN_OBJECT, i + 1)) if (++n > limit) return false;
  for (let i = buf.indexOf(OPEN_ARRAY); i >= 0; i = buf.indexOf(OPEN_ARRAY, i + 1)) if (++n > limit) return false;
  return true;
}

/** Whether `bytes` nest arrays/objects deeper than `limit` (strings skipped; a linear scan). */
export function nestsDeeperThan(bytes: Uint8Array, limit: number): boolean {
  if (fewOpenings(bytes, limit)) return false;
  let depth = 0;
  let inString = false;
  for (let i = 0, n = bytes.length; i < n; i++) {
    const c = bytes[i];
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) inString = true;
    else if (c === OPEN_ARRAY || c === OPEN_OBJECT) {
      if (++depth > limit) return true;
    } else if (c === CLOSE_ARRAY || c === CLOSE_OBJECT) depth--;
  }
  return false;
}

/** NaN, Infinity and -Infinity outside strings → null, in one pass (slices, not characters). */
export function neutralizeNonFinite(text: string): string {
  const parts: string[] = [];
  let from = 0;
  let inString = false;
  for (let i = 0, n = text.length; i < n; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
      continue;
    }
    if (c === QUOTE) inString = true;
    else if (c === 0x4e /* N */ && text.startsWith('NaN', i)) {
      parts.push(text.slice(from, i), 'null');
      from = i + 3;
      i += 2;
    } else if (c === 0x49 /* I */ && text.startsWith('Infinity', i)) {
      const minus = i > 0 && text.charCodeAt(i - 1) === 0x2d;
      parts.push(text.slice(from, minus ? i - 1 : i), 'null');
      from = i + 8;
      i += 7;
    }
  }
  if (!parts.length) return text;
  parts.push(text.slice(from));
  return parts.join('');
}

function parseText(text: string, lenient: boolean | undefined): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    if (!lenient) throw err;
    return JSON.parse(neutralizeNonFinite(text));
  }
}

/** Parses a small UTF-8 text in one go, after the nesting check. Throws SyntaxError. */
export function parseJsonBytesSync(bytes: Uint8Array, opts: JsonOptions): unknown {
  if (nestsDeeperThan(bytes, opts.maxDepth)) throw new JsonTooDeepError(opts.maxDepth);
  return parseText(UTF8.decode(bytes), opts.lenient);
}

/** parseJsonBytesSync for small texts; larger ones are parsed in pieces between yields. */
export function parseJsonBytes(bytes: Uint8Array, opts: JsonOptions): unknown | Promise<unknown> {
  return bytes.length <= SYNC_PARSE_BYTES ? parseJsonBytesSync(bytes, opts) : parseJsonInPieces(bytes, opts);
}

// ---- parsing in pieces ------------------------------------------------------------------------

/** A growable list of byte offsets. */
class Offsets {
  data = new Uint32Array(64);
  length = 0;
  push(v: number): void {
    if (this.length === this.data.length) {
      const next = new Uint32Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = v;
  }
}

/** A large array or object: where it opens and closes, its direct commas, its large children. */
interface Container {
  open: number;
  close: number;
  isArray: boolean;
  commas: Uint32Array;
  /** The large containers among its children, by child index. */
  children?: Map<number, Container>;
}

/** An array or object still open during the scan. */
interface Open {
  open: number;
  isArray: boolean;
  /** Where its commas start in the shared comma list (they stay at its end while it is open). */
  commaFrom: number;
  childIndex: number;
  children?: Map<number, Container>;
}

/**
 * One pass over the bytes: the nesting limit, bracket matching, and the structure of every
 * container larger than a piece (its commas and its large children), which is what cutting the
 * text into pieces needs. Commas of small containers are dropped when they close, and those of a
 * large one are moved out, so the shared list only ever holds the open containers' commas.
 * Resumable, so the caller can yield between slices of a large text.
 */
class StructureScan {
  private inString = false;
  private escaped = false;
  private closed = false;
  private readonly stack: Open[] = [];
  private readonly commas = new Offsets();
  root?: Container;
  pos: number;

  constructor(
    private readonly bytes: Uint8Array,
    private readonly limit: number,
  ) {
    this.pos = hasBom(bytes) ? 3 : 0;
  }

  /** Scans up to `end`; throws SyntaxError on structure it can already tell is wrong. */
  step(end: number): void {
    const { bytes, limit, stack, commas } = this;
    let { inString, escaped } = this;
    for (let i = this.pos; i < end; i++) {
      const c = bytes[i];
      if (inString) {
        if (escaped) escaped = false;
        else if (c === BACKSLASH) escaped = true;
        else if (c === QUOTE) inString = false;
        continue;
      }
      if (stack.length === 0) {
        if (isSpace(c)) continue;
        if (this.closed || (c !== OPEN_ARRAY && c !== OPEN_OBJECT)) throw new SyntaxError('not a JSON array or object');
      }
      if (c === QUOTE) inString = true;
      else if (c === COMMA) {
        commas.push(i);
        stack[stack.length - 1].childIndex++;
      } else if (c === OPEN_ARRAY || c === OPEN_OBJECT) {
        if (stack.length >= limit) throw new JsonTooDeepError(limit);
        stack.push({ open: i, isArray: c === OPEN_ARRAY, commaFrom: commas.length, childIndex: 0 });
      } else if (c === CLOSE_ARRAY || c === CLOSE_OBJECT) {
        const top = stack.pop();
        if (!top || top.isArray !== (c === CLOSE_ARRAY)) throw new SyntaxError('mismatched brackets');
        const large = i - top.open > PIECE_BYTES || stack.length === 0;
        if (large) {
          const node: Container = {
            open: top.open,
            close: i,
            isArray: top.isArray,
            commas: commas.data.slice(top.commaFrom, commas.length),
            children: top.children,
          };
          const parent = stack[stack.length - 1];
          if (parent) (parent.children ??= new Map()).set(parent.childIndex, node);
          else {
            this.root = node;
            this.closed = true;
          }
        }
        commas.length = top.commaFrom;
      }
    }
    this.pos = end;
    this.inString = inString;
    this.escaped = escaped;
  }

  finish(): Container {
    if (!this.closed || this.stack.length !== 0 || this.inString) throw new SyntaxError('unexpected end of JSON input');
    return this.root!;
  }
}

/** Parses a large text in pieces, yielding between slices of work. Throws SyntaxError. */
export async function parseJsonInPieces(bytes: Uint8Array, opts: JsonOptions): Promise<unknown> {
  const scan = new StructureScan(bytes, opts.maxDepth);
  for (let end = Math.min(bytes.length, scan.pos + SLICE_BYTES); ; end = Math.min(bytes.length, end + SLICE_BYTES)) {
    scan.step(end);
    if (end === bytes.length) break;
    await yieldToEventLoop();
  }
  return new PieceReader(bytes, opts.lenient).container(scan.finish());
}

class PieceReader {
  private sinceYield = 0;

  constructor(
    private readonly bytes: Uint8Array,
    private readonly lenient: boolean | undefined,
  ) {}

  private text(from: number, to: number): string {
    return UTF8.decode(this.bytes.subarray(from, to));
  }

  private async account(size: number): Promise<void> {
    this.sinceYield += size;
    if (this.sinceYield >= SLICE_BYTES) {
      this.sinceYield = 0;
      await yieldToEventLoop();
    }
  }

  private onlySpace(from: number, to: number): boolean {
    for (let i = from; i < to; i++) if (!isSpace(this.bytes[i])) return false;
    return true;
  }

  /** The key of an object member whose value (a large container) starts at `valueOpen`. */
  private keyBefore(start: number, valueOpen: number): string {
    let end = valueOpen;
    while (end > start && isSpace(this.bytes[end - 1])) end--;
    if (end === start || this.bytes[end - 1] !== COLON) throw new SyntaxError('expected a colon');
    const key = JSON.parse(this.text(start, end - 1));
    if (typeof key !== 'string') throw new SyntaxError('object keys must be strings');
    return key;
  }

  async container(node: Container): Promise<unknown> {
    // Children are the ranges between the open bracket, the direct commas and the close bracket.
    const commas = node.commas;
    const count = commas.length > 0 || !this.onlySpace(node.open + 1, node.close) ? commas.length + 1 : 0;
    const out: unknown[] | Record<string, unknown> = node.isArray ? [] : {};
    let groupStart = -1;
    let groupEnd = -1;
    const flush = async () => {
      if (groupStart < 0) return;
      const text = this.text(groupStart, groupEnd);
      const parsed = parseText(node.isArray ? `[${text}]` : `{${text}}`, this.lenient);
      if (node.isArray) for (const v of parsed as unknown[]) (out as unknown[]).push(v);
      else assignAll(out as Record<string, unknown>, parsed as Record<string, unknown>);
      await this.account(groupEnd - groupStart);
      groupStart = -1;
    };
    for (let k = 0, start = node.open + 1; k < count; k++) {
      const end = k < commas.length ? commas[k] : node.close;
      const childStart = start;
      start = end + 1;
      const large = node.children?.get(k);
      if (large) {
        await flush();
        const key = node.isArray ? undefined : this.keyBefore(childStart, large.open);
        if ((node.isArray && !this.onlySpace(childStart, large.open)) || !this.onlySpace(large.close + 1, end)) throw new SyntaxError('unexpected token');
        const value = await this.container(large);
        if (node.isArray) (out as unknown[]).push(value);
        else assignAll(out as Record<string, unknown>, { [key!]: value });
        continue;
      }
      if (groupStart < 0) groupStart = childStart;
      groupEnd = end;
      if (groupEnd - groupStart >= PIECE_BYTES) await flush();
    }
    await flush();
    return out;
  }
}

/** Copies own properties in order; `__proto__` stays an ordinary key, as JSON.parse makes it. */
function assignAll(target: Record<string, unknown>, source: Record<string, unknown>): void {
  for (const key of Object.keys(source)) {
    if (key === '__proto__') Object.defineProperty(target, key, { value: source[key], writable: true, enumerable: true, configurable: true });
    else target[key] = source[key];
  }
}
