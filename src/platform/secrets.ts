// The payload-encryption secret: FLAGHOST_SECRET_KEY, or one generated once and kept in the data
// directory. The database remembers the key's fingerprint so a changed secret is refused at start.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Config } from './config.ts';
import type { Db } from './db/index.ts';
import { PayloadCipher } from './payload-crypto.ts';
import { setSettingIfAbsent } from './db/instance-settings.ts';
import { registerLogSecret } from './log-redaction.ts';

const FINGERPRINT_SETTING = 'payload_key_fingerprint';

export class SecretKeyMismatchError extends Error {}

/**
 * Creates the file and flushes it and its directory: the database keeps the key's fingerprint
 * durably, and a key lost to a power cut would make the server refuse to start and every
 * encrypted payload unreadable.
 */
function writeDurably(file: string, content: string): void {
  const fd = fs.openSync(file, 'wx', 0o600);
  try {
    fs.writeSync(fd, content);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  const dir = fs.openSync(path.dirname(file), 'r');
  try {
    fs.fsyncSync(dir);
  } finally {
    fs.closeSync(dir);
  }
}

function secretFromDataDir(dataDir: string): string {
  if (dataDir === ':memory:') return crypto.randomBytes(32).toString('hex');
  const file = path.join(dataDir, 'secret.key');
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  fs.mkdirSync(dataDir, { recursive: true });
  const secret = crypto.randomBytes(32).toString('hex');
  try {
    writeDurably(file, `${secret}\n`);
    return secret;
  } catch (err) {
    // Another process created it first: use theirs.
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return fs.readFileSync(file, 'utf8').trim();
    throw err;
  }
}

/** A lazily created cipher: the key file is only touched when a payload is first sealed or opened. */
export function payloadCipherProvider(config: Config): () => PayloadCipher {
  let cipher: PayloadCipher | undefined;
  return () => {
    if (cipher) return cipher;
    const secret = config.secretKey ?? secretFromDataDir(config.database.dataDir);
    registerLogSecret(secret);
    return (cipher = new PayloadCipher(secret));
  };
}

/** Refuses to run with a key other than the one this database's payloads were sealed with. */
export async function checkSecretKey(db: Db, cipher: PayloadCipher): Promise<void> {
  const stored = await setSettingIfAbsent(db, FINGERPRINT_SETTING, cipher.fingerprint());
  if (stored !== cipher.fingerprint()) {
    throw new SecretKeyMismatchError(
      'The payload encryption key differs from the one this database was set up with. Set FLAGHOST_SECRET_KEY ' +
        '(or restore secret.key in the data directory) to the original value; every instance must use the same key.',
    );
  }
}
