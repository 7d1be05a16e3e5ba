import Database from 'better-sqlite3';
import {
  EventStoreClosed,
  EventStoreUnavailable,
  type EventStore,
  type RecordedEvent,
} from '@nrm/event-store';
import { randomUUID } from 'node:crypto';
import { eventLeafHash } from './leaf';
import { noteDigest, type MerkleLog } from './merkle-log';

/**
 * What the running ledger finds when the event store no longer holds what its
 * audit log recorded:
 * - `changed`: the event at the position is not the one recorded (bytes changed);
 * - `reused`: the position holds an event recorded after a checkpoint covering it was signed;
 * - `missing`: the position is gone while later ones remain;
 * - `truncated`: the position and every later one are gone (a deleted tail);
 * - `rolled-back`: as truncated, and the store's own high-water mark is below the log's
 *   size too: the store is an older copy;
 * - `forked`: the log's tree of the anchor's size has another root than the anchor (a
 *   checkpoint kept outside the data directory): store and log were replaced together.
 * The log's own file going backwards, the events untouched (see `MerkleLog.rewound`):
 * - `log-truncated`: the log holds fewer leaves than the running ledger saw in it, or than the
 *   anchor covers while the store still holds those events (its Merkle tail was deleted);
 * - `checkpoint-deleted`: a signed checkpoint the running ledger signed or verified is gone
 *   (the newest ones, or one in the middle);
 * - `checkpoint-replaced`: such a checkpoint holds another note, a newer one is not validly
 *   signed, or the log's checkpoint of the anchor's size has another root than the anchor.
 */
export const INTEGRITY_KINDS = [
  'changed',
  'reused',
  'missing',
  'truncated',
  'rolled-back',
  'forked',
  'log-truncated',
  'checkpoint-deleted',
  'checkpoint-replaced',
] as const;
export type IntegrityKind = (typeof INTEGRITY_KINDS)[number];

/** Kinds about the log's own file: the store is not at fault, and is not searched for the first fault. */
const LOG_FILE_KINDS: readonly IntegrityKind[] = [
  'log-truncated',
  'checkpoint-deleted',
  'checkpoint-replaced',
];

/** What a finding about the log's file expects back before a restart clears it (kept with it). */
interface Expected {
  readonly leaves: number;
  readonly checkpoint?: { readonly treeSize: number; readonly digest: string };
}

type Hint = Omit<IntegrityFinding, 'id' | 'detectedAt' | 'by'> & { readonly expected?: Expected };

export interface IntegrityFinding {
  readonly id: string;
  readonly kind: IntegrityKind;
  /** The first position at fault. */
  readonly position: number;
  readonly detail: string;
  readonly detectedAt: string;
  /** What found it: `start`, `head`, `recorded`, `rehash` or `proof`. */
  readonly by: string;
}

