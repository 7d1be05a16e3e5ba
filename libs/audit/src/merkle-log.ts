import Database from 'better-sqlite3';
import { ProgressWaiters, type EventStore, type RecordedEvent, type Subscription } from '@nrm/event-store';
import { createHash, type KeyObject } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import {
  AuditKeyError,
  parseSignedCheckpoint,
  signCheckpoint,
  verifyCheckpointSignature,
  type CheckpointSigner,
  type SignedCheckpoint,
} from './checkpoint';
import { upgradeLegacyCheckpoints } from './checkpoint-upgrade';
import { parseSignedNote } from './signed-note';
import { HASH_BYTES, hashToHex } from './encoding';
import { eventLeafHash } from './leaf';
import type { LogLease } from './log-lease';
import {
  consistencyPath,
  frontierOf,
  inclusionPath,
  MerkleRangeError,
  nodeHash,
  rootFromFrontier,
  type PerfectSubtrees,
} from './merkle';

export interface MerkleLogLogger {
  info(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface MerkleLogOptions {
  readonly store: EventStore;
  /** The log's own SQLite file (DATA_DIR/audit.sqlite), or ':memory:'. Its directory is created. */
  readonly filename: string;
  readonly signer: CheckpointSigner;
  /** Sign a checkpoint once this many events have been added since the last one (default 1000). */
  readonly checkpointEvery?: number;
  /** And at least this often while events keep coming (default 60 s; 0: only by count). */
  readonly checkpointIntervalMs?: number;
  /** Events added per transaction (default 512). */
  readonly batchSize?: number;
  readonly clock?: () => Date;
  readonly logger?: MerkleLogLogger;
  /**
   * Whether the store promises dense positions (1, 2, 3, …: SQLite). Then a skipped position is
   * a deleted event and the log refuses it (`LogGap`). EventStoreDB's commit positions are sparse:
   * false, and the log takes every event in store order, whatever its position, recording leaf ↔
   * position in its leaf index. Default true.
   */
  readonly densePositions?: boolean;
  /**
   * The single-writer lease (a file lock on the embedded default, a PostgreSQL advisory lock in
   * production). Without one the log extends itself whenever it runs (one process, or tests).
   * With one, `start` extends the log only while this process holds the lease; otherwise it
   * follows the log read-only and tries the lease again every `followMs`.
   */
  readonly lease?: LogLease;
  /** Where the deployment's one log lives when it is not this file (PostgreSQL); this file is then its replica. */
  readonly shared?: SharedLog;
  /** How often a follower reads what the writer added and tries the lease (default 1000 ms). */
  readonly followMs?: number;
}

/**
 * The deployment's one log, kept outside the process (PostgreSQL): the writer pushes the
 * leaves and checkpoints it added; every process pulls them into its own file, which checks
 * each leaf against the ones before (a replica that would fork refuses).
 */
export interface SharedLog {
  readonly description: string;
  /** Adds to `log` what the shared log holds beyond it. */
  pull(log: MerkleLog): Promise<{ leaves: number; checkpoints: number }>;
  /** Adds to the shared log what `log` holds beyond it; only the lease holder calls it. */
  push(log: MerkleLog): Promise<{ leaves: number; checkpoints: number }>;
  close(): Promise<void>;
}

/** A leaf as the shared log keeps it: its number (from 0), its event's store position, its hash. */
export interface RecordedLeaf {
  readonly leaf: number;
  readonly position: number;
  readonly hash: Buffer;
}

/** The shared log holds another history than this replica: the log forked. */
export class LogForked extends Error {
  constructor(
    readonly leaf: number,
    detail: string,
  ) {
    super(`the shared audit log forked at leaf ${leaf}: ${detail}`);
    this.name = 'LogForked';
  }
}

/** `running`: extending the log; `following`: reading what another process (the lease holder) adds. */
export type MerkleLogState = 'stopped' | 'running' | 'following' | 'failed' | 'closed';

export interface MerkleLogHealth {
  readonly ok: boolean;
  readonly state: MerkleLogState;
  /** `writer` while this process holds the lease (or needs none), else `follower`. */
  readonly role: 'writer' | 'follower';
  readonly treeSize: number;
  readonly latestCheckpoint?: { readonly treeSize: number; readonly time: string };
  readonly failure?: { readonly position?: number; readonly message: string };
}

/** The event at `position` no longer hashes to the leaf recorded for it: the event store was changed. */
export class LogDiverged extends Error {
  constructor(readonly position: number) {
    super(
      `the stored event at position ${position} no longer matches the leaf the audit log recorded for it`,
    );
    this.name = 'LogDiverged';
  }
}

/**
 * The log's file holds less than this process saw in it while it ran (see `MerkleLog.rewound`):
 * - `log-truncated`: fewer leaves than it held (the Merkle tail was deleted);
 * - `checkpoint-deleted`: a checkpoint it signed or verified is gone (the newest ones, or one
 *   in the middle);
 * - `checkpoint-replaced`: a checkpoint it signed or verified holds another note, or a newer
 *   one is not validly signed (or, on a full check, signed with a root that is not the tree's).
 * `position` is the first store position whose signed evidence is lost: the first one the lost
 * checkpoint covered beyond the checkpoint before it, or the first leaf gone.
 */
export interface LogRewind {
  readonly kind: 'log-truncated' | 'checkpoint-deleted' | 'checkpoint-replaced';
  readonly position: number;
  /** The tree size concerned: the lost checkpoint's, or the number of leaves left. */
  readonly treeSize: number;
  readonly detail: string;
  /** The leaves the log held (what a restore must bring back). */
  readonly held: number;
  /** The digest (`noteDigest`) of the note this process saw for the lost checkpoint, if it saw one. */
  readonly seen?: string;
}

/** What a running log remembers of its own file: never lowered while it runs. */
export interface LogMemory {
  /** The most leaves the file held. */
  readonly leaves: number;
  /** The newest checkpoint this process signed, imported, or found in the file with the tree's root. */
  readonly checkpoint?: { readonly treeSize: number; readonly rootHash: string; readonly note: string };
  /** How many checkpoints the file held up to that one's size. */
  readonly checkpoints: number;
}

/** The log's file went backwards while this process ran: it adds and signs nothing more. */
export class LogRewound extends Error {
  readonly position: number;
  constructor(readonly rewind: LogRewind) {
    super(`${rewind.kind}: ${rewind.detail}`);
    this.name = 'LogRewound';
    this.position = rewind.position;
  }
}

/** This process lost (or never held) the lease: the holder extends the log. */
export class NotLeaseHolder extends Error {
  constructor(lease: string) {
    super(`the audit log is written by the holder of its lease (${lease}), not this process`);
    this.name = 'NotLeaseHolder';
  }
}

/** A store with dense positions skipped one: the event there was deleted before the log saw it. */
export class LogGap extends Error {
  constructor(
    readonly expected: number,
    readonly position: number,
  ) {
    super(`the event store delivered position ${position} where the audit log expected ${expected}`);
    this.name = 'LogGap';
  }
}

export interface InclusionProof {
  readonly position: number;
  readonly leafIndex: number;
  readonly treeSize: number;
  readonly leafHash: Buffer;
  readonly rootHash: Buffer;
  readonly proof: Buffer[];
}

export interface ConsistencyProof {
  readonly firstSize: number;
  readonly secondSize: number;
  readonly firstRoot: Buffer;
  readonly secondRoot: Buffer;
  readonly proof: Buffer[];
}

export interface CatchUpResult {
  readonly treeSize: number;
  readonly added: number;
  readonly seconds: number;
  readonly leavesPerSec: number;
}

interface CheckpointRow {
  tree_size: number;
  root_hash: string;
  time: string;
  key_id: string;
  signature: string;
  /** The checkpoint as a C2SP signed note (schema 2); the columns before it are read from it. */
  note: string;
}

const SCHEMA_VERSION = 3;

/** Keys rotated out of the log (kept apart from the versioned schema, like checkpoint requests). */
const RETIRED_KEYS = `
  CREATE TABLE IF NOT EXISTS retired_keys (
    origin     TEXT NOT NULL,
    key_id     TEXT NOT NULL,
    successor  TEXT NOT NULL,
    retired_at TEXT NOT NULL,
    PRIMARY KEY (origin, key_id)
  );
  CREATE TRIGGER IF NOT EXISTS retired_keys_stay_retired BEFORE DELETE ON retired_keys
    BEGIN SELECT RAISE(ABORT, 'a retired key stays retired'); END;
`;

export interface RetiredKey {
  readonly origin: string;
  /** The note key ID of the retired key. */
  readonly keyId: string;
  /** The note key ID of the key that took over. */
  readonly successor: string;
  readonly retiredAt: string;
}

/** A checkpoint was to be signed with a key rotated out of the log. */
export class RetiredKeyError extends AuditKeyError {
  constructor(readonly keyId: string) {
    super(
      `the audit signing key ${keyId} was retired by a key rotation and signs nothing new; configure the current key`,
    );
    this.name = 'RetiredKeyError';
  }
}

/**
 * The leaf index (schema 3): leaf n (from 0) ↔ the store position of its event, strictly
 * increasing with n. On a dense store position = leaf + 1; on EventStoreDB the positions
 * are commit positions, with gaps.
 */
const LEAF_INDEX = `
  CREATE TABLE leaf_positions (
    leaf     INTEGER PRIMARY KEY CHECK (leaf >= 0),
    position INTEGER NOT NULL UNIQUE CHECK (position >= 1)
  );
  CREATE TRIGGER leaf_positions_are_immutable_update BEFORE UPDATE ON leaf_positions
    BEGIN SELECT RAISE(ABORT, 'leaf positions are immutable'); END;
  CREATE TRIGGER leaf_positions_are_immutable_delete BEFORE DELETE ON leaf_positions
    BEGIN SELECT RAISE(ABORT, 'leaf positions are immutable'); END;
`;

/**
 * One row per perfect subtree (level 0: the leaves), so that any root or proof
 * up to the tree's size costs O(log n) look-ups per subtree (O(log² n) for a
 * whole proof); about two rows per event. Rows never change once written.
 */
const SCHEMA = `
  CREATE TABLE merkle_nodes (
    level INTEGER NOT NULL CHECK (level >= 0),
    idx   INTEGER NOT NULL CHECK (idx >= 0),
    hash  BLOB    NOT NULL CHECK (length(hash) = ${HASH_BYTES}),
    PRIMARY KEY (level, idx)
  ) WITHOUT ROWID;
  CREATE TABLE checkpoints (
    tree_size INTEGER PRIMARY KEY CHECK (tree_size > 0),
    root_hash TEXT NOT NULL,
    time      TEXT NOT NULL,
    key_id    TEXT NOT NULL,
    signature TEXT NOT NULL,
    note      TEXT
  );
  CREATE TRIGGER merkle_nodes_are_immutable_update BEFORE UPDATE ON merkle_nodes
    BEGIN SELECT RAISE(ABORT, 'merkle nodes are immutable'); END;
  CREATE TRIGGER merkle_nodes_are_immutable_delete BEFORE DELETE ON merkle_nodes
    BEGIN SELECT RAISE(ABORT, 'merkle nodes are immutable'); END;
  CREATE TRIGGER checkpoints_are_immutable_update BEFORE UPDATE ON checkpoints
    BEGIN SELECT RAISE(ABORT, 'checkpoints are immutable'); END;
  CREATE TRIGGER checkpoints_are_immutable_delete BEFORE DELETE ON checkpoints
    BEGIN SELECT RAISE(ABORT, 'checkpoints are immutable'); END;
`;

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** A short digest of a checkpoint's note: what the log remembers of each one it saw. */
export function noteDigest(note: string): string {
  return createHash('sha256').update(note).digest('base64').slice(0, 22);
}

function toCheckpoint(row: CheckpointRow): SignedCheckpoint {
  const parsed = parseSignedCheckpoint(row.note);
  if (!parsed.ok || parsed.value.treeSize !== row.tree_size || parsed.value.rootHash !== row.root_hash)
    throw new Error(`the audit log holds a malformed checkpoint at tree size ${row.tree_size}`);
  return parsed.value;
}

/**
 * The verifiable log of every stored event: leaf n is the n-th event in store
 * order (`eventLeafHash`), its position kept in the leaf index (on a dense store
 * leaf n is the event at position n + 1), added in position order from a catch-up
 * subscription, with signed checkpoints every `checkpointEvery` events or
 * `checkpointIntervalMs`. Its own SQLite file holds every perfect subtree's
 * hash and the checkpoints.
 *
 * Several processes may keep the same file (the API and the console): each
 * batch is one immediate transaction that reads the stored size first, skips
 * leaves another process added (checking that they match), and continues from
 * there. A stored event that no longer matches its recorded leaf stops the log
 * (`LogDiverged`): that is the tampering it exists to reveal.
 */
export class MerkleLog implements PerfectSubtrees {
  private readonly db: Database.Database;
  private readonly store: EventStore;
  private readonly signer: CheckpointSigner;
  private readonly checkpointEvery: number;
  private readonly checkpointIntervalMs: number;
  private readonly batchSize: number;
  private readonly clock: () => Date;
  private readonly logger: MerkleLogLogger | undefined;
  /** See `MerkleLogOptions.densePositions`. */
  readonly densePositions: boolean;
  private readonly lease: LogLease | undefined;
  private readonly shared: SharedLog | undefined;
  private readonly followMs: number;
  private followTimer: NodeJS.Timeout | undefined;
  private following: Promise<void> | undefined;
  private pushing: Promise<void> = Promise.resolve();

  private readonly sql: {
    lastLeaf: Database.Statement<[], { last: number | null }>;
    lastAtLevel: Database.Statement<[number], { last: number | null }>;
    lastLeafPosition: Database.Statement<[], { last: number | null }>;
    node: Database.Statement<[number, number], { hash: Buffer }>;
    insertNode: Database.Statement<[number, number, Buffer]>;
    positionAt: Database.Statement<[number], { position: number }>;
    leafAt: Database.Statement<[number], { leaf: number }>;
    insertLeafPosition: Database.Statement<[number, number]>;
    positionsBetween: Database.Statement<[number, number, number], { position: number }>;
    firstAfter: Database.Statement<[number], { leaf: number; position: number }>;
    lastBefore: Database.Statement<[number], { position: number }>;
    latest: Database.Statement<[], CheckpointRow>;
    checkpointAt: Database.Statement<[number], CheckpointRow>;
    checkpointPage: Database.Statement<[number, number], CheckpointRow>;
    checkpointsUpTo: Database.Statement<[number], { count: number }>;
    sizesBetween: Database.Statement<[number, number], { size: number }>;
    checkpointBefore: Database.Statement<[number], { size: number | null }>;
    insertCheckpoint: Database.Statement<[number, string, string, string, string, string]>;
  };
  private readonly addBatch: (leaves: readonly { position: number; hash: Buffer }[]) => {
    size: number;
    refusal?: LogDiverged | LogGap | LogRewound;
  };
  private readonly addRecordedBatch: (leaves: readonly RecordedLeaf[]) => number;
  private readonly signNow: () => SignedCheckpoint | undefined;

  private state: MerkleLogState = 'stopped';
  private failure: { position?: number; message: string } | undefined;
  private subscription: Subscription | undefined;
  private loop: Promise<void> | undefined;
  private buffer: RecordedEvent[] = [];
  private flushTimer: NodeJS.Immediate | undefined;
  private checkpointTimer: NodeJS.Timeout | undefined;
  private requestTimer: NodeJS.Timeout | undefined;
  private readonly waiters = new ProgressWaiters();
  private size = 0;
  /** See `rewound`: the most leaves seen, and the checkpoints seen up to the newest (size → note digest). */
  private seenLeaves = 0;
  private seenCheckpoint: { treeSize: number; rootHash: string; note: string } | undefined;
  private readonly seenNotes = new Map<number, string>();
  private lost: LogRewind | undefined;
  private readonly addedListeners: ((first: number, last: number) => void)[] = [];

  constructor(options: MerkleLogOptions) {
    const every = options.checkpointEvery ?? 1000;
    const interval = options.checkpointIntervalMs ?? 60_000;
    const batch = options.batchSize ?? 512;
    if (!Number.isSafeInteger(every) || every < 1)
      throw new RangeError('checkpointEvery must be a whole number from 1');
    if (!Number.isSafeInteger(interval) || interval < 0)
      throw new RangeError('checkpointIntervalMs must be a whole number from 0');
    if (!Number.isSafeInteger(batch) || batch < 1)
      throw new RangeError('batchSize must be a whole number from 1');
    this.store = options.store;
    this.signer = options.signer;
    this.checkpointEvery = every;
    this.checkpointIntervalMs = interval;
    this.batchSize = batch;
    this.clock = options.clock ?? (() => new Date());
    this.logger = options.logger;
    this.densePositions = options.densePositions ?? true;
    this.lease = options.lease;
    this.shared = options.shared;
    this.followMs = options.followMs ?? 1000;
    if (!Number.isSafeInteger(this.followMs) || this.followMs < 1)
      throw new RangeError('followMs must be a whole number from 1');

    if (options.filename !== ':memory:')
      mkdirSync(dirname(options.filename), { recursive: true, mode: 0o700 });
    this.db = new Database(options.filename);
    try {
      this.db.pragma('journal_mode = WAL');
      // Lost nodes are recomputed from the event store after a power loss; the events themselves are FULL.
      this.db.pragma('synchronous = NORMAL');
      this.db.pragma('busy_timeout = 5000');
      this.migrate();
      // Kept apart from the versioned schema: a follower's request that the writer sign now.
      this.db.exec(
        'CREATE TABLE IF NOT EXISTS checkpoint_requests (id INTEGER PRIMARY KEY, tree_size INTEGER NOT NULL)',
      );
      // Keys rotated out (`ledger rotate-audit-key`): they sign nothing new.
      this.db.exec(RETIRED_KEYS);
    } catch (error) {
      this.db.close();
      throw error;
    }
    const db = this.db;
    const columns = 'tree_size, root_hash, time, key_id, signature, note';
    const signed = 'note IS NOT NULL';
    this.sql = {
      lastLeaf: db.prepare('SELECT max(idx) AS last FROM merkle_nodes WHERE level = 0'),
      lastAtLevel: db.prepare('SELECT max(idx) AS last FROM merkle_nodes WHERE level = ?'),
      lastLeafPosition: db.prepare('SELECT max(leaf) AS last FROM leaf_positions'),
      node: db.prepare('SELECT hash FROM merkle_nodes WHERE level = ? AND idx = ?'),
      insertNode: db.prepare('INSERT INTO merkle_nodes (level, idx, hash) VALUES (?, ?, ?)'),
      positionAt: db.prepare('SELECT position FROM leaf_positions WHERE leaf = ?'),
      leafAt: db.prepare('SELECT leaf FROM leaf_positions WHERE position = ?'),
      insertLeafPosition: db.prepare('INSERT INTO leaf_positions (leaf, position) VALUES (?, ?)'),
      positionsBetween: db.prepare(
        'SELECT position FROM leaf_positions WHERE position >= ? AND position <= ? ORDER BY position LIMIT ?',
      ),
      firstAfter: db.prepare(
        'SELECT leaf, position FROM leaf_positions WHERE position > ? ORDER BY position LIMIT 1',
      ),
      lastBefore: db.prepare(
        'SELECT position FROM leaf_positions WHERE position < ? ORDER BY position DESC LIMIT 1',
      ),
      latest: db.prepare(
        `SELECT ${columns} FROM checkpoints WHERE ${signed} ORDER BY tree_size DESC LIMIT 1`,
      ),
      checkpointAt: db.prepare(`SELECT ${columns} FROM checkpoints WHERE tree_size = ? AND ${signed}`),
      checkpointPage: db.prepare(
        `SELECT ${columns} FROM checkpoints WHERE tree_size > ? AND ${signed} ORDER BY tree_size ASC LIMIT ?`,
      ),
      insertCheckpoint: db.prepare(
        `INSERT OR IGNORE INTO checkpoints (${columns}) VALUES (?, ?, ?, ?, ?, ?)`,
      ),
      checkpointsUpTo: db.prepare(
        `SELECT count(*) AS count FROM checkpoints WHERE tree_size <= ? AND ${signed}`,
      ),
      sizesBetween: db.prepare(
        `SELECT tree_size AS size FROM checkpoints WHERE tree_size > ? AND tree_size <= ? AND ${signed} ORDER BY tree_size`,
      ),
      checkpointBefore: db.prepare(
        `SELECT max(tree_size) AS size FROM checkpoints WHERE tree_size < ? AND ${signed}`,
      ),
    };
    const addBatch = db.transaction((leaves: readonly { position: number; hash: Buffer }[]) =>
      this.addInTransaction(leaves),
    );
    this.addBatch = (leaves) => addBatch.immediate(leaves);
    const addRecorded = db.transaction((leaves: readonly RecordedLeaf[]) =>
      this.addRecordedInTransaction(leaves),
    );
    this.addRecordedBatch = (leaves) => addRecorded.immediate(leaves);
    const signNow = db.transaction(() => this.checkpointInTransaction());
    this.signNow = () => signNow.immediate();
    this.size = this.storedSize();
    this.seenLeaves = this.size;
  }

  private migrate(): void {
    const version = this.db.pragma('user_version', { simple: true }) as number;
    if (version > SCHEMA_VERSION)
      throw new Error(
        `the audit log has schema version ${version}, newer than this nrm-ledger knows (${SCHEMA_VERSION}); upgrade nrm-ledger first`,
      );
    if (version === SCHEMA_VERSION) return;
    this.db
      .transaction(() => {
        if (version === 0) this.db.exec(SCHEMA);
        if (version === 1) {
          const { upgraded, dropped } = upgradeLegacyCheckpoints(this.db, this.signer);
          this.logger?.info({ upgraded, dropped }, 'audit checkpoints signed again as C2SP notes');
        }
        this.db.exec(LEAF_INDEX);
        // Logs before the leaf index followed dense stores only: leaf n was the event at position n + 1.
        const indexed = this.db
          .prepare(
            'INSERT INTO leaf_positions (leaf, position) SELECT idx, idx + 1 FROM merkle_nodes WHERE level = 0',
          )
          .run().changes;
        if (indexed > 0) this.logger?.info({ indexed }, 'audit log leaf index built');
        this.db.pragma(`user_version = ${SCHEMA_VERSION}`);
      })
      .immediate();
  }

  // ---- the tree -----------------------------------------------------------

  /** Leaves in the log, as stored (another process may have added some). */
  get treeSize(): number {
    this.size = this.storedSize();
    if (this.size > this.seenLeaves) this.seenLeaves = this.size;
    return this.size;
  }

  private storedSize(): number {
    const last = this.sql.lastLeaf.get()?.last;
    return last === null || last === undefined ? 0 : last + 1;
  }

  node(level: number, index: number): Buffer {
    const row = this.sql.node.get(level, index);
    if (!row) throw new Error(`the audit log has no node ${index} at level ${level}`);
    return row.hash;
  }

  /** The recorded leaf hash of the event at `position`, if the log has recorded it. */
  leafHash(position: number): Buffer | undefined {
    const leaf = this.leafIndexOf(position);
    return leaf === undefined ? undefined : this.sql.node.get(0, leaf)?.hash;
  }

  // ---- the leaf index -------------------------------------------------------

  /** The leaf (from 0) of the event at store `position`, if the log recorded one there. */
  leafIndexOf(position: number): number | undefined {
    return this.sql.leafAt.get(position)?.leaf;
  }

  /** The store position of leaf `leafIndex` (from 0), if the log holds it. */
  positionAt(leafIndex: number): number | undefined {
    return this.sql.positionAt.get(leafIndex)?.position;
  }

  /** The store position of the last leaf; 0 for an empty log. */
  get lastPosition(): number {
    const size = this.treeSize;
    return size === 0 ? 0 : (this.positionAt(size - 1) ?? 0);
  }

  /** Recorded positions from `from` to `to` (inclusive), ascending, at most `limit`. */
  recordedPositions(from: number, to: number, limit: number): number[] {
    return this.sql.positionsBetween.all(from, to, limit).map((row) => row.position);
  }

  /** The first recorded leaf after store position `position`. */
  firstRecordedAfter(position: number): { leafIndex: number; position: number } | undefined {
    const row = this.sql.firstAfter.get(position);
    return row ? { leafIndex: row.leaf, position: row.position } : undefined;
  }

  /** The last recorded position before `position`, if any. */
  recordedBefore(position: number): number | undefined {
    return this.sql.lastBefore.get(position)?.position;
  }

  private checkSize(field: string, size: number, min = 0): void {
    if (!Number.isSafeInteger(size) || size < min)
      throw new MerkleRangeError(field, `${field} must be a whole number from ${min}`);
    const stored = this.treeSize;
    if (size > stored)
      throw new MerkleRangeError(field, `${field} ${size} is beyond the log, which holds ${stored} events`);
  }

  /** The roots of the perfect subtrees that make up the first `size` leaves, left first. */
  frontierAt(size: number): Buffer[] {
    this.checkSize('treeSize', size);
    return frontierOf(size).map(({ level, index }) => this.node(level, index));
  }

  rootAt(size: number): Buffer {
    return rootFromFrontier(this.frontierAt(size));
  }

  inclusionProof(position: number, treeSize: number): InclusionProof {
    this.checkSize('treeSize', treeSize, 1);
    if (!Number.isSafeInteger(position) || position < 1)
      throw new MerkleRangeError('position', 'position must be a whole number from 1');
    const leafIndex = this.leafIndexOf(position);
    if (leafIndex === undefined || leafIndex >= treeSize)
      throw new MerkleRangeError(
        'position',
        leafIndex === undefined && position <= this.lastPosition
          ? `position ${position} holds no event the log recorded`
          : `position ${position} is beyond a tree of ${treeSize} events`,
      );
    return {
      position,
      leafIndex,
      treeSize,
      leafHash: this.node(0, leafIndex),
      rootHash: this.rootAt(treeSize),
      proof: inclusionPath(this, leafIndex, treeSize),
    };
  }

  consistencyProof(firstSize: number, secondSize: number): ConsistencyProof {
    this.checkSize('secondSize', secondSize);
    this.checkSize('firstSize', firstSize);
    if (firstSize > secondSize)
      throw new MerkleRangeError(
        'firstSize',
        `firstSize ${firstSize} is larger than secondSize ${secondSize}`,
      );
    return {
      firstSize,
      secondSize,
      firstRoot: this.rootAt(firstSize),
      secondRoot: this.rootAt(secondSize),
      proof: consistencyPath(this, firstSize, secondSize),
    };
  }

  // ---- checkpoints --------------------------------------------------------

  latestCheckpoint(): SignedCheckpoint | undefined {
    const row = this.sql.latest.get();
    return row ? toCheckpoint(row) : undefined;
  }

  checkpointAt(treeSize: number): SignedCheckpoint | undefined {
    const row = this.sql.checkpointAt.get(treeSize);
    return row ? toCheckpoint(row) : undefined;
  }

  /** Checkpoints with a tree size above `after`, smallest first. */
  checkpoints(options: { after?: number; limit?: number } = {}): SignedCheckpoint[] {
    return this.sql.checkpointPage
      .all(options.after ?? 0, options.limit ?? Number.MAX_SAFE_INTEGER)
      .map(toCheckpoint);
  }

  /** Every checkpoint, smallest first, read in pages. */
  *allCheckpoints(): Generator<SignedCheckpoint> {
    let after = 0;
    for (;;) {
      const page = this.checkpoints({ after, limit: 256 });
      yield* page;
      if (page.length < 256) return;
      after = page[page.length - 1]!.treeSize;
    }
  }

  /** Signs a checkpoint of the whole log now, unless the latest one already covers it; returns the latest. */
  checkpoint(): SignedCheckpoint | undefined {
    // A follower signs nothing: the lease holder does, and the follower reads its checkpoints.
    if (this.lease && !this.lease.held) return this.latestCheckpoint();
    const latest = this.signNow();
    this.schedulePush();
    return latest;
  }

  /**
   * A checkpoint of the log as it is now: signed here by the writer; a follower sharing this
   * file (the console beside a running API) asks the writer, which signs within half a second,
   * and waits for it up to `timeoutMs`. Returns the latest checkpoint then.
   */
  async requestCheckpoint(timeoutMs = 10_000): Promise<SignedCheckpoint | undefined> {
    if (this.role === 'writer') return this.checkpoint();
    const size = this.treeSize;
    if (size === 0 || (this.latestCheckpoint()?.treeSize ?? 0) >= size) return this.latestCheckpoint();
    this.db.prepare('INSERT INTO checkpoint_requests (tree_size) VALUES (?)').run(size);
    for (let waited = 0; waited < timeoutMs; waited += 100) {
      if ((this.latestCheckpoint()?.treeSize ?? 0) >= size) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return this.latestCheckpoint();
  }

  /** The writer: signs now if a follower asked for a size the latest checkpoint does not cover. */
  private answerRequests(): void {
    const latest = this.latestCheckpoint()?.treeSize ?? 0;
    const asked = this.db
      .prepare<[], { size: number | null }>('SELECT max(tree_size) AS size FROM checkpoint_requests')
      .get()?.size;
    if (asked === null || asked === undefined) return;
    if (asked > latest) this.checkpoint();
    this.db
      .prepare('DELETE FROM checkpoint_requests WHERE tree_size <= ?')
      .run(this.latestCheckpoint()?.treeSize ?? 0);
  }

  /** The deployment's shared log this file replicates, if any. */
  get sharedLog(): SharedLog | undefined {
    return this.shared;
  }

  /** The role this process has now (see `MerkleLogOptions.lease`). */
  get role(): 'writer' | 'follower' {
    return !this.lease || this.lease.held ? 'writer' : 'follower';
  }

  /** Pushes to the shared log what this file holds beyond it, one push at a time; a failure stops writing. */
  private schedulePush(): void {
    const shared = this.shared;
    if (!shared || this.role !== 'writer') return;
    this.pushing = this.pushing
      .then(() => shared.push(this))
      .then(
        () => undefined,
        (error: unknown) => {
          this.logger?.error({ message: messageOf(error) }, 'audit log: push to the shared log failed');
          // Without the lease (a broken connection) another process writes now: follow it.
          if (this.lease && !this.lease.held && this.state === 'running') void this.demote();
        },
      );
  }

  /** Waits for the pushes scheduled so far. */
  async flushed(): Promise<void> {
    await this.pushing;
  }

  private checkpointInTransaction(): SignedCheckpoint | undefined {
    // Never signs over a file that went backwards: that would pass the loss off as the log's state.
    const rewind = this.rewound();
    if (rewind) throw new LogRewound(rewind);
    const size = this.storedSize();
    const latest = this.latestCheckpoint();
    if (size === 0 || (latest && latest.treeSize >= size)) return latest;
    const retired = this.retiredKeys();
    for (const signer of [this.signer, ...(this.signer.alsoSignedBy ?? [])])
      if (retired.some((r) => r.origin === signer.origin && r.keyId === signer.keyId))
        throw new RetiredKeyError(signer.keyId);
    const checkpoint = signCheckpoint(this.signer, {
      treeSize: size,
      rootHash: hashToHex(this.rootAt(size)),
      time: this.clock().toISOString(),
    });
    const parsed = parseSignedCheckpoint(checkpoint);
    if (!parsed.ok) throw new Error(`the log made a malformed checkpoint: ${parsed.reason}`);
    const { treeSize, rootHash, time, keyId, signature, note } = checkpoint;
    this.sql.insertCheckpoint.run(treeSize, rootHash, time, keyId, signature, note);
    this.logger?.info({ treeSize, rootHash }, 'audit checkpoint signed');
    // Another process may have signed the same size first: the stored one is the checkpoint.
    this.rewound();
    return this.checkpointAt(treeSize);
  }

  // ---- what this process saw of its file -------------------------------------

  /** What this process remembers of its file (see `rewound`). */
  remembered(): LogMemory {
    return {
      leaves: this.seenLeaves,
      ...(this.seenCheckpoint ? { checkpoint: { ...this.seenCheckpoint } } : {}),
      checkpoints: this.seenNotes.size,
    };
  }

  /**
   * Compares the file with what this process saw in it, and remembers what it holds beyond:
   * the checkpoint it last signed or verified must still be there with the same note, as many
   * checkpoints up to its size as it saw (one deleted in the middle), and at least as many
   * leaves. A newer checkpoint in the file is taken once its root is the tree's. With `full`,
   * every checkpoint seen is compared with the note it had (one replaced in the middle): a read
   * of every checkpoint, for the integrity watch's re-hash pass; otherwise a few indexed reads.
   * Returns what went backwards, if anything (the log then adds and signs nothing: `LogRewound`);
   * once found, it is returned from then on.
   */
  rewound(options: { full?: boolean } = {}): LogRewind | undefined {
    this.lost ??= this.compareWithMemory(options.full === true);
    return this.lost;
  }

  private compareWithMemory(full: boolean): LogRewind | undefined {
    const remembered = this.seenCheckpoint;
    if (remembered) {
      const row = this.sql.checkpointAt.get(remembered.treeSize);
      if (!row) return this.checkpointLost('checkpoint-deleted', remembered.treeSize);
      if (row.note !== remembered.note)
        return this.checkpointLost('checkpoint-replaced', remembered.treeSize);
      if (this.sql.checkpointsUpTo.get(remembered.treeSize)!.count !== this.seenNotes.size || full) {
        const lost = this.firstLostCheckpoint(remembered.treeSize);
        if (lost) return lost;
      }
    }
    const size = this.storedSize();
    const traced = this.leavesTraced(size);
    if (size < Math.max(this.seenLeaves, traced)) return this.leavesLost(size, traced);
    this.seenLeaves = size;
    const newest = this.sql.latest.get();
    if (!newest || newest.tree_size <= (remembered?.treeSize ?? 0)) return undefined;
    // A newer checkpoint (signed here or by another process sharing the file): the tree's root, or lost.
    if (newest.tree_size > size) return this.leavesLost(size, newest.tree_size);
    let parsed: SignedCheckpoint | undefined;
    try {
      parsed = toCheckpoint(newest);
    } catch {
      parsed = undefined;
    }
    const publicKey = (this.signer as { publicKey?: KeyObject }).publicKey;
    if (
      !parsed ||
      (publicKey !== undefined &&
        parsed.keyId === this.signer.keyId &&
        !verifyCheckpointSignature(parsed, publicKey).valid)
    )
      return this.checkpointLost(
        'checkpoint-replaced',
        newest.tree_size,
        'not validly signed by this log’s key',
      );
    // Validly signed with another root: the tree changed under it (the leaves' comparison with the
    // store finds where), or the key's holder signed another history. Not taken; a full check,
    // run after every leaf matched the store, names the checkpoint.
    if (hashToHex(this.rootAt(newest.tree_size)) !== newest.root_hash)
      return full
        ? this.checkpointLost('checkpoint-replaced', newest.tree_size, 'its root is not the tree’s')
        : undefined;
    for (const { size: between } of this.sql.sizesBetween.all(remembered?.treeSize ?? 0, newest.tree_size)) {
      const row = this.sql.checkpointAt.get(between);
      if (row) this.seenNotes.set(between, noteDigest(row.note));
    }
    this.seenCheckpoint = { treeSize: newest.tree_size, rootHash: newest.root_hash, note: newest.note };
    return undefined;
  }

  /**
   * The leaves the file's own rows say it held: a subtree's node, or a leaf's position, is only
   * ever written with its leaves, in one transaction (a power loss drops them together), so one
   * beyond the leaves is a tail deleted by hand. One indexed read per level.
   */
  private leavesTraced(size: number): number {
    let most = size;
    for (let level = 1; level < 53; level++) {
      const last = this.sql.lastAtLevel.get(level)?.last;
      if (last !== null && last !== undefined) most = Math.max(most, (last + 1) * 2 ** level);
    }
    const leaf = this.sql.lastLeafPosition.get()?.last;
    return leaf !== null && leaf !== undefined ? Math.max(most, leaf + 1) : most;
  }

  /** The first checkpoint seen up to the newest one that is gone or holds another note now. */
  private firstLostCheckpoint(upTo: number): LogRewind | undefined {
    const present = new Map<number, string>();
    let after = 0;
    for (;;) {
      const page = this.sql.checkpointPage.all(after, 256).filter((row) => row.tree_size <= upTo);
      for (const row of page) present.set(row.tree_size, noteDigest(row.note));
      if (page.length < 256) break;
      after = page[page.length - 1]!.tree_size;
    }
    for (const size of [...this.seenNotes.keys()].sort((a, b) => a - b)) {
      const digest = this.seenNotes.get(size);
      const now = present.get(size);
      if (now === undefined) return this.checkpointLost('checkpoint-deleted', size);
      if (now !== digest) return this.checkpointLost('checkpoint-replaced', size);
    }
    // Checkpoints below the newest that this process had not seen (a replica's late import): taken.
    for (const [size, digest] of present) if (!this.seenNotes.has(size)) this.seenNotes.set(size, digest);
    return undefined;
  }

  private checkpointLost(
    kind: 'checkpoint-deleted' | 'checkpoint-replaced',
    treeSize: number,
    why?: string,
  ): LogRewind {
    // The events it vouched for beyond the checkpoint before it: from the one after that one's size.
    const before = this.sql.checkpointBefore.get(treeSize)?.size ?? 0;
    const position = this.positionAt(before) ?? before + 1;
    const newest = this.sql.latest.get()?.tree_size ?? 0;
    const seen = this.seenNotes.get(treeSize);
    return {
      kind,
      position,
      treeSize,
      held: this.seenLeaves,
      ...(seen !== undefined ? { seen } : {}),
      detail:
        kind === 'checkpoint-deleted'
          ? `the signed checkpoint of ${treeSize} events this process saw in the audit log is gone (the newest there covers ${newest}): the signed evidence for positions from ${position} was deleted`
          : `the signed checkpoint of ${treeSize} events in the audit log is not the one this process saw${why ? ` (${why})` : ''}: it was replaced`,
    };
  }

  private leavesLost(size: number, checkpointSize?: number): LogRewind {
    const position = this.positionAt(size) ?? (size === 0 ? 0 : (this.positionAt(size - 1) ?? size)) + 1;
    const held = Math.max(this.seenLeaves, checkpointSize ?? 0);
    return {
      kind: 'log-truncated',
      position,
      treeSize: size,
      held,
      detail: `the audit log held ${held} leaves but its file now holds ${size}: its tail was deleted`,
    };
  }

  /** The keys rotated out of this log, oldest first: they sign nothing new. */
  retiredKeys(): RetiredKey[] {
    return (
      this.db
        .prepare('SELECT origin, key_id, successor, retired_at FROM retired_keys ORDER BY rowid')
        .all() as { origin: string; key_id: string; successor: string; retired_at: string }[]
    ).map((r) => ({ origin: r.origin, keyId: r.key_id, successor: r.successor, retiredAt: r.retired_at }));
  }

  /**
   * Retires a key of this log once a checkpoint signed by it and by its successor is stored:
   * from then on a checkpoint is never signed with it (`RetiredKeyError`).
   */
  retireKey(keyId: string, successor: string): void {
    const rotation = this.latestCheckpoint();
    const note = rotation ? parseSignedNote(rotation.note) : undefined;
    const names = note?.ok ? note.value.signatures.filter((s) => s.name === rotation!.origin) : [];
    if (!names.some((s) => s.keyId === keyId) || !names.some((s) => s.keyId === successor))
      throw new AuditKeyError(
        `the latest checkpoint is not signed by both ${keyId} and ${successor}: a key is retired only after its rotation checkpoint`,
      );
    this.db
      .prepare(
        'INSERT OR IGNORE INTO retired_keys (origin, key_id, successor, retired_at) VALUES (?, ?, ?, ?)',
      )
      .run(rotation!.origin, keyId, successor, this.clock().toISOString());
  }

  /** The tree size of a retired key's rotation checkpoint (the first one signed by it and its successor). */
  rotationCheckpointSize(key: RetiredKey): number | undefined {
    for (const checkpoint of this.allCheckpoints()) {
      if (checkpoint.origin !== key.origin) continue;
      const note = parseSignedNote(checkpoint.note);
      const ids = note.ok
        ? note.value.signatures.filter((s) => s.name === key.origin).map((s) => s.keyId)
        : [];
      if (ids.includes(key.keyId) && ids.includes(key.successor)) return checkpoint.treeSize;
    }
    return undefined;
  }

  /**
   * Records a key the shared log says was retired, once this replica can check its rotation
   * checkpoint (`rotationNote`): signed under this log's name by the retired key and its successor,
   * and either carrying a valid signature of this replica's own key (it is the retired key or the
   * successor) or handing over to a key this replica already holds as retired (an older step of a
   * chain of rotations; feed them newest first). Anything else is a shared log this replica cannot
   * follow: `LogForked`. Returns false when the key was already retired here.
   */
  importRetiredKey(key: RetiredKey, rotationNote: string | undefined): boolean {
    const retired = this.retiredKeys();
    if (retired.some((r) => r.origin === key.origin && r.keyId === key.keyId)) return false;
    const refuse = (why: string): never => {
      throw new LogForked(0, `it retires the key ${key.keyId}, but ${why}`);
    };
    if (key.origin !== this.signer.origin) refuse(`under another log name (${key.origin})`);
    if (rotationNote === undefined) refuse('it holds no rotation checkpoint for it');
    const checkpoint = parseSignedCheckpoint(rotationNote!);
    const note = parseSignedNote(rotationNote!);
    if (!checkpoint.ok || !note.ok) return refuse('its rotation checkpoint is malformed');
    const ids = note.value.signatures.filter((s) => s.name === key.origin).map((s) => s.keyId);
    if (!ids.includes(key.keyId) || !ids.includes(key.successor))
      refuse(`its rotation checkpoint is not signed by both ${key.keyId} and ${key.successor}`);
    const publicKey = (this.signer as { publicKey?: KeyObject }).publicKey;
    const ownKeyInIt =
      (this.signer.keyId === key.keyId || this.signer.keyId === key.successor) &&
      publicKey !== undefined &&
      verifyCheckpointSignature(checkpoint.value, publicKey).valid;
    const handsToRetired = retired.some((r) => r.origin === key.origin && r.keyId === key.successor);
    if (!ownKeyInIt && !handsToRetired)
      refuse(`neither this replica's key nor a key it holds as retired vouches for ${key.successor}`);
    this.db
      .prepare(
        'INSERT OR IGNORE INTO retired_keys (origin, key_id, successor, retired_at) VALUES (?, ?, ?, ?)',
      )
      .run(key.origin, key.keyId, key.successor, key.retiredAt);
    return true;
  }

  /** The interval's checkpoint: only when the log grew since the last one. */
  private checkpointIfGrown(): void {
    if (this.treeSize > (this.latestCheckpoint()?.treeSize ?? 0)) this.checkpoint();
  }

  // ---- adding events ------------------------------------------------------

  /**
   * Adds stored events, in position order, as leaves, and signs a checkpoint
   * when `checkpointEvery` events have come since the last; returns the new
   * tree size. Events the log already holds are checked against their leaves
   * and skipped. At an event it must refuse (`LogDiverged`, `LogGap`) it keeps
   * what came before and throws.
   */
  add(events: readonly RecordedEvent[]): number {
    if (events.length === 0) return this.treeSize;
    // Hashing needs no lock: only the inserts run inside the write transaction.
    const leaves = events.map((event) => ({ position: event.position, hash: eventLeafHash(event) }));
    if (this.lease && !this.lease.held) throw new NotLeaseHolder(this.lease.description);
    const before = this.size;
    const { size, refusal } = this.addBatch(leaves);
    this.size = size;
    if (size > this.seenLeaves) this.seenLeaves = size;
    this.announce(before, size);
    if (refusal) {
      this.schedulePush();
      throw refusal;
    }
    const latest = this.latestCheckpoint()?.treeSize ?? 0;
    if (this.size - latest >= this.checkpointEvery) this.checkpoint();
    this.schedulePush();
    return this.size;
  }

  private addInTransaction(leaves: readonly { position: number; hash: Buffer }[]): {
    size: number;
    refusal?: LogDiverged | LogGap;
  } {
    let size = this.storedSize();
    let last = size === 0 ? 0 : (this.positionAt(size - 1) ?? 0);
    // The roots of the complete subtrees so far: each new leaf merges with them as far as it completes one.
    const frontier = frontierOf(size).map(({ level, index }) => ({
      level,
      index,
      hash: this.node(level, index),
    }));
    // Its tail deleted under it: never appended to (on sparse positions it would skip the events).
    if (size < this.seenLeaves) return { size, refusal: new LogRewound(this.leavesLost(size)) };
    for (const { position, hash } of leaves) {
      if (position <= last) {
        // Recorded already (by this process or another): it must be the same event.
        const recorded = this.leafIndexOf(position);
        if (recorded === undefined || !this.node(0, recorded).equals(hash))
          return { size, refusal: new LogDiverged(position) };
        continue;
      }
      if (this.densePositions && position > last + 1)
        return { size, refusal: new LogGap(last + 1, position) };
      this.appendLeaf(frontier, size, position, hash);
      last = position;
      size++;
    }
    return { size };
  }

  /** Stores leaf `index` and every perfect subtree it completes; `frontier` is the tree's before it. */
  private appendLeaf(
    frontier: { level: number; index: number; hash: Buffer }[],
    index: number,
    position: number,
    hash: Buffer,
  ): void {
    this.sql.insertNode.run(0, index, hash);
    this.sql.insertLeafPosition.run(index, position);
    let node = { level: 0, index, hash };
    while (node.index % 2 === 1) {
      const left = frontier.pop();
      if (left?.level !== node.level || left.index !== node.index - 1)
        throw new Error(`the audit log's frontier lacks node ${node.index - 1} at level ${node.level}`);
      node = { level: node.level + 1, index: (node.index - 1) / 2, hash: nodeHash(left.hash, node.hash) };
      this.sql.insertNode.run(node.level, node.index, node.hash);
    }
    frontier.push(node);
  }

  /**
   * Adds leaves the deployment's shared log holds (see `SharedLog.pull`), in leaf order: one
   * this file holds already must be the same (hash and position), a new one must come next
   * with a later position; else `LogForked`. Returns the tree size.
   */
  addRecorded(leaves: readonly RecordedLeaf[]): number {
    if (leaves.length === 0) return this.treeSize;
    const before = this.size;
    const size = this.addRecordedBatch(leaves);
    this.size = size;
    this.announce(before, size);
    return size;
  }

  private addRecordedInTransaction(leaves: readonly RecordedLeaf[]): number {
    let size = this.storedSize();
    let last = size === 0 ? 0 : (this.positionAt(size - 1) ?? 0);
    const frontier = frontierOf(size).map(({ level, index }) => ({
      level,
      index,
      hash: this.node(level, index),
    }));
    for (const { leaf, position, hash } of leaves) {
      if (leaf < size) {
        if (!this.node(0, leaf).equals(hash) || this.positionAt(leaf) !== position)
          throw new LogForked(leaf, 'this replica recorded another event or position for it');
        continue;
      }
      if (leaf > size) throw new LogForked(leaf, `leaf ${size} is missing before it`);
      if (position <= last)
        throw new LogForked(leaf, `its position ${position} is not after the previous leaf's ${last}`);
      this.appendLeaf(frontier, leaf, position, hash);
      last = position;
      size++;
    }
    return size;
  }

  /**
   * Stores a checkpoint the shared log holds: signed by this log's key, for a size this file
   * holds, with the root this file computes. 'later' when this file does not reach its size yet.
   */
  importCheckpoint(note: string): 'imported' | 'later' {
    const parsed = parseSignedCheckpoint(note);
    if (!parsed.ok) throw new LogForked(0, `a checkpoint it holds is malformed: ${parsed.reason}`);
    const checkpoint = parsed.value;
    const { treeSize, rootHash, time, keyId, signature } = checkpoint;
    const retiredKeys = this.retiredKeys();
    // A retired key's checkpoints, or those of the key that took over from this replica's own
    // (a replica not yet restarted with the new key follows the writer that has it).
    const retired = retiredKeys.some(
      (r) =>
        r.origin === checkpoint.origin &&
        (r.keyId === keyId || (r.keyId === this.signer.keyId && r.successor === keyId)),
    );
    const publicKey = (this.signer as { publicKey?: KeyObject }).publicKey;
    // A rotation checkpoint names the old key first and carries this key's signature after it.
    const signedHere = publicKey !== undefined && verifyCheckpointSignature(checkpoint, publicKey).valid;
    if (checkpoint.origin !== this.signer.origin || (keyId !== this.signer.keyId && !retired && !signedHere))
      throw new LogForked(treeSize, `its checkpoint of ${treeSize} is signed by another key or origin`);
    if (keyId === this.signer.keyId && publicKey && !signedHere)
      throw new LogForked(treeSize, `its checkpoint of ${treeSize} has a bad signature`);
    if (treeSize > this.treeSize) return 'later';
    if (hashToHex(this.rootAt(treeSize)) !== rootHash)
      throw new LogForked(treeSize, `its checkpoint of ${treeSize} has another root than this replica`);
    this.sql.insertCheckpoint.run(treeSize, rootHash, time, keyId, signature, checkpoint.note);
    return 'imported';
  }

  /** Tells the listeners (the integrity watch) and the waiters about leaves added since `before`. */
  private announce(before: number, size: number): void {
    if (size > before)
      for (const listener of this.addedListeners)
        listener(this.positionAt(before) ?? before + 1, this.positionAt(size - 1) ?? size);
    this.waiters.advance(size);
  }

  /** Adds every event stored up to the store's head now, page by page; for the console and tests. */
  async catchUp(
    onProgress?: (p: { processed: number; total: number; leavesPerSec: number }) => void,
  ): Promise<CatchUpResult> {
    const started = performance.now();
    const head = await this.store.headPosition();
    const from = this.treeSize;
    const fromPosition = this.lastPosition;
    const rate = (added: number): number => {
      const seconds = (performance.now() - started) / 1000;
      return seconds > 0 ? added / seconds : 0;
    };
    let after = fromPosition;
    while (after < head) {
      const page: RecordedEvent[] = [];
      for await (const event of this.store.readAll({
        fromPosition: after === 0 ? 'start' : { after },
        maxCount: this.densePositions ? Math.min(this.batchSize, head - after) : this.batchSize,
      })) {
        if (event.position > head) break;
        page.push(event);
      }
      if (page.length === 0) break;
      const size = this.add(page);
      after = page[page.length - 1]!.position;
      onProgress?.({
        processed: this.densePositions ? after : size,
        total: this.densePositions ? head : size,
        leavesPerSec: rate(size - from),
      });
      await nextTurn();
    }
    const seconds = (performance.now() - started) / 1000;
    return {
      treeSize: this.treeSize,
      added: this.size - from,
      seconds,
      leavesPerSec: rate(this.size - from),
    };
  }

  // ---- following the store ------------------------------------------------

  /** Follows the store from the log's size; resolves once subscribed. Restarts after a failure. */
  async start(): Promise<void> {
    if (this.state === 'closed') throw new Error('the audit log is closed');
    if (this.state === 'running' || this.state === 'following') return;
    await this.stop();
    this.failure = undefined;
    if (this.lease && !(await this.lease.tryAcquire())) return this.follow();
    if (this.shared) {
      // The shared log first: this file continues it, never forks it.
      await this.pullShared();
      await this.shared.push(this);
    }
    this.subscribeFromLog();
  }

  /** Reads what the lease holder adds, every `followMs`, and takes the lease when it is free. */
  private follow(): void {
    this.state = 'following';
    this.logger?.info(
      { lease: this.lease?.description, treeSize: this.treeSize },
      'audit log follows the lease holder (read-only)',
    );
    this.followTimer = setInterval(() => {
      this.following ??= this.followStep().finally(() => {
        this.following = undefined;
      });
    }, this.followMs);
    this.followTimer.unref();
  }

  private async followStep(): Promise<void> {
    if (this.state !== 'following') return;
    try {
      const before = this.size;
      if (this.shared) await this.pullShared();
      const size = this.treeSize;
      if (size > before) this.announce(before, size);
      if (this.state !== 'following' || !this.lease || !(await this.lease.tryAcquire())) return;
      if (this.state !== 'following') {
        await this.lease.release();
        return;
      }
      this.logger?.info(
        { lease: this.lease.description },
        'audit log took the lease: this process writes now',
      );
      this.stopFollowing();
      try {
        if (this.shared) {
          await this.pullShared();
          await this.shared.push(this);
        }
      } catch (error) {
        // Not ready to write: give the lease up (another may take it) and follow again.
        await this.lease.release();
        this.follow();
        throw error;
      }
      this.subscribeFromLog();
    } catch (error) {
      // A shared log that forked from this replica stops it; an unreachable one is tried again.
      if (error instanceof LogForked)
        this.fail({ position: this.positionAt(error.leaf) ?? error.leaf + 1, message: messageOf(error) });
      else if (this.state === 'following')
        this.logger?.error(
          { message: messageOf(error) },
          'audit log: reading the shared log failed; retrying',
        );
      else this.fail({ message: messageOf(error) });
    }
  }

  /**
   * Reads the shared log into this file now (nothing without one): before the integrity watch
   * compares this file with the store at start, so that a fresh replica is not taken for a
   * truncated log.
   */
  async sync(): Promise<void> {
    await this.pullShared();
  }

  private async pullShared(): Promise<void> {
    if (!this.shared) return;
    const before = this.size;
    await this.shared.pull(this);
    this.size = this.storedSize();
    this.announce(before, this.size);
  }

  private stopFollowing(): void {
    if (this.followTimer) clearInterval(this.followTimer);
    this.followTimer = undefined;
  }

  /** Lost the lease while writing: stop following the store, follow the new holder. */
  private async demote(): Promise<void> {
    await this.stop();
    if (this.state === 'stopped') this.follow();
  }

  private subscribeFromLog(): void {
    const from = this.lastPosition;
    const subscription = this.store.subscribe({ fromPosition: from === 0 ? 'start' : { after: from } });
    this.subscription = subscription;
    this.state = 'running';
    this.loop = this.run(subscription);
    if (this.checkpointIntervalMs > 0) {
      this.checkpointTimer = setInterval(
        () => this.guard(() => this.checkpointIfGrown()),
        this.checkpointIntervalMs,
      );
      this.checkpointTimer.unref();
    }
    if (this.lease) {
      this.requestTimer = setInterval(() => this.guard(() => this.answerRequests()), 500);
      this.requestTimer.unref();
    }
    this.logger?.info({ fromPosition: from, lease: this.lease?.description }, 'audit log started');
  }

  /** Ends the subscription after adding what it has delivered. */
  async stop(): Promise<void> {
    if (this.checkpointTimer) clearInterval(this.checkpointTimer);
    this.checkpointTimer = undefined;
    if (this.requestTimer) clearInterval(this.requestTimer);
    this.requestTimer = undefined;
    this.stopFollowing();
    await this.following;
    if (this.state === 'following') this.state = 'stopped';
    if (!this.loop) return;
    await this.subscription?.close();
    await this.loop;
    this.loop = undefined;
    this.subscription = undefined;
  }

  async close(): Promise<void> {
    if (this.state === 'closed') return;
    await this.stop();
    await this.pushing;
    this.stopFollowing();
    this.state = 'closed';
    this.waiters.abandon();
    await this.lease?.release();
    await this.shared?.close();
    this.db.close();
  }

  /** Calls `listener` with the positions of the leaves each `add` recorded (for `IntegrityWatch`). */
  onAdded(listener: (first: number, last: number) => void): void {
    this.addedListeners.push(listener);
  }

  /** Stops following the store because it diverged from the log (see `IntegrityWatch`); `start` resumes. */
  halt(failure: { position?: number; message: string }): void {
    if (this.state === 'closed' || this.state === 'failed') return;
    if (this.state === 'running' || this.state === 'following') return this.fail(failure);
    this.state = 'failed';
    this.failure = failure;
  }

  /** Resolves true once the log holds `treeSize` leaves, false after `timeoutMs` or if it fails. */
  waitFor(treeSize: number, timeoutMs: number): Promise<boolean> {
    if (this.state !== 'closed' && this.treeSize >= treeSize) return Promise.resolve(true);
    // A follower's waiters advance as it reads the writer's leaves (every followMs).
    if (this.state === 'failed' || this.state === 'closed') return Promise.resolve(false);
    return this.waiters.wait(treeSize, timeoutMs);
  }

  health(): MerkleLogHealth {
    let latest: SignedCheckpoint | undefined;
    try {
      latest = this.state === 'closed' ? undefined : this.latestCheckpoint();
    } catch {
      // A malformed newest checkpoint (the integrity watch reports it): health still answers.
      latest = undefined;
    }
    return {
      ok: this.state === 'running' || this.state === 'following',
      state: this.state,
      role: this.role,
      treeSize: this.size,
      ...(latest ? { latestCheckpoint: { treeSize: latest.treeSize, time: latest.time } } : {}),
      ...(this.failure ? { failure: { ...this.failure } } : {}),
    };
  }

  private async run(subscription: Subscription): Promise<void> {
    try {
      for await (const event of subscription) {
        if (this.state !== 'running') break;
        this.buffer.push(event);
        if (this.buffer.length >= this.batchSize) {
          this.flush();
          await nextTurn();
        } else {
          // Events already read arrive within microtasks and join this batch.
          this.flushTimer ??= setImmediate(() => {
            this.flushTimer = undefined;
            this.flush();
          });
        }
      }
      this.flush();
    } catch (error) {
      this.flush();
      this.fail({ message: messageOf(error) });
    } finally {
      if (this.flushTimer) clearImmediate(this.flushTimer);
      this.flushTimer = undefined;
      this.buffer = [];
      if (this.state === 'running') this.state = 'stopped';
    }
  }

  private flush(): void {
    if (this.flushTimer) clearImmediate(this.flushTimer);
    this.flushTimer = undefined;
    const events = this.buffer;
    this.buffer = [];
    if (events.length === 0 || this.state !== 'running') return;
    this.guard(() => this.add(events));
  }

  /** Runs a step of the live loop; a failure stops the log and shows in `health()`. */
  private guard(step: () => void): void {
    if (this.state !== 'running') return;
    try {
      step();
    } catch (error) {
      if (error instanceof NotLeaseHolder) {
        this.logger?.error({ lease: this.lease?.description }, 'audit log lost its lease: it follows now');
        void this.demote();
        return;
      }
      const position =
        error instanceof LogDiverged || error instanceof LogRewound
          ? error.position
          : error instanceof LogGap
            ? error.expected
            : undefined;
      this.fail({ ...(position !== undefined ? { position } : {}), message: messageOf(error) });
    }
  }

  private fail(failure: { position?: number; message: string }): void {
    if (this.state === 'following') {
      this.stopFollowing();
      this.state = 'running';
    }
    if (this.state !== 'running') return;
    this.state = 'failed';
    this.failure = failure;
    this.logger?.error(failure, 'audit log stopped');
    void this.subscription?.close();
    this.waiters.abandon();
  }
}
