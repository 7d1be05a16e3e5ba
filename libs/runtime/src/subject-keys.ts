import { PostgresReadModelStore, SqliteReadModelStore } from '@nrm/projections';
import { ErasureRegister, SubjectKeyStore } from '@nrm/privacy';
import { join, resolve } from 'node:path';
import type { LedgerConfig } from './config';

export const SUBJECT_KEYS = Symbol('SUBJECT_KEYS');

export function keyStoreFile(config: LedgerConfig): string {
  return join(resolve(config.DATA_DIR), 'keys.sqlite');
}

/** The erasure register: ERASURE_REGISTER_FILE, or DATA_DIR/erasure-register.jsonl. Backups never copy it. */
export function erasureRegisterFile(
  config: Pick<LedgerConfig, 'DATA_DIR' | 'ERASURE_REGISTER_FILE'>,
): string {
  return resolve(config.ERASURE_REGISTER_FILE ?? join(resolve(config.DATA_DIR), ERASURE_REGISTER_NAME));
}

export const ERASURE_REGISTER_NAME = 'erasure-register.jsonl';

/**
 * The configured key store: a SQLite file of its own (deleted keys overwritten), or a PostgreSQL
 * schema; each destroyed key is also recorded in the erasure register.
 */
export function openSubjectKeys(config: LedgerConfig): SubjectKeyStore {
  return new SubjectKeyStore(
    config.KEY_STORE === 'postgres'
      ? new PostgresReadModelStore({
          connectionString: config.KEY_STORE_URL!,
          schema: config.KEY_STORE_SCHEMA,
          maxConnections: 4,
        })
      : new SqliteReadModelStore(keyStoreFile(config), { secureDelete: true, durable: true }),
    new ErasureRegister(erasureRegisterFile(config)),
  );
}
