// Encrypted payloads (docs/compatibility.md#api-3.8): what a write stores, and what a management
// caller sees.
import type { PayloadCipher } from '../platform/payload-crypto.ts';
import { REDACTED_PAYLOAD } from '../platform/payload-crypto.ts';
import type { FeatureFlagRow } from './repository.ts';

type Filters = Record<string, unknown>;

const payloadsOf = (filters: Filters | undefined): Record<string, unknown> | undefined => {
  const p = filters?.payloads;
  return p && typeof p === 'object' && !Array.isArray(p) ? (p as Record<string, unknown>) : undefined;
};

function safeOpen(cipher: PayloadCipher, value: unknown): unknown {
  try {
    return cipher.open(value);
  } catch {
    return value;
  }
}

/**
 * The filters to store given the flag's encryption setting: payloads are sealed when encrypted
 * (keeping the stored ciphertext for the redacted placeholder or an unchanged plaintext, so that
 * re-saving a flag does not churn its activity log) and opened when encryption is turned off.
 */
export function storedFilters(cipher: PayloadCipher, next: Filters, previous: Filters | undefined, encrypted: boolean): Filters {
  const payloads = payloadsOf(next);
  if (!payloads) return next;
  const before = payloadsOf(previous) ?? {};
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(payloads)) {
    const old = before[key];
    if (!encrypted) {
      out[key] = value === REDACTED_PAYLOAD && old !== undefined ? safeOpen(cipher, old) : safeOpen(cipher, value);
      continue;
    }
    if (cipher.isSealed(value)) out[key] = value;
    else if (value === REDACTED_PAYLOAD && old !== undefined) out[key] = old;
    else {
      const plain = typeof value === 'string' ? value : JSON.stringify(value);
      out[key] = cipher.isSealed(old) && safeOpen(cipher, old) === plain ? old : cipher.seal(plain);
    }
  }
  return { ...next, payloads: out };
}

/** Payloads as a personal-API-key or project-secret caller sees them: decrypted. */
export function visiblePayloads(cipher: PayloadCipher) {
  return (flag: FeatureFlagRow, payloads: Record<string, unknown>): Record<string, unknown> =>
    flag.hasEncryptedPayloads ? Object.fromEntries(Object.entries(payloads).map(([k, v]) => [k, safeOpen(cipher, v)])) : payloads;
}
