import { createHash } from 'node:crypto';
import pg from 'pg';
import type { LogLease } from './log-lease';
import type { MerkleLog, RecordedLeaf, SharedLog } from './merkle-log';

export interface PostgresSharedLogOptions {
  /** `postgres://user@host:port/database`; credentials never reach `description`. */
  readonly connectionString: string;
  /** The schema that holds the log, created when missing: lower case, digits and `_`. */
  readonly schema: string;
  /** Leaves read or written per statement (default 1000). */
  readonly batchSize?: number;
}

const INT8_OID = 20;
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;
/** The advisory-lock class of the audit log's lease ('NRML'); the object is the schema's hash. */
const LOCK_CLASS = 0x4e524d4c;

const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary'): unknown =>
    oid === INT8_OID && format !== 'binary'
      ? (value: string): number => Number(value)
      : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

function ddl(schema: string): string {
  return `
  CREATE SCHEMA IF NOT EXISTS ${schema};
  CREATE TABLE IF NOT EXISTS ${schema}.audit_leaves (
    leaf     BIGINT PRIMARY KEY CHECK (leaf >= 0),
    position BIGINT NOT NULL UNIQUE CHECK (position >= 1),
    hash     BYTEA  NOT NULL CHECK (length(hash) = 32)
  );
  CREATE TABLE IF NOT EXISTS ${schema}.audit_checkpoints (
    tree_size BIGINT PRIMARY KEY CHECK (tree_size > 0),
    note      TEXT   NOT NULL
  );
  CREATE TABLE IF NOT EXISTS ${schema}.audit_cosigned_notes (
    id        BIGSERIAL PRIMARY KEY,
    tree_size BIGINT NOT NULL CHECK (tree_size > 0),
    note      TEXT   NOT NULL
  );
  CREATE TABLE IF NOT EXISTS ${schema}.audit_retired_keys (
    origin             TEXT   NOT NULL,
    key_id             TEXT   NOT NULL,
    successor          TEXT   NOT NULL,
    retired_at         TEXT   NOT NULL,
    rotation_tree_size BIGINT NOT NULL CHECK (rotation_tree_size > 0),
    PRIMARY KEY (origin, key_id)
  );
  CREATE OR REPLACE FUNCTION ${schema}.audit_log_is_append_only() RETURNS trigger
    LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'the audit log is append-only'; END $$;
  DROP TRIGGER IF EXISTS audit_leaves_append_only ON ${schema}.audit_leaves;
  CREATE TRIGGER audit_leaves_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON ${schema}.audit_leaves
    FOR EACH STATEMENT EXECUTE FUNCTION ${schema}.audit_log_is_append_only();
  DROP TRIGGER IF EXISTS audit_checkpoints_append_only ON ${schema}.audit_checkpoints;
  CREATE TRIGGER audit_checkpoints_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON ${schema}.audit_checkpoints
    FOR EACH STATEMENT EXECUTE FUNCTION ${schema}.audit_log_is_append_only();
  DROP TRIGGER IF EXISTS audit_cosigned_notes_append_only ON ${schema}.audit_cosigned_notes;
  CREATE TRIGGER audit_cosigned_notes_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON ${schema}.audit_cosigned_notes
    FOR EACH STATEMENT EXECUTE FUNCTION ${schema}.audit_log_is_append_only();
  DROP TRIGGER IF EXISTS audit_retired_keys_append_only ON ${schema}.audit_retired_keys;
  CREATE TRIGGER audit_retired_keys_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON ${schema}.audit_retired_keys
    FOR EACH STATEMENT EXECUTE FUNCTION ${schema}.audit_log_is_append_only();
`;
}

/**
 * The deployment's one audit log in PostgreSQL (production), and its lease.
 *
 * Tables `audit_leaves` (leaf number, store position, leaf hash: the leaf index
 * and the leaves) and `audit_checkpoints` (signed notes), append-only by
 * trigger. Every API replica keeps a replica of it in its own
 * `DATA_DIR/audit.sqlite` (`MerkleLog` with this as `shared`), which recomputes
 * every subtree from the leaves and checks each checkpoint's root and
 * signature before it serves them: a replica never serves a root that its
 * leaves do not give.
 *
 * The lease is a session advisory lock, held on a connection of its own; the
 * holder writes through that same connection, so a writer whose connection
 * broke (and whose lock PostgreSQL released) cannot write any more, even if it
 * has not noticed yet.
 */
export class PostgresSharedLog implements SharedLog, LogLease {
  readonly description: string;
  private readonly pool: pg.Pool;
  private readonly schema: string;
  private readonly lockObject: number;
  private readonly batchSize: number;
  private ready: Promise<void> | undefined;
  private holder: pg.Client | undefined;
  private closed = false;

