import { parseSignedCheckpoint } from '@nrm/audit';
import Database from 'better-sqlite3';
import { existsSync } from 'node:fs';
import type { Publisher } from './kafka-publisher';
import type { OutgoingMessage } from './routing';

/**
 * The contract of a checkpoint copy on Kafka: the checkpoint as the audit log
 * stores it, a C2SP signed note in `note` with the JSON fields read from it
 * (v2; v1 carried a JSON checkpoint signed over canonical JSON).
 */
export const CHECKPOINT_CONTRACT = 'nrm.audit.checkpoint.v2';

interface CheckpointRow {
  tree_size: number;
  note: string;
}

/** The deployment's shared audit log (PostgreSQL), read only. */
export interface CheckpointSource {
  readonly description: string;
  checkpointsAfter(treeSize: number, limit: number): Promise<CheckpointRow[]>;
}

export interface CheckpointMirrorOptions {
  /** The audit log's SQLite file (DATA_DIR/audit.sqlite), written by the api process (embedded default). */
  readonly auditFile: string;
  /** The shared log in PostgreSQL (AUDIT_LOG_STORE=postgres): read instead of the file, wherever the relay runs. */
  readonly shared?: CheckpointSource;
  readonly publisher: Publisher;
  readonly topic: string;
  readonly logger?: { warn(obj: object, msg: string): void };
}

/**
 * Copies the audit log's signed checkpoints to a Kafka topic, so that a copy
 * lives outside the ledger's own store: whoever reads the topic can later prove
 * that the log was not rewritten (a consistency proof from any copied
 * checkpoint). Keyed by tree size; each checkpoint is published at least once
 * (after a restart, again from the first: consumers keep one per key).
 * Nothing personal: sizes, hashes, times, key ids and signatures.
 */
export class CheckpointMirror {
  private mirrored = 0;
  private published = 0;
  private running: Promise<number> | undefined;
  private warnedMissing = false;

  constructor(private readonly options: CheckpointMirrorOptions) {}

  /** Checkpoints copied since this process started. */
  get count(): number {
    return this.published;
  }

  /** Publishes the checkpoints signed since the last call; resolves to how many. One call at a time. */
  mirror(): Promise<number> {
    this.running ??= this.mirrorNow().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async mirrorNow(): Promise<number> {
    const rows = this.options.shared
      ? await this.options.shared.checkpointsAfter(this.mirrored, 1000)
      : this.readFile();
    if (rows === undefined) return 0;
    return this.publish(rows);
  }

  /** The checkpoints after the last copied from the api's file; undefined when there is none yet. */
  private readFile(): CheckpointRow[] | undefined {
    if (!existsSync(this.options.auditFile)) {
      if (!this.warnedMissing)
        this.options.logger?.warn(
          { auditFile: this.options.auditFile },
          'no audit log in this DATA_DIR: checkpoints are not copied to Kafka (the api keeps the log in its own DATA_DIR)',
        );
      this.warnedMissing = true;
      return undefined;
    }
    let rows: CheckpointRow[];
    const db = new Database(this.options.auditFile, { readonly: true, fileMustExist: true });
    try {
      db.pragma('busy_timeout = 2000');
      rows = db
        .prepare<[number], CheckpointRow>(
          'SELECT tree_size, note FROM checkpoints WHERE tree_size > ? AND note IS NOT NULL ORDER BY tree_size LIMIT 1000',
        )
        .all(this.mirrored);
    } catch (error) {
      // The api has not created its tables yet, or not moved them to notes: nothing to copy.
      if (/no such (table|column)/.test(String(error))) return undefined;
      throw error;
    } finally {
      db.close();
    }
    return rows;
  }

  private async publish(rows: readonly CheckpointRow[]): Promise<number> {
    if (rows.length === 0) return 0;
    const messages: OutgoingMessage[] = rows.flatMap((row) => {
      const parsed = parseSignedCheckpoint(row.note);
      if (!parsed.ok) {
        this.options.logger?.warn({ treeSize: row.tree_size }, 'a malformed checkpoint is not copied');
        return [];
      }
      return [
        {
          topic: this.options.topic,
          key: String(row.tree_size),
          value: JSON.stringify(parsed.value),
          headers: {
            type: CHECKPOINT_CONTRACT,
            'schema-version': '2',
            'event-id': `checkpoint-${row.tree_size}`,
          },
        },
      ];
    });
    await this.options.publisher.publish(messages);
    this.mirrored = rows[rows.length - 1]!.tree_size;
    this.published += rows.length;
    return rows.length;
  }
}
