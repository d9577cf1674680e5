// The embedded database on a data directory: durable by default (fsync on, and a commit's WAL
// really flushed with fsync(2) before the API answers), and FLAGHOST_EMBEDDED_FSYNC=off as the
// explicit, documented opposite. Runs on PGlite whatever DATABASE_URL says.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import supertest from 'supertest';
import { afterAll, afterEach, describe, expect, inject, it, vi } from 'vitest';
import { buildApp } from '../../../src/app.ts';
import { loadConfig } from '../../../src/platform/config.ts';
import { openDatabase } from '../../../src/platform/db/index.ts';
import { bootstrap } from '../../../src/access/organizations/admin.ts';

const ADMIN_KEY = 'phx_durabilitykey000000000000000000000000';
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'flaghost-durability-'));

afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
afterEach(() => vi.restoreAllMocks());

/** The migrated template the other tests clone (built only when DATABASE_URL is unset): skips initdb. */
function template(): Blob | undefined {
  const file = inject('pgliteTemplate');
  return fs.existsSync(file) ? new Blob([fs.readFileSync(file)]) : undefined;
}

async function start(name: string, env: Record<string, string> = {}) {
  const dataDir = path.join(root, name);
  const config = loadConfig({ LOG_LEVEL: 'silent', FLAGHOST_DATA_DIR: dataDir, FLAGHOST_SECRET_KEY: 'durability-secret-0123456789', ...env });
  const database = await openDatabase(config.database, { pgliteLoadDataDir: template() });
  await database.migrate();
  const app = await buildApp({ config, database });
  await bootstrap(app.services.ctx, { personalApiKey: ADMIN_KEY });
  await app.services.start();
  await app.ready();
  const show = async (setting: string) => ((await (database.db as any).$client.query(`show ${setting}`)).rows[0] as Record<string, string>)[setting];
  return {
    dataDir,
    show,
    createFlag: (key: string) => supertest(app.server).post('/api/projects/1/feature_flags/').set('Authorization', `Bearer ${ADMIN_KEY}`).send({ key }),
    close: async () => {
      await app.close();
      await database.close();
    },
  };
}

/** Files flushed with fsync(2) while `work` runs, by path. */
async function fsyncedDuring(work: () => Promise<unknown>): Promise<string[]> {
  const flushed: string[] = [];
  const real = fs.fsyncSync;
  const spy = vi.spyOn(fs, 'fsyncSync').mockImplementation((fd: number) => {
    flushed.push(fs.readlinkSync(`/proc/self/fd/${fd}`));
    real(fd);
  });
  await work();
  spy.mockRestore();
  return flushed;
}

// Once per CI run: the PostgreSQL pass would only repeat it on PGlite.
describe.skipIf(Boolean(process.env.DATABASE_URL))('embedded database durability', () => {
  it('by default fsync is on and a created flag is flushed to the WAL on disk before the answer', async () => {
    const s = await start('durable');
    try {
      expect(await s.show('fsync')).toBe('on');
      expect(await s.show('synchronous_commit')).toBe('on');
      expect(await s.show('wal_sync_method')).toBe('fsync');
      expect(fs.existsSync(path.join(s.dataDir, 'pglite.synced'))).toBe(true);
      let status = 0;
      const flushed = await fsyncedDuring(async () => {
        status = (await s.createFlag('durable-flag')).status;
      });
      expect(status).toBe(201);
      expect(flushed.some((file) => file.startsWith(path.join(s.dataDir, 'pglite', 'pg_wal') + path.sep))).toBe(true);
    } finally {
      await s.close();
    }
  });

  it('FLAGHOST_EMBEDDED_FSYNC=off: fsync is off and nothing is flushed', async () => {
    const s = await start('relaxed', { FLAGHOST_EMBEDDED_FSYNC: 'off' });
    try {
      expect(await s.show('fsync')).toBe('off');
      expect(fs.existsSync(path.join(s.dataDir, 'pglite.synced'))).toBe(false);
      let status = 0;
      const flushed = await fsyncedDuring(async () => {
        status = (await s.createFlag('relaxed-flag')).status;
      });
      expect(status).toBe(201);
      expect(flushed).toEqual([]);
    } finally {
      await s.close();
    }
  });

  it('refuses any other value', () => {
    expect(() => loadConfig({ FLAGHOST_EMBEDDED_FSYNC: 'sometimes' })).toThrow(/FLAGHOST_EMBEDDED_FSYNC/);
  });
});