export interface IntegrityLogger {
  info(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface IntegrityWatchOptions {
  readonly log: MerkleLog;
  readonly store: EventStore;
  /** The log's SQLite file (where findings are kept), or ':memory:'. */
  readonly filename: string;
  /** How often the store's head and last recorded event are compared with the log (default 5 s; 0: never). */
  readonly headCheckMs?: number;
  /** Full re-hash: events compared per second at most (default 1000; 0: no re-hash). */
  readonly rehashEventsPerSecond?: number;
  /** Pause between two full re-hash passes (default 1 h). */
  readonly rehashPauseMs?: number;
  /**
   * A checkpoint kept outside the data directory (e.g. the last one a witness or the oversight
   * body holds): without it, a store and its log replaced together by an older copy agree with
   * each other, and only an outside memory can tell.
   */
  readonly anchor?: { readonly treeSize: number; readonly rootHash: string; readonly time?: string };
  readonly clock?: () => Date;
  readonly logger?: IntegrityLogger;
  /** Called once per new finding (and for a finding still standing at start). */
  readonly onFinding?: (finding: IntegrityFinding) => void;
  /** Called when a finding kept from before is found resolved at start (the store was restored). */
  readonly onCleared?: (finding: IntegrityFinding) => void;
}

export interface IntegrityStatus {
  readonly ok: boolean;
  readonly finding?: IntegrityFinding;
  readonly rehash: { readonly passes: number; readonly cursor: number; readonly lastPassAt?: string };
}

interface FindingRow {
  id: string;
  kind: IntegrityKind;
  position: number;
  detail: string;
  detected_at: string;
  found_by: string;
  expected: string | null;
}

// Kept apart from the log's versioned schema (CREATE … IF NOT EXISTS): one table, never read by the tree.
const SCHEMA = `
  CREATE TABLE IF NOT EXISTS integrity_findings (
    id          TEXT PRIMARY KEY,
    kind        TEXT NOT NULL,
    position    INTEGER NOT NULL,
    detail      TEXT NOT NULL,
    detected_at TEXT NOT NULL,
    found_by    TEXT NOT NULL,
    cleared_at  TEXT,
    cleared_how TEXT,
    expected    TEXT
  );
`;

const PAGE = 256;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/**
 * Watches the event store against the audit log while the ledger runs: the
 * head and the last recorded event at start and every `headCheckMs`, every
 * newly recorded leaf (with the one before it) against the store, and a full
 * re-hash at a bounded rate. The first divergence is a finding: kept in the
 * log's file, logged, reported to `onFinding` (the API refuses appends then),
 * and the log stops adding leaves. It stands until a start finds the store
 * holding again what the log recorded (restored from a backup).
 */
export class IntegrityWatch {
  private readonly db: Database.Database;
  private readonly log: MerkleLog;
  private readonly store: EventStore;
  private readonly headCheckMs: number;
  private readonly rate: number;
  private readonly pauseMs: number;
  private readonly clock: () => Date;
  private readonly logger: IntegrityLogger | undefined;
  private readonly options: IntegrityWatchOptions;
  private current: IntegrityFinding | undefined;
  private running = false;
  private headTimer: NodeJS.Timeout | undefined;
  private rehashLoop: Promise<void> | undefined;
  private checks: Promise<unknown> = Promise.resolve();
  private passes = 0;
  private cursor = 0;
  private lastPassAt: string | undefined;

  constructor(options: IntegrityWatchOptions) {
    this.options = options;
    this.log = options.log;
    this.store = options.store;
    this.headCheckMs = options.headCheckMs ?? 5000;
    this.rate = options.rehashEventsPerSecond ?? 1000;
    this.pauseMs = options.rehashPauseMs ?? 3_600_000;
    this.clock = options.clock ?? (() => new Date());
    this.logger = options.logger;
    for (const [name, value] of [
      ['headCheckMs', this.headCheckMs],
      ['rehashEventsPerSecond', this.rate],
      ['rehashPauseMs', this.pauseMs],
    ] as const)
      if (!Number.isSafeInteger(value) || value < 0)
        throw new RangeError(`${name} must be a whole number from 0`);
    this.db = new Database(options.filename);
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(SCHEMA);
    // Files from before the log's own memory was kept with its findings.
    const columns = this.db.prepare<[], { name: string }>('PRAGMA table_info(integrity_findings)').all();
    if (!columns.some((c) => c.name === 'expected'))
      this.db.exec('ALTER TABLE integrity_findings ADD COLUMN expected TEXT');
  }

  /** The standing finding, if any. */
  finding(): IntegrityFinding | undefined {
    return this.current;
  }

  status(): IntegrityStatus {
    return {
      ok: this.current === undefined,
      ...(this.current ? { finding: this.current } : {}),
      rehash: {
        passes: this.passes,
        cursor: this.cursor,
        ...(this.lastPassAt ? { lastPassAt: this.lastPassAt } : {}),
      },
    };
  }

  /**
   * Checks before the log follows the store: a finding kept from before is
   * re-checked (cleared if the store was restored), then the head and the last
   * recorded event. Resolves with the standing finding, if any; starts the
   * periodic checks either way.
   */
  async start(): Promise<IntegrityFinding | undefined> {
    this.running = true;
    const kept = this.db
      .prepare<[], FindingRow>(
        'SELECT id, kind, position, detail, detected_at, found_by, expected FROM integrity_findings WHERE cleared_at IS NULL ORDER BY detected_at LIMIT 1',
      )
      .get();
    if (kept) {
      const finding = fromRow(kept);
      // A finding about the log's file is checked against what the log held then; one kept without
      // it (found by the anchor, or a checkpoint the log never saw) by the checks that find them.
      const logFile = LOG_FILE_KINDS.includes(finding.kind);
      const again =
        logFile && kept.expected !== null
          ? this.stillLost(kept.expected)
          : ((await this.scan(finding.position, finding.position, 0)) ??
            (await this.headFinding()) ??
            (logFile ? this.rewindFinding(true) : undefined));
      if (again) {
        this.current = finding;
        this.logger?.error(this.describe(finding), 'audit integrity finding still stands');
        this.options.onFinding?.(finding);
      } else {
        this.db
          .prepare('UPDATE integrity_findings SET cleared_at = ?, cleared_how = ? WHERE id = ?')
          .run(
            this.clock().toISOString(),
            LOG_FILE_KINDS.includes(finding.kind)
              ? 'restart after restore: the log holds again what it held'
              : 'restart after restore: the store holds the recorded events',
            finding.id,
          );
        this.logger?.info(this.describe(finding), 'audit integrity finding cleared: the store was restored');
        this.options.onCleared?.(finding);
      }
    }
    if (!this.current) await this.checkHead('start');
    if (this.headCheckMs > 0) {
      this.headTimer = setInterval(() => void this.queue(() => this.checkHead('head')), this.headCheckMs);
      this.headTimer.unref();
    }
    if (this.rate > 0) this.rehashLoop = this.rehash();
    return this.current;
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.headTimer) clearInterval(this.headTimer);
    this.headTimer = undefined;
    await this.rehashLoop;
    this.rehashLoop = undefined;
    await this.checks;
  }

  async close(): Promise<void> {
    await this.stop();
    if (this.db.open) this.db.close();
  }

  /** Compares leaves `first`..`last` just recorded, and the one before them, with the store. */
  recorded(first: number, last: number): void {
    void this.queue(async () => {
      const hint = await this.scan(this.log.recordedBefore(first) ?? first, last, 0);
      if (hint) await this.report(hint, 'recorded');
    });
  }

  /** Compares one recorded position with the store now (before a proof is served); reports a divergence. */
  async checkPosition(position: number, by = 'proof'): Promise<IntegrityFinding | undefined> {
    const hint = await this.scan(position, position, 0);
    return hint ? this.report(hint, by) : undefined;
  }

  /** The head and the last recorded event against the log now. */
  async checkHead(by = 'head'): Promise<IntegrityFinding | undefined> {
    if (this.current) return this.current;
    const hint = await this.headFinding();
    return hint ? this.report(hint, by) : undefined;
  }

  /** Waits for the checks queued so far (recorded leaves, head checks). */
  async settled(): Promise<void> {
    await this.checks;
  }

  private queue(check: () => Promise<unknown>): Promise<unknown> {
    const next = this.checks
      .then(check)
      .catch((error: unknown) =>
        this.logger?.error(
          { message: error instanceof Error ? error.message : String(error) },
          'audit integrity check failed',
        ),
      );
    this.checks = next;
    return next;
  }

  /**
   * A finding about the log's file stands while the file lacks what the log held when it was
   * found: as many leaves, and the checkpoint lost (with the same note when it was the newest).
   */
  private stillLost(expected: string): boolean {
    try {
      const { leaves, checkpoint } = JSON.parse(expected) as Expected;
      if (this.log.treeSize < leaves) return true;
      if (!checkpoint) return false;
      const now = this.log.checkpointAt(checkpoint.treeSize);
      if (!now) return true;
      return noteDigest(now.note) !== checkpoint.digest;
    } catch {
      return true;
    }
  }

  /**
   * The log's file against what the running log saw in it (`MerkleLog.rewound`). What it held is
   * kept with the finding; a checkpoint it never saw (a newer one not validly signed) is not, and
   * the start after checks the file again instead.
   */
  private rewindFinding(full: boolean): Hint | undefined {
    const rewind = this.log.rewound({ full });
    if (!rewind) return undefined;
    const lostUnseen = rewind.kind !== 'log-truncated' && rewind.seen === undefined;
    return {
      kind: rewind.kind,
      position: rewind.position,
      detail: rewind.detail,
      ...(lostUnseen
        ? {}
        : {
            expected: {
              leaves: rewind.held,
              ...(rewind.seen !== undefined
                ? { checkpoint: { treeSize: rewind.treeSize, digest: rewind.seen } }
                : {}),
            },
          }),
    };
  }

  private async headFinding(): Promise<Hint | undefined> {
    const rewound = this.rewindFinding(false);
    if (rewound) return rewound;
    const size = this.log.treeSize;
    const anchored = await this.anchorFinding(size);
    if (anchored) return anchored;
    // Positions, not leaf counts: on EventStoreDB they are sparse (the leaf index maps them).
    const last = this.log.lastPosition;
    // The mark before the head: an append committed between the two reads raises both, and a
    // mark read first can then only be below the head, never above it.
    const handedOut = await this.store.positionsHandedOut?.();
    const head = await this.store.headPosition();
    if (head < last) {
      const kind: IntegrityKind = handedOut !== undefined && handedOut < last ? 'rolled-back' : 'truncated';
      return {
        kind,
        position: this.log.firstRecordedAfter(head)?.position ?? head + 1,
        detail:
          kind === 'rolled-back'
            ? `the event store ends at position ${head} and never handed out more than ${handedOut}, but the audit log recorded ${size} events: the store is an older copy`
            : `the event store ends at position ${head} but the audit log recorded ${size} events: the events after ${head} were deleted`,
      };
    }
    // The store's own high-water mark above its head: positions handed out, then deleted (even
    // when the log was rebuilt from what was left and agrees with it).
    if (handedOut !== undefined && handedOut > head)
      return {
        kind: 'truncated',
        position: head + 1,
        detail: `the event store handed out positions up to ${handedOut} but ends at ${head}: the events after ${head} were deleted`,
      };
    return size === 0 ? undefined : this.scan(last, last, 0);
  }

  /** The log against the checkpoint kept outside: as large, and the same root at its size. */
  private async anchorFinding(size: number): Promise<Hint | undefined> {
    const anchor = this.options.anchor;
    if (!anchor || anchor.treeSize < 1) return undefined;
    const shorter = size < anchor.treeSize;
    if (!shorter && this.log.rootAt(anchor.treeSize).toString('hex') === anchor.rootHash) {
      // The tree agrees; the log's own checkpoint of that size, if it kept one, must too.
      const row = this.log.checkpointAt(anchor.treeSize);
      if (!row || row.rootHash === anchor.rootHash) return undefined;
      return {
        kind: 'checkpoint-replaced',
        position: 1,
        detail: `the log's checkpoint of ${anchor.treeSize} events has another root than the kept checkpoint and the tree: it was replaced`,
      };
    }
    const covered = Math.min(size, anchor.treeSize);
    const late = await this.firstLate(covered, this.log.positionAt(covered - 1) ?? covered, anchor.time);
    if (late)
      return {
        kind: 'reused',
        position: late,
        detail: `position ${late} holds an event recorded after the kept checkpoint of ${anchor.treeSize} events was signed: the events from here were replaced`,
      };
    if (!shorter)
      return {
        kind: 'forked',
        position: 1,
        detail: `the log's tree of ${anchor.treeSize} events has another root than the kept checkpoint: the store and its log were replaced`,
      };
    // The store still holds every event the anchor covers (dense positions): the log lost its tail.
    if (this.log.densePositions && (await this.store.headPosition()) >= anchor.treeSize)
      return {
        kind: 'log-truncated',
        position: this.log.lastPosition + 1,
        detail: `the kept checkpoint covers ${anchor.treeSize} events and the event store still holds them, but the log holds ${size}: its Merkle tail was deleted`,
      };
    const handedOut = await this.store.positionsHandedOut?.();
    const kind: IntegrityKind =
      handedOut !== undefined && handedOut >= anchor.treeSize ? 'truncated' : 'rolled-back';
    return {
      kind,
      position: this.log.lastPosition + 1,
      detail: `the kept checkpoint covers ${anchor.treeSize} events but the log holds ${size}: ${kind === 'truncated' ? 'the events from here were deleted and the log rebuilt' : 'the store and its log are an older copy'}`,
    };
  }

  /** The first of the store's first `count` events, up to position `to`, recorded after `time`. */
  private async firstLate(count: number, to: number, time: string | undefined): Promise<number | undefined> {
    const after = Date.parse(time ?? '');
    if (Number.isNaN(after) || count < 1) return undefined;
    for await (const event of this.store.readAll({ fromPosition: 'start', maxCount: count }))
      if (event.position <= to && Date.parse(event.recordedAt) > after) return event.position;
    return undefined;
  }

  /**
   * Compares the recorded leaves at positions `from`..`to` with the store: the
   * first recorded position missing, holding another event, or an event the log
   * never recorded between two it did. Positions come from the log's leaf index
   * (sparse on EventStoreDB). `perSecond` > 0 bounds the rate.
   */
  private async scan(
    from: number,
    to: number,
    perSecond: number,
  ): Promise<Omit<IntegrityFinding, 'id' | 'detectedAt' | 'by'> | undefined> {
    let cursor = from;
    while (cursor <= to) {
      const recorded = this.log.recordedPositions(cursor, to, PAGE);
      if (recorded.length === 0) return undefined;
      const last = recorded[recorded.length - 1]!;
      const page = await this.readFrom(recorded[0]!, recorded.length);
      let i = 0;
      for (const event of page) {
        const expected = recorded[i];
        if (expected === undefined || event.position > last) break;
        if (event.position > expected) return this.missing(expected);
        if (event.position < expected) return this.unrecorded(event);
        const leaf = this.log.leafHash(event.position);
        if (leaf && !leaf.equals(eventLeafHash(event))) return this.mismatch(event);
        i++;
      }
      // The store ended before the recorded positions did.
      if (i < recorded.length) return this.missing(recorded[i]!);
      cursor = last + 1;
      if (perSecond > 0) {
        this.cursor = last;
        await sleep((page.length / perSecond) * 1000);
        if (!this.running || this.current) return undefined;
      }
    }
    return undefined;
  }

  /**
   * Up to `count` stored events from recorded position `first` on. They are read after the
   * recorded position before it; on EventStoreDB a read from a position whose event was deleted
   * fails, so the read starts from an earlier recorded position then (the events before `first`
   * are dropped): the deletion then shows as a missing position, never as a failed check.
   */
  private async readFrom(first: number, count: number): Promise<RecordedEvent[]> {
    let before = this.log.recordedBefore(first);
    for (let attempt = 0; ; attempt++) {
      try {
        const page: RecordedEvent[] = [];
        for await (const event of this.store.readAll({
          fromPosition: before === undefined ? 'start' : { after: before },
          maxCount: count + attempt,
        }))
          if (event.position >= first) page.push(event);
        return page;
      } catch (error) {
        if (
          before === undefined ||
          error instanceof EventStoreUnavailable ||
          error instanceof EventStoreClosed
        )
          throw error;
        // Not a failure of the store: the position to read after is not one it holds.
        before = attempt < 64 ? this.log.recordedBefore(before) : undefined;
      }
    }
  }

  /** An event at a position the log passed over without recording: put there after the fact. */
  private unrecorded(event: RecordedEvent): Omit<IntegrityFinding, 'id' | 'detectedAt' | 'by'> {
    return {
      kind: 'changed',
      position: event.position,
      detail: `the event store holds an event at position ${event.position}, between events the audit log recorded, that the log never recorded`,
    };
  }

  private async missing(position: number): Promise<Omit<IntegrityFinding, 'id' | 'detectedAt' | 'by'>> {
    const head = await this.store.headPosition();
    if (head >= position)
      return {
        kind: 'missing',
        position,
        detail: `the event store no longer holds position ${position}, which the audit log recorded; later positions remain`,
      };
    const handedOut = await this.store.positionsHandedOut?.();
    const size = this.log.treeSize;
    const kind: IntegrityKind =
      handedOut !== undefined && handedOut < this.log.lastPosition ? 'rolled-back' : 'truncated';
    return {
      kind,
      position,
      detail: `the event store ends at position ${head} but the audit log recorded ${size} events${kind === 'rolled-back' ? ': the store is an older copy' : ': the events from here were deleted'}`,
    };
  }

  private mismatch(event: RecordedEvent): Omit<IntegrityFinding, 'id' | 'detectedAt' | 'by'> {
    const leaf = this.log.leafIndexOf(event.position) ?? event.position - 1;
    const covering = this.log.checkpoints({ after: leaf, limit: 1 })[0];
    const signed = covering ? Date.parse((covering as { time?: string }).time ?? '') : Number.NaN;
    const reused = Date.parse(event.recordedAt) > signed;
    return reused
      ? {
          kind: 'reused',
          position: event.position,
          detail: `position ${event.position} holds an event recorded after the checkpoint of ${covering!.treeSize} events that covers it: the position was handed out again`,
        }
      : {
          kind: 'changed',
          position: event.position,
          detail: `the stored event at position ${event.position} no longer matches the leaf the audit log recorded for it`,
        };
  }

  /**
   * A divergence was seen: localise it (the first position at fault, found by
   * comparing every recorded leaf at full speed), keep it, log it, report it,
   * and stop the log.
   */
  private async report(hint: Hint, by: string): Promise<IntegrityFinding> {
    if (this.current) return this.current;
    const { expected, ...found } = hint;
    // About the log's file, not the store: nothing to localise in the store.
    const local = hint.kind !== 'forked' && !LOG_FILE_KINDS.includes(hint.kind) && hint.position > 1;
    const first = local
      ? await this.scan(1, Math.min(hint.position - 1, this.log.lastPosition), 0)
      : undefined;
    if (this.current) return this.current;
    const finding: IntegrityFinding = {
      id: randomUUID(),
      ...(first ?? found),
      detectedAt: this.clock().toISOString(),
      by,
    };
    this.current = finding;
    if (this.db.open)
      this.db
        .prepare(
          'INSERT INTO integrity_findings (id, kind, position, detail, detected_at, found_by, expected) VALUES (?, ?, ?, ?, ?, ?, ?)',
        )
        .run(
          finding.id,
          finding.kind,
          finding.position,
          finding.detail,
          finding.detectedAt,
          by,
          first === undefined && expected ? JSON.stringify(expected) : null,
        );
    this.logger?.error(
      this.describe(finding),
      LOG_FILE_KINDS.includes(finding.kind)
        ? 'audit integrity finding: the audit log went backwards'
        : 'audit integrity finding: the event store diverged from the audit log',
    );
    this.log.halt({ position: finding.position, message: `${finding.kind}: ${finding.detail}` });
    this.options.onFinding?.(finding);
    return finding;
  }

  private describe(finding: IntegrityFinding): object {
    return { findingId: finding.id, kind: finding.kind, position: finding.position, by: finding.by };
  }

  /** Full passes over every recorded leaf, at most `rate` events per second, `pauseMs` apart. */
  private async rehash(): Promise<void> {
    while (this.running && !this.current) {
      const size = this.log.lastPosition;
      this.cursor = 0;
      try {
        const hint =
          (size > 0 ? await this.scan(1, size, this.rate) : undefined) ??
          (this.running && !this.current ? this.rewindFinding(true) : undefined);
        if (!this.running || this.current) return;
        if (hint) {
          await this.queue(() => this.report(hint, 'rehash'));
          return;
        }
      } catch (error) {
        this.logger?.error(
          { message: error instanceof Error ? error.message : String(error) },
          'audit re-hash failed',
        );
      }
      this.passes++;
      this.cursor = size;
      this.lastPassAt = this.clock().toISOString();
      for (let waited = 0; waited < this.pauseMs && this.running; waited += 200)
        await sleep(Math.min(200, this.pauseMs - waited));
      if (this.pauseMs === 0) await sleep(10);
    }
  }
}

function fromRow(row: FindingRow): IntegrityFinding {
  return {
    id: row.id,
    kind: row.kind,
    position: row.position,
    detail: row.detail,
    detectedAt: row.detected_at,
    by: row.found_by,
  };
}
