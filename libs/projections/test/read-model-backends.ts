import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PostgresReadModelStore } from '../src/store/postgres-read-model-store';
import type { ReadModelStore } from '../src/store/read-model-store';
import { SqliteReadModelStore } from '../src/store/sqlite-read-model-store';

/**
 * The PostgreSQL server the tests use: the one on every development and CI
 * machine (trust auth, database `test`). Each test gets a schema of its own,
 * dropped afterwards.
 */
export const TEST_POSTGRES_URL =
  process.env.NRM_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** Where one test's read models live; `open()` may be called again to play a restarted process. */
export interface ReadModelLocation {
  /** `sqlite:<file>` or `postgres:<schema>`: what another process passes to `openSpec`. */
  readonly spec: string;
  open(options?: { readonly secureDelete?: boolean; readonly durable?: boolean }): ReadModelStore;
  /** Closes every store opened here and removes the file or schema. */
  dispose(): Promise<void>;
}

export interface ReadModelBackend {
  readonly name: 'sqlite' | 'postgres';
  location(): ReadModelLocation;
}

const sqlite: ReadModelBackend = {
  name: 'sqlite',
  location() {
    const dir = mkdtempSync(join(tmpdir(), 'nrm-read-'));
    const opened: ReadModelStore[] = [];
    return {
      spec: `sqlite:${join(dir, 'read.sqlite')}`,
      open: (options) => {
        const store = new SqliteReadModelStore(join(dir, 'read.sqlite'), options);
        opened.push(store);
        return store;
      },
      dispose: async () => {
        for (const store of opened) await store.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
};

const postgres: ReadModelBackend = {
  name: 'postgres',
  location() {
    const schema = `t_${randomUUID().replace(/-/g, '').slice(0, 20)}`;
    const opened: PostgresReadModelStore[] = [];
    const open = (): PostgresReadModelStore => {
      const store = new PostgresReadModelStore({
        connectionString: TEST_POSTGRES_URL,
        schema,
        maxConnections: 4,
      });
      opened.push(store);
      return store;
    };
    return {
      spec: `postgres:${schema}`,
      open,
      dispose: async () => {
        for (const store of opened) await store.close();
        const dropper = open();
        await dropper.dropSchema();
        await dropper.close();
      },
    };
  },
};

/** Both engines: suites written once run on each (`describe.each(READ_MODEL_BACKENDS)`). */
export const READ_MODEL_BACKENDS: readonly ReadModelBackend[] = [sqlite, postgres];

/** Opens the read-model store a location's `spec` names (in a child process). */
export function openSpec(spec: string): ReadModelStore {
  const [engine, ...rest] = spec.split(':');
  const where = rest.join(':');
  if (engine === 'sqlite') return new SqliteReadModelStore(where);
  if (engine === 'postgres')
    return new PostgresReadModelStore({
      connectionString: TEST_POSTGRES_URL,
      schema: where,
      maxConnections: 2,
    });
  throw new Error(`unknown read-model spec '${spec}'`);
}
