// SHA-1 in JavaScript for the bucketing hashes (hash.ts), which read only the first 60 bits of
// the digest. A /flags request hashes ~25 short ASCII strings; node's one-shot crypto.hash costs
// ~320 ns each (a C++ call, a UTF-8 copy, an OpenSSL context and a result string), this ~180 ns.
// Anything that is not ASCII goes to node:crypto, so the bytes hashed are always UTF-8.
import crypto from 'node:crypto';

/**
 * The 80-round compression of one 64-byte block read big-endian from `m` at `off`, fully
 * unrolled with the 16 schedule words in locals: V8 keeps them in registers, which makes it twice
 * as fast as the loop form (typed-array reads and writes every round). The source is generated
 * once here from constants only, rather than written out by hand.
 */
function buildCompress(): (h: Int32Array, m: DataView, off: number) => void {
  const names = ['a', 'b', 'c', 'd', 'e'];
  const lines: string[] = [];
  for (let i = 0; i < 16; i++) lines.push(`let w${i} = m.getInt32(off + ${i * 4});`);
  lines.push('let a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], x = 0;');
  for (let t = 0; t < 80; t++) {
    // Instead of shifting a→b→c→d→e each round, the names rotate.
    const [A, B, C, D, E] = [0, 1, 2, 3, 4].map((k) => names[(k - (t % 5) + 5) % 5]);
    const word = `w${t & 15}`;
    if (t >= 16) lines.push(`x = w${(t - 3) & 15} ^ w${(t - 8) & 15} ^ w${(t - 14) & 15} ^ ${word}; ${word} = (x << 1) | (x >>> 31);`);
    const [f, k] =
      t < 20
        ? [`((${B} & ${C}) | (~${B} & ${D}))`, 0x5a827999]
        : t < 40
          ? [`(${B} ^ ${C} ^ ${D})`, 0x6ed9eba1]
          : t < 60
            ? [`((${B} & ${C}) | (${B} & ${D}) | (${C} & ${D}))`, 0x8f1bbcdc | 0]
            : [`(${B} ^ ${C} ^ ${D})`, 0xca62c1d6 | 0];
    lines.push(`${E} = (((${A} << 5) | (${A} >>> 27)) + ${f} + ${E} + ${word} + (${k})) | 0; ${B} = (${B} << 30) | (${B} >>> 2);`);
  }
  lines.push('h[0] = (h[0] + a) | 0; h[1] = (h[1] + b) | 0; h[2] = (h[2] + c) | 0; h[3] = (h[3] + d) | 0; h[4] = (h[4] + e) | 0;');
  return new Function('h', 'm', 'off', lines.join('\n')) as (h: Int32Array, m: DataView, off: number) => void;
}

const compress = buildCompress();
const H = new Int32Array(5);
/** Two blocks: messages up to 119 bytes (flag key, id and salt); longer ones go to node:crypto. */
const CAPACITY = 128;

/**
 * A message buffer and what it holds. A request hashes its bucketing value with one flag key
 * after another (`key + "." + id + salt`): when the key has the length of the previous one and
 * the rest is the same, the padded message differs only in the key's bytes, so only those are
 * written again (docs/architecture.md#flags-the-hot-path). The compression only reads the buffer.
 */
class Message {
  readonly bytes = new Uint8Array(CAPACITY);
  readonly view = new DataView(this.bytes.buffer);
  /** Length of the first part of the message held, -1 when it holds nothing reusable. */
  firstLength = -1;
  second = '';
  third = '';
  fourth = '';
  /** Blocks of the message held: 1 or 2. */
  blocks = 1;

  /** Writes an ASCII string at `pos`; -1 when it is not ASCII or does not fit. */
  put(s: string, pos: number): number {
    if (pos < 0 || pos + s.length > CAPACITY - 9) return -1;
    const m = this.bytes;
    for (let i = 0; i < s.length; i++) {
      const ch = s.charCodeAt(i);
      if (ch > 0x7f) return -1;
      m[pos++] = ch;
    }
    return pos;
  }

  /** Fills the buffer with the padded message `a + b + c + d`; false when it must go to node:crypto. */
  fill(a: string, b: string, c: string, d: string): boolean {
    if (a.length === this.firstLength && c === this.third && b === this.second && d === this.fourth) {
      if (this.put(a, 0) >= 0) return true;
      this.firstLength = -1;
      return false;
    }
    let n = this.put(d, this.put(c, this.put(b, this.put(a, 0))));
    if (n < 0) {
      this.firstLength = -1;
      return false;
    }
    // Padding: 0x80, zeros up to the last 8 bytes of the block, then the length in bits.
    const bits = n * 8;
    this.bytes[n++] = 0x80;
    const end = n <= 56 ? 64 : 128;
    this.bytes.fill(0, n, end - 4);
    this.view.setInt32(end - 4, bits);
    this.blocks = end >>> 6;
    this.firstLength = a.length;
    this.second = b;
    this.third = c;
    this.fourth = d;
    return true;
  }
}

// Rollout hashes (no salt) and variant hashes alternate within a request: one buffer for each.
const UNSALTED = new Message();
const SALTED = new Message();

/** The first 60 bits of SHA-1(UTF-8(`a + b + c + d`)) as a number (one rounding to double, as parseInt does). */
export function sha1First60Bits(a: string, b: string, c: string, d = ''): number {
  const message = d === '' ? UNSALTED : SALTED;
  if (!message.fill(a, b, c, d)) return nativeFirst60Bits(a + b + c + d);
  H[0] = 0x67452301;
  H[1] = 0xefcdab89 | 0;
  H[2] = 0x98badcfe | 0;
  H[3] = 0x10325476;
  H[4] = 0xc3d2e1f0 | 0;
  compress(H, message.view, 0);
  if (message.blocks === 2) compress(H, message.view, 64);
  return (H[0] >>> 0) * 0x10000000 + (H[1] >>> 4);
}

type OneShotHash = (algorithm: string, data: string, outputEncoding: 'latin1') => string;
const oneShot: OneShotHash | undefined = (crypto as unknown as { hash?: OneShotHash }).hash;

/** The same 60 bits through node:crypto (UTF-8 input of any kind). */
export function nativeFirst60Bits(input: string): number {
  const d = oneShot
    ? oneShot('sha1', input, 'latin1')
    : crypto
        .createHash('sha1')
        .update(input, 'utf8')
        .digest('latin1' as 'hex');
  // The first 15 hex digits: bytes 0–3, then bytes 4–6 and the high nibble of byte 7.
  const high = d.charCodeAt(0) * 0x1000000 + ((d.charCodeAt(1) << 16) | (d.charCodeAt(2) << 8) | d.charCodeAt(3));
  const low = (d.charCodeAt(4) << 20) | (d.charCodeAt(5) << 12) | (d.charCodeAt(6) << 4) | (d.charCodeAt(7) >>> 4);
  return high * 0x10000000 + low;
}
