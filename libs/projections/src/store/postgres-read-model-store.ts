import pg from 'pg';
import type { ReadModelStore, SqlRunner, SqlValue } from './read-model-store';

export interface PostgresReadModelStoreOptions {
  /** `postgres://user@host:port/database`; credentials never reach `description`. */
  readonly connectionString: string;
  /** The schema that holds the read models, created when missing: lower case, digits and `_`. */
  readonly schema: string;
  /** Most connections the pool opens. Default 10. */
  readonly maxConnections?: number;
}

const INT8_OID = 20;

/** `BIGINT` columns (positions, counts) as numbers; every other type as pg parses it. */
const bigintsAsNumbers = ((oid: number, format?: 'text' | 'binary'): unknown =>
  oid === INT8_OID && format !== 'binary'
    ? (value: string): number => Number(value)
    : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser;

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * Read models in PostgreSQL (production). A pool of connections whose
 * `search_path` is the read-model schema, so projections and queries name
 * their tables unqualified, as they do on SQLite.
 *
 * `?` placeholders become `$1, $2, ...`; `BIGINT` values come back as numbers
 * (positions and counts stay far below 2^53); DDL given to `exec` loses
 * SQLite's `WITHOUT ROWID`, and its `TEXT` columns compare bytewise
 * (`COLLATE "C"`), as SQLite does, so cursors over ids and instants order the
 * same on both engines.
 */
export class PostgresReadModelStore implements ReadModelStore {
  readonly dialect = 'postgres' as const;
  readonly description: string;
  private readonly pool: pg.Pool;
  private readonly runner: SqlRunner;
  private ready: Promise<void> | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(private readonly options: PostgresReadModelStoreOptions) {
    if (!SCHEMA_NAME.test(options.schema))
      throw new Error(`read-model schema '${options.schema}' must match ${SCHEMA_NAME.source}`);
    const url = new URL(options.connectionString);
    this.description = `postgres ${url.hostname}:${url.port || '5432'}${url.pathname} schema ${options.schema}`;
    this.pool = new pg.Pool({
      connectionString: options.connectionString,
      max: options.maxConnections ?? 10,
      options: `-c search_path=${options.schema}`,
      types: { getTypeParser: bigintsAsNumbers },
    });
    // An idle connection that breaks must not crash the process; the next query reconnects.
    this.pool.on('error', () => undefined);
    this.runner = runnerOver(this.pool);
  }

  run(sql: string, params?: readonly SqlValue[]): Promise<number> {
    return this.whenReady(() => this.runner.run(sql, params));
  }

  get<T extends object>(sql: string, params?: readonly SqlValue[]): Promise<T | undefined> {
    return this.whenReady(() => this.runner.get<T>(sql, params));
  }

  all<T extends object>(sql: string, params?: readonly SqlValue[]): Promise<T[]> {
    return this.whenReady(() => this.runner.all<T>(sql, params));
  }

  exec(sql: string): Promise<void> {
    return this.whenReady(() => this.runner.exec(sql));
  }

  transaction<T>(work: (tx: SqlRunner) => Promise<T>): Promise<T> {
    const result = this.queue.then(() =>
      this.whenReady(async () => {
        const client = await this.pool.connect();
        let broken: Error | undefined;
        try {
          await client.query('BEGIN');
          const value = await work(runnerOver(client));
          await client.query('COMMIT');
          return value;
        } catch (error) {
          try {
            await client.query('ROLLBACK');
          } catch (rollbackError) {
            broken = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
          }
          throw error;
        } finally {
          client.release(broken);
        }
      }),
    );
    this.queue = result.catch(() => undefined);
    return result;
  }

  async ping(): Promise<boolean> {
    try {
      await this.pool.query('SELECT 1');
      return true;
    } catch {
      return false;
    }
  }

  /** Drops the schema and everything in it: for tests that made one of their own. */
  async dropSchema(): Promise<void> {
    await this.pool.query(`DROP SCHEMA IF EXISTS ${this.options.schema} CASCADE`);
    this.ready = undefined;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.queue;
    await this.pool.end();
  }

  private whenReady<T>(call: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new Error('the read-model store is closed'));
    this.ready ??= this.pool.query(`CREATE SCHEMA IF NOT EXISTS ${this.options.schema}`).then(
      () => undefined,
      (error: unknown) => {
        this.ready = undefined; // the next call tries again
        throw error;
      },
    );
    return this.ready.then(call);
  }
}

interface Queryable {
  query(text: string, values?: SqlValue[]): Promise<pg.QueryResult>;
}

function runnerOver(target: Queryable): SqlRunner {
  return {
    dialect: 'postgres',
    run: async (sql, params = []) => (await target.query(numbered(sql), [...params])).rowCount ?? 0,
    get: async <T extends object>(sql: string, params: readonly SqlValue[] = []) =>
      (await target.query(numbered(sql), [...params])).rows[0] as T | undefined,
    all: async <T extends object>(sql: string, params: readonly SqlValue[] = []) =>
      (await target.query(numbered(sql), [...params])).rows as T[],
    exec: async (sql) => {
      await target.query(postgresDdl(sql));
    },
  };
}

const numberedCache = new Map<string, string>();

/** `?` placeholders outside quotes become `$1, $2, ...`. */
export function numbered(sql: string): string {
  const cached = numberedCache.get(sql);
  if (cached !== undefined) return cached;
  let out = '';
  let n = 0;
  let quote: string | undefined;
  for (const ch of sql) {
    if (quote !== undefined) {
      if (ch === quote) quote = undefined;
      out += ch;
    } else if (ch === "'" || ch === '"') {
      quote = ch;
      out += ch;
    } else if (ch === '?') {
      out += `$${++n}`;
    } else {
      out += ch;
    }
  }
  if (numberedCache.size < 10_000) numberedCache.set(sql, out);
  return out;
}

/** SQLite-flavoured DDL as PostgreSQL takes it. */
export function postgresDdl(sql: string): string {
  return sql.replace(/\)\s*WITHOUT ROWID/gi, ')').replace(/\bTEXT\b/g, 'TEXT COLLATE "C"');
}
