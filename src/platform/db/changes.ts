// Change notifications inside a transaction: the project revision every instance's snapshot check
// compares, and the NOTIFY that PostgreSQL delivers to every instance's listener on commit.
import { eq, sql } from 'drizzle-orm';
import type { Db } from './index.ts';
import { changesChannel } from './index.ts';
import { projects } from './schema.ts';

/**
 * Marks the project's SDK-visible state as changed inside the caller's transaction: bumps the
 * revision and queues a notification that PostgreSQL delivers to every instance on commit.
 */
export async function bumpProjectRevision(db: Db, projectId: number): Promise<void> {
  await db
    .update(projects)
    .set({ revision: sql`${projects.revision} + 1` })
    .where(eq(projects.id, projectId));
  await db.execute(sql`select pg_notify(${changesChannel}, ${'project:' + projectId})`);
}

export async function notifyAuthChanged(db: Db): Promise<void> {
  await db.execute(sql`select pg_notify(${changesChannel}, 'auth')`);
}
