// Random API tokens (phx_/phc_/phs_), their stored SHA-256 form, and masks.
import crypto from 'node:crypto';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** Base-62 text of `bytes` random bytes, as PostHog generates key material. */
export function randomBase62(bytes: number): string {
  let n = BigInt('0x' + crypto.randomBytes(bytes).toString('hex'));
  let out = '';
  while (n > 0n) {
    out = BASE62[Number(n % 62n)] + out;
    n /= 62n;
  }
  return out.padStart(Math.ceil((bytes * 8) / Math.log2(62)), '0');
}

export const generatePersonalApiKey = () => `phx_${randomBase62(35)}`;
export const generateProjectToken = () => `phc_${randomBase62(32)}`;
export const generateSecretToken = () => `phs_${randomBase62(32)}`;
export const generateKeyId = () => randomBase62(16);

/** `sha256$<hex>`: how personal API keys are stored (unsalted, like PostHog). */
export function hashKeyValue(value: string): string {
  return 'sha256$' + crypto.createHash('sha256').update(value).digest('hex');
}

export function maskKeyValue(value: string): string {
  return `${value.slice(0, 4)}...${value.slice(-4)}`;
}
