import { randomBytes } from 'node:crypto';
import { SqliteReadModelStore, type ReadModelStore } from '@nrm/projections';
import type { ErasureRegister } from './erasure-register';
import { KEY_BYTES } from './sealed-identity';

/**
 * The subjects' data keys, kept apart from the events: a SQLite file of its
 * own in the embedded default, a PostgreSQL table in production (both through
 * the SQL store of libs/projections). Destroying a key is the erasure: the
 * sealed identity data in the event store, exports and backups of the events
 * can no longer be opened, while every event's bytes, and so every Merkle proof,
 * stay as they were.
 *
 * Keys are stored as they are. Moving to a KMS means wrapping each key with a
 * key-encryption key held by the KMS before `INSERT` and unwrapping after
 * `SELECT`; destroying the row stays the erasure.
 */
export class SubjectKeyStore {
  private ready: Promise<void> | undefined;

  constructor(
    private readonly sql: ReadModelStore,
    /** Where every destroyed key is also recorded, apart from this store and its backups (see ErasureRegister). */
    private readonly register?: ErasureRegister,
  ) {
    if (sql instanceof SqliteReadModelStore && !(sql.secureDelete && sql.durable))
      throw new Error(
        'a SQLite key store must overwrite what it deletes and fsync every commit: open it with { secureDelete: true, durable: true }',
      );
  }

  /** The subject's key, made on first use; refused once the subject has been erased. */
  async keyFor(subjectId: string): Promise<Buffer> {
    await this.setUp();
    return this.sql.transaction(async (tx) => {
      if (await tx.get('SELECT 1 AS erased FROM subject_erasures WHERE subject_id = ?', [subjectId]))
        throw new SubjectErasedError(subjectId);
      await tx.run(
        'INSERT INTO subject_keys (subject_id, key) VALUES (?, ?) ON CONFLICT (subject_id) DO NOTHING',
        [subjectId, randomBytes(KEY_BYTES).toString('base64')],
      );
      const row = await tx.get<{ key: string }>('SELECT key FROM subject_keys WHERE subject_id = ?', [
        subjectId,
      ]);
      return Buffer.from(row!.key, 'base64');
    });
  }

  /** The subject's key, or undefined when there is none (never made, or destroyed). */
  async existingKey(subjectId: string): Promise<Buffer | undefined> {
    await this.setUp();
    const row = await this.sql.get<{ key: string }>('SELECT key FROM subject_keys WHERE subject_id = ?', [
      subjectId,
    ]);
    return row ? Buffer.from(row.key, 'base64') : undefined;
  }

  /**
   * Destroys the subject's key and remembers that it did (never the key).
   * Idempotent: a second call finds nothing to destroy. The key's bytes are
   * overwritten in the SQLite file and its WAL is emptied; in PostgreSQL the
   * table is rewritten (VACUUM FULL) and its old file dropped (the server's own
   * WAL, replicas and the disk's free blocks keep old pages until they are
   * recycled: see the README on what erasure does not reach).
   */
  async destroy(subjectId: string, erasedAt: string): Promise<void> {
    await this.setUp();
    await this.sql.transaction(async (tx) => {
      await tx.run('DELETE FROM subject_keys WHERE subject_id = ?', [subjectId]);
      await tx.run(
        'INSERT INTO subject_erasures (subject_id, erased_at) VALUES (?, ?) ON CONFLICT (subject_id) DO NOTHING',
        [subjectId, erasedAt],
      );
    });
    if (this.sql instanceof SqliteReadModelStore) await this.sql.truncateWal();
    // VACUUM FULL writes the table anew and drops the old file; a plain VACUUM would leave the bytes in it.
    else await this.sql.run('VACUUM FULL subject_keys');
    this.register?.record(subjectId, erasedAt);
  }

  /**
   * Records in the erasure register every erasure this store holds and the register lacks (a crash
   * between a key's destruction and its registration): run at start. Returns how many it added.
   */
  async completeRegister(): Promise<number> {
    if (!this.register) return 0;
    await this.setUp();
    const rows = await this.sql.all<{ subject_id: string; erased_at: string }>(
      'SELECT subject_id, erased_at FROM subject_erasures',
    );
    return this.register.recordMissing(rows.map((r) => ({ subjectId: r.subject_id, erasedAt: r.erased_at })));
  }

  /**
   * Destroys the key of every subject the erasure register holds and this store does not know as
   * erased: the key store was restored from a backup older than those erasures (a `ledger restore`
   * of the embedded default, or a PostgreSQL point-in-time recovery of the key store's cluster).
   * Run at start, before any key is read; returns the subjects whose keys it destroyed now.
   */
  async applyRegister(): Promise<string[]> {
    if (!this.register) return [];
    const erasures = this.register.read();
    if (erasures.size === 0) return [];
    const held = await this.erasedSubjects();
    const destroyed: string[] = [];
    for (const [subjectId, erasedAt] of erasures) {
      if (held.has(subjectId)) continue;
      await this.destroy(subjectId, erasedAt);
      destroyed.push(subjectId);
    }
    return destroyed;
  }

  /** Subjects whose erasure is recorded here (their keys are gone). */
  async erasedSubjects(): Promise<Set<string>> {
    await this.setUp();
    const rows = await this.sql.all<{ subject_id: string }>('SELECT subject_id FROM subject_erasures');
    return new Set(rows.map((r) => r.subject_id));
  }

  close(): Promise<void> {
    return this.sql.close();
  }

  private setUp(): Promise<void> {
    this.ready ??= this.sql
      .exec(
        `CREATE TABLE IF NOT EXISTS subject_keys (subject_id TEXT PRIMARY KEY, key TEXT NOT NULL);
         CREATE TABLE IF NOT EXISTS subject_erasures (subject_id TEXT PRIMARY KEY, erased_at TEXT NOT NULL);`,
      )
      .catch((error: unknown) => {
        this.ready = undefined;
        throw error;
      });
    return this.ready;
  }
}

export class SubjectErasedError extends Error {
  constructor(readonly subjectId: string) {
    super('this subject has been erased: no identity data can be recorded for it');
    this.name = 'SubjectErasedError';
  }
}
