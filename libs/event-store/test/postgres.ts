import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { PostgresEventStore, type PostgresEventStoreOptions } from '../src/postgres/postgres-event-store';

/** The PostgreSQL every integration suite uses (trust auth, database `test`). */
export const TEST_POSTGRES_URL =
  process.env.NRM_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** A schema of its own for one test file, so that suites running at once never share events. */
export function uniqueSchema(label: string): string {
  return `es_${label}_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
}

export function openPostgresStore(
  schema: string,
  options: Partial<PostgresEventStoreOptions> = {},
): PostgresEventStore {
  return new PostgresEventStore({
    connectionString: TEST_POSTGRES_URL,
    schema,
    pollIntervalMs: 200,
    ...options,
  });
}

/** A plain connection whose `search_path` is `schema`, for what the adapter would never do. */
export async function rawClient(schema: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: TEST_POSTGRES_URL, options: `-c search_path=${schema}` });
  await client.connect();
  return client;
}

export async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: TEST_POSTGRES_URL });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } finally {
    await client.end();
  }
}
