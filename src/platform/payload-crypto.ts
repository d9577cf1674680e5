// Encryption of flag payloads at rest (AES-256-GCM): `fhenc:v1:<base64 iv|tag|ciphertext>`.
import crypto from 'node:crypto';

const PREFIX = 'fhenc:v1:';
export const REDACTED_PAYLOAD = '********* (encrypted)';

export class PayloadCipher {
  private readonly key: Buffer;

  /** `secret` is any high-entropy string; the AES key is derived from it. */
  constructor(secret: string) {
    this.key = crypto.createHash('sha256').update(`flaghost-payloads:${secret}`).digest();
  }

  /** A value that identifies the key without revealing it, to detect a changed secret. */
  fingerprint(): string {
    return crypto.createHmac('sha256', this.key).update('flaghost-key-check').digest('hex').slice(0, 32);
  }

  isSealed(value: unknown): value is string {
    return typeof value === 'string' && value.startsWith(PREFIX);
  }

  seal(plaintext: string): string {
    const iv = crypto.randomBytes(12);
    const cipher = crypto.createCipheriv('aes-256-gcm', this.key, iv);
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return PREFIX + Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64');
  }

  /** The plaintext of a sealed value; anything else is returned unchanged. Throws on a wrong key. */
  open(value: unknown): unknown {
    if (!this.isSealed(value)) return value;
    const raw = Buffer.from(value.slice(PREFIX.length), 'base64');
    const decipher = crypto.createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, 12));
    decipher.setAuthTag(raw.subarray(12, 28));
    return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
  }

  /** Seals every payload value (non-strings are sealed as their JSON text). */
  sealAll(payloads: Record<string, unknown>): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(payloads)) out[k] = this.isSealed(v) ? v : this.seal(typeof v === 'string' ? v : JSON.stringify(v));
    return out;
  }

  openAll(payloads: Record<string, unknown>): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(payloads)) out[k] = this.open(v);
    return out;
  }
}
