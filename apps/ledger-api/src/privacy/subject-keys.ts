import { PostgresReadModelStore, SqliteReadModelStore } from '@nrm/projections';
import { SubjectKeyStore } from '@nrm/privacy';
import { join, resolve } from 'node:path';
import type { LedgerConfig } from '../config/config';

export const SUBJECT_KEYS = Symbol('SUBJECT_KEYS');

export function keyStoreFile(config: LedgerConfig): string {
  return join(resolve(config.DATA_DIR), 'keys.sqlite');
}

/** The configured key store: a SQLite file of its own (deleted keys overwritten), or a PostgreSQL schema. */
export function openSubjectKeys(config: LedgerConfig): SubjectKeyStore {
  return new SubjectKeyStore(
    config.KEY_STORE === 'postgres'
      ? new PostgresReadModelStore({
          connectionString: config.KEY_STORE_URL!,
          schema: config.KEY_STORE_SCHEMA,
          maxConnections: 4,
        })
      : new SqliteReadModelStore(keyStoreFile(config), { secureDelete: true, durable: true }),
  );
}