  constructor(private readonly options: PostgresSharedLogOptions) {
    if (!SCHEMA_NAME.test(options.schema))
      throw new Error(`audit log schema '${options.schema}' must match ${SCHEMA_NAME.source}`);
    this.schema = options.schema;
    this.batchSize = options.batchSize ?? 1000;
    const url = new URL(options.connectionString);
    this.description = `postgres ${url.hostname}:${url.port || '5432'}${url.pathname} schema ${options.schema}`;
    this.lockObject = createHash('sha256').update(options.schema).digest().readInt32BE(0);
    this.pool = new pg.Pool({ connectionString: options.connectionString, max: 2, types });
    // An idle connection that breaks must not crash the process; the next query reconnects.
    this.pool.on('error', () => undefined);
  }

  private whenReady(): Promise<void> {
    this.ready ??= (async () => {
      const client = await this.pool.connect();
      try {
        // Two replicas starting at once: one creates the tables, the other waits for it.
        await client.query('BEGIN');
        await client.query('SELECT pg_advisory_xact_lock($1, $2)', [LOCK_CLASS, this.lockObject ^ 1]);
        await client.query(ddl(this.schema));
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      } finally {
        client.release();
      }
    })().catch((error: unknown) => {
      this.ready = undefined;
      throw error;
    });
    return this.ready;
  }

  // ---- the lease ------------------------------------------------------------

  get held(): boolean {
    return this.holder !== undefined;
  }

