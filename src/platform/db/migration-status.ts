// Whether the database has every migration this version of flaghost ships (migrations/), for the
// readiness check (src/ops/health.ts). Drizzle's migrator applies, in journal order, every
// migration created after the newest one recorded in drizzle.__drizzle_migrations; so does this.
import fs from 'node:fs';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import type { Db } from './index.ts';
import { pgErrorCode } from './errors.ts';
import { rowsOf } from './sql.ts';

export interface MigrationStatus {
  /** Tags of the shipped migrations the database has not applied, oldest first. */
  pending: string[];
}

interface JournalEntry {
  tag: string;
  when: number;
}

const journals = new Map<string, JournalEntry[]>();

function journal(migrationsDir: string): JournalEntry[] {
  let entries = journals.get(migrationsDir);
  if (!entries) {
    const text = fs.readFileSync(path.join(migrationsDir, 'meta', '_journal.json'), 'utf8');
    entries = (JSON.parse(text) as { entries: JournalEntry[] }).entries.map((e) => ({ tag: e.tag, when: e.when }));
    journals.set(migrationsDir, entries);
  }
  return entries;
}

export async function migrationStatus(db: Db, migrationsDir: string): Promise<MigrationStatus> {
  const shipped = journal(migrationsDir);
  let last = -Infinity;
  try {
    const rows = rowsOf<{ created_at: string | number | null }>(
      await db.execute(sql`select created_at from drizzle.__drizzle_migrations order by created_at desc limit 1`),
    );
    if (rows[0]?.created_at != null) last = Number(rows[0].created_at);
  } catch (error) {
    // No migration table (3F000: no such schema, 42P01: no such table): nothing was ever applied.
    const code = pgErrorCode(error);
    if (code !== '3F000' && code !== '42P01') throw error;
  }
  return { pending: shipped.filter((entry) => entry.when > last).map((entry) => entry.tag) };
}
