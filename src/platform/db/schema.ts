// The Drizzle schema: every table flaghost stores, the single source for drizzle-kit migrations.
// The tables live in parts by area (schema/); this module is the one every import names.
export * from './schema/access.ts';
export * from './schema/flags.ts';
export * from './schema/persons.ts';