  async tryAcquire(): Promise<boolean> {
    if (this.holder) return true;
    if (this.closed) return false;
    await this.whenReady();
    const client = new pg.Client({ connectionString: this.options.connectionString, types });
    const lost = (): void => {
      if (this.holder === client) this.holder = undefined;
    };
    client.on('error', lost);
    client.on('end', lost);
    await client.connect();
    try {
      const { rows } = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS ok', [
        LOCK_CLASS,
        this.lockObject,
      ]);
      if (rows[0]?.ok === true && !this.closed) {
        this.holder = client;
        return true;
      }
    } catch {
      // Unreachable now: not the holder; a follower tries again later.
    }
    await client.end().catch(() => undefined);
    return false;
  }

  async release(): Promise<void> {
    const client = this.holder;
    this.holder = undefined;
    // Ending the session releases its advisory locks.
    await client?.end().catch(() => undefined);
  }

  // ---- the shared log -------------------------------------------------------

  async pull(log: MerkleLog): Promise<{ leaves: number; checkpoints: number }> {
    await this.whenReady();
    let leaves = 0;
    for (;;) {
      const from = log.treeSize;
      // The last leaf this replica holds comes again: a shared log rewritten below it shows.
      const { rows } = await this.pool.query<{ leaf: number; position: number; hash: Buffer }>(
        `SELECT leaf, position, hash FROM ${this.schema}.audit_leaves WHERE leaf >= $1 ORDER BY leaf LIMIT $2`,
        [Math.max(0, from - 1), this.batchSize],
      );
      // Fewer leaves than this replica's (a writer that crashed before its push): they come later,
      // and each is then checked against the one recorded here.
      const fresh: RecordedLeaf[] = rows;
      log.addRecorded(fresh);
      leaves += Math.max(0, log.treeSize - from);
      if (rows.length < this.batchSize) break;
    }
    // The keys retired by a rotation, before the checkpoints they signed: a replica started with
    // the new key imports the old key's checkpoints, one still on the old key stops signing.
    await this.pullRetiredKeys(log);
    let checkpoints = 0;
    for (;;) {
      const after = log.latestCheckpoint()?.treeSize ?? 0;
      const { rows } = await this.pool.query<{ note: string }>(
        `SELECT note FROM ${this.schema}.audit_checkpoints WHERE tree_size > $1 ORDER BY tree_size LIMIT 256`,
        [after],
      );
      let later = false;
      for (const { note } of rows) {
        if (log.importCheckpoint(note) === 'later') {
          later = true;
          break;
        }
        checkpoints++;
      }
      if (later || rows.length < 256) break;
    }
    return { leaves, checkpoints };
  }

  async push(log: MerkleLog): Promise<{ leaves: number; checkpoints: number }> {
    const client = this.holder;
    if (!client) throw new Error(`not the holder of the audit log's lease (${this.description})`);
    await this.whenReady();
    let leaves = 0;
    let checkpoints = 0;
    await client.query('BEGIN');
    try {
      const { rows } = await client.query<{ size: number }>(
        `SELECT coalesce(max(leaf) + 1, 0)::bigint AS size FROM ${this.schema}.audit_leaves`,
      );
      const shared = rows[0]?.size ?? 0;
      const size = log.treeSize;
      if (shared > size)
        throw new Error(`the shared audit log holds ${shared} leaves, this replica ${size}: pull first`);
      for (let from = shared; from < size; from += this.batchSize) {
        const to = Math.min(size, from + this.batchSize);
        const leafNumbers: number[] = [];
        const positions: number[] = [];
        const hashes: Buffer[] = [];
        for (let leaf = from; leaf < to; leaf++) {
          leafNumbers.push(leaf);
          positions.push(log.positionAt(leaf)!);
          hashes.push(log.node(0, leaf));
        }
        await client.query(
          `INSERT INTO ${this.schema}.audit_leaves (leaf, position, hash)
           SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bytea[])`,
          [leafNumbers, positions, hashes],
        );
        leaves += to - from;
      }
      const { rows: latest } = await client.query<{ size: number }>(
        `SELECT coalesce(max(tree_size), 0)::bigint AS size FROM ${this.schema}.audit_checkpoints`,
      );
      for (const checkpoint of log.checkpoints({ after: latest[0]?.size ?? 0 })) {
        await client.query(
          `INSERT INTO ${this.schema}.audit_checkpoints (tree_size, note) VALUES ($1, $2) ON CONFLICT DO NOTHING`,
          [checkpoint.treeSize, checkpoint.note],
        );
        checkpoints++;
      }
      await this.pushRetiredKeys(client, log);
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
    return { leaves, checkpoints };
  }

  /** The keys this replica holds as retired that the shared log lacks, with their rotation checkpoint's size. */
  private async pushRetiredKeys(client: pg.Client, log: MerkleLog): Promise<void> {
    const local = log.retiredKeys();
    if (local.length === 0) return;
    const { rows } = await client.query<{ origin: string; key_id: string }>(
      `SELECT origin, key_id FROM ${this.schema}.audit_retired_keys`,
    );
    const held = new Set(rows.map((r) => `${r.origin} ${r.key_id}`));
    for (const key of local) {
      if (held.has(`${key.origin} ${key.keyId}`)) continue;
      const size = log.rotationCheckpointSize(key);
      if (size === undefined) throw new Error(`the retired key ${key.keyId} has no rotation checkpoint here`);
      await client.query(
        `INSERT INTO ${this.schema}.audit_retired_keys (origin, key_id, successor, retired_at, rotation_tree_size)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`,
        [key.origin, key.keyId, key.successor, key.retiredAt, size],
      );
    }
  }

  /** Hands `log` every retired key of the shared log with its rotation checkpoint, newest first (chains). */
  private async pullRetiredKeys(log: MerkleLog): Promise<void> {
    const { rows } = await this.pool.query<{
      origin: string;
      key_id: string;
      successor: string;
      retired_at: string;
      note: string | null;
    }>(
      `SELECT r.origin, r.key_id, r.successor, r.retired_at, c.note
         FROM ${this.schema}.audit_retired_keys r
         LEFT JOIN ${this.schema}.audit_checkpoints c ON c.tree_size = r.rotation_tree_size
        ORDER BY r.rotation_tree_size DESC`,
    );
    for (const r of rows)
      log.importRetiredKey(
        { origin: r.origin, keyId: r.key_id, successor: r.successor, retiredAt: r.retired_at },
        r.note ?? undefined,
      );
  }

  /** The latest checkpoint's note in the shared log (for the relay's copy), after `treeSize`, smallest first. */
  async checkpointsAfter(treeSize: number, limit = 1000): Promise<{ tree_size: number; note: string }[]> {
    await this.whenReady();
    const { rows } = await this.pool.query<{ tree_size: number; note: string }>(
      `SELECT tree_size, note FROM ${this.schema}.audit_checkpoints WHERE tree_size > $1 ORDER BY tree_size LIMIT $2`,
      [treeSize, limit],
    );
    return rows;
  }

  /**
   * A witness's cosigned note that one replica took (and verified): kept for every replica, each
   * of which verifies it again before it serves it (any replica may add one: a cosignature adds to
   * a checkpoint, it changes nothing the log signed).
   */
  async addCosignedNote(treeSize: number, note: string): Promise<void> {
    await this.whenReady();
    await this.pool.query(
      `INSERT INTO ${this.schema}.audit_cosigned_notes (tree_size, note) VALUES ($1, $2)`,
      [treeSize, note],
    );
  }

  /** Cosigned notes after `id`, oldest first. */
  async cosignedNotesAfter(
    id: number,
    limit = 256,
  ): Promise<{ id: number; tree_size: number; note: string }[]> {
    await this.whenReady();
    const { rows } = await this.pool.query<{ id: number; tree_size: number; note: string }>(
      `SELECT id, tree_size, note FROM ${this.schema}.audit_cosigned_notes WHERE id > $1 ORDER BY id LIMIT $2`,
      [id, limit],
    );
    return rows;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.release();
    await this.pool.end();
  }
}
