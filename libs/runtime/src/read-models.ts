import {
  caseDirectory,
  COORDINATOR_PROJECTIONS,
  OVERSIGHT_PROJECTIONS,
  PostgresReadModelStore,
  SqliteReadModelStore,
  type Projection,
  type ReadModelStore,
} from '@nrm/projections';
import { join, resolve } from 'node:path';
import type { LedgerConfig } from './config';

/** Every projection the ledger maintains: the API, the projector process and the console agree on it. */
export const PROJECTIONS: readonly Projection[] = [
  caseDirectory,
  ...COORDINATOR_PROJECTIONS,
  ...OVERSIGHT_PROJECTIONS,
];

export function readModelFile(config: LedgerConfig): string {
  return join(resolve(config.DATA_DIR), 'read-models.sqlite');
}

/** The configured read-model store: a SQLite file beside the event store, or a PostgreSQL schema. */
export function openReadModelStore(config: LedgerConfig): ReadModelStore {
  if (config.READ_MODEL_STORE === 'postgres')
    return new PostgresReadModelStore({
      connectionString: config.READ_MODEL_URL!,
      schema: config.READ_MODEL_SCHEMA,
    });
  return new SqliteReadModelStore(readModelFile(config));
}
