import type { EventStore } from '@nrm/event-store';
import { createHash } from 'node:crypto';
import { canonicalJson } from './canonical-json';
import type { SignedCheckpoint } from './checkpoint';
import { hashToHex } from './encoding';
import { leafRecord } from './leaf';
import { leafHash, MerkleRangeError } from './merkle';
import type { MerkleLog } from './merkle-log';

/**
 * The export format, NDJSON, every line canonical JSON:
 *
 * 1. a header: `{format, version, fromPosition, toPosition, checkpoints, prefix}`,
 *    where `prefix` is the frontier of the tree before `fromPosition` (the roots
 *    of its perfect subtrees, left first), so that the roots of the log can be
 *    recomputed from the exported events alone, and `checkpoints` how many
 *    checkpoint lines follow the events;
 * 2. one line per event of the range, in position order:
 *    `{event: <the stored event, as its leaf commits to it>, leafHash}`, where
 *    `leafHash` is the leaf the log recorded when it first saw the event (so a
 *    verifier can name the very event that changed since);
 * 3. every checkpoint the log had signed when exported, smallest first, each
 *    tied to the exported range: those of a size within it are recomputed from
 *    the events; those before or after it carry a consistency proof to or from
 *    the tree at `toPosition`.
 */
export const EXPORT_FORMAT = 'nrm-ledger-export';
export const EXPORT_VERSION = 1;
/**
 * Version 2, for a log over a store with sparse positions (EventStoreDB): the
 * header's range is in leaf numbers (`fromLeaf`, `toLeaf`, from 1), and every
 * event line names its leaf: `{event, leaf, leafHash}`, positions strictly
 * increasing with the leaves. Everything else as version 1, where leaf numbers
 * are the positions.
 */
export const EXPORT_VERSION_SPARSE = 2;

export interface ExportHeader {
  readonly format: typeof EXPORT_FORMAT;
  readonly version: typeof EXPORT_VERSION;
  readonly fromPosition: number;
  readonly toPosition: number;
  readonly checkpoints: number;
  readonly prefix: { readonly treeSize: number; readonly frontier: readonly string[] };
}

export interface SparseExportHeader {
  readonly format: typeof EXPORT_FORMAT;
  readonly version: typeof EXPORT_VERSION_SPARSE;
  readonly fromLeaf: number;
  readonly toLeaf: number;
  readonly checkpoints: number;
  readonly prefix: { readonly treeSize: number; readonly frontier: readonly string[] };
}

export interface ExportConsistency {
  readonly fromSize: number;
  readonly toSize: number;
  readonly proof: readonly string[];
}

export interface ExportCheckpointLine {
  readonly checkpoint: SignedCheckpoint;
  readonly consistency?: ExportConsistency;
}

export interface ExportRange {
  readonly from: number;
  readonly to: number;
}

export interface ExportSummary {
  readonly fromPosition: number;
  readonly toPosition: number;
  readonly events: number;
  readonly checkpoints: number;
  /** The largest checkpoint exported. */
  readonly treeSize: number;
  readonly rootHash: string;
  /** Positions whose stored event no longer matches its recorded leaf: exported as found, for the verifier to name. */
  readonly changedPositions: readonly number[];
  /** SHA-256 of the export's bytes, hex. */
  readonly sha256: string;
  readonly seconds: number;
  readonly eventsPerSec: number;
}

export interface ExportProgress {
  readonly processed: number;
  readonly total: number;
  readonly eventsPerSec: number;
}

/** Where the lines go; `write` may return a promise to apply back-pressure. */
export interface ExportSink {
  write(line: string): void | Promise<void>;
}

/**
 * Checks a range against the log: whole positions, from ≤ to, and every
 * exported event covered by a signed checkpoint (so `to` ≤ the latest one).
 */
export function checkExportRange(log: MerkleLog, range: ExportRange): SignedCheckpoint {
  const { from, to } = range;
  if (!Number.isSafeInteger(from) || from < 1)
    throw new MerkleRangeError('from', 'from must be a whole number from 1');
  if (!Number.isSafeInteger(to) || to < 1)
    throw new MerkleRangeError('to', 'to must be a whole number from 1');
  if (from > to) throw new MerkleRangeError('from', `from (${from}) must not be after to (${to})`);
  const latest = log.latestCheckpoint();
  if (!latest || latest.treeSize < to)
    throw new MerkleRangeError(
      'to',
      `to (${to}) is beyond the latest signed checkpoint (${latest?.treeSize ?? 0} events): let the log sign one first`,
    );
  return latest;
}

/**
 * Writes an export of `range` (positions, both inclusive; on a log over sparse
 * positions, `densePositions` false, leaf numbers from 1, in format version 2). Events come from the
 * store as stored now; leaf hashes and checkpoints from the log. An event that
 * changed in the store since the log recorded it is exported as found: the
 * verifier then reports it, at its position.
 */
export async function writeExport(
  store: EventStore,
  log: MerkleLog,
  range: ExportRange,
  sink: ExportSink,
  onProgress?: (progress: ExportProgress) => void,
): Promise<ExportSummary> {
  const latest = checkExportRange(log, range);
  const { from, to } = range;
  const started = performance.now();
  const digest = createHash('sha256');
  const emitLine = async (line: string): Promise<void> => {
    digest.update(line, 'utf8');
    await sink.write(line);
  };
  const emit = (value: unknown): Promise<void> => emitLine(`${canonicalJson(value)}\n`);
  const rate = (events: number): number => {
    const seconds = (performance.now() - started) / 1000;
    return seconds > 0 ? events / seconds : 0;
  };
  const checkpoints = [...log.allCheckpoints()];
  const prefix = { treeSize: from - 1, frontier: log.frontierAt(from - 1).map(hashToHex) };
  const sparse = !log.densePositions;
  const header: ExportHeader | SparseExportHeader = sparse
    ? {
        format: EXPORT_FORMAT,
        version: EXPORT_VERSION_SPARSE,
        fromLeaf: from,
        toLeaf: to,
        checkpoints: checkpoints.length,
        prefix,
      }
    : {
        format: EXPORT_FORMAT,
        version: EXPORT_VERSION,
        fromPosition: from,
        toPosition: to,
        checkpoints: checkpoints.length,
        prefix,
      };
  await emit(header);

  const total = to - from + 1;
  const changed: number[] = [];
  let events = 0;
  if (sparse) {
    // Leaves from..to: events from the one after leaf from - 1, each matched to its leaf through
    // the leaf index; an event the log never recorded takes the next leaf (the verifier names it).
    const after = from === 1 ? undefined : log.positionAt(from - 2);
    let next = from;
    for await (const event of store.readAll({
      fromPosition: after === undefined ? 'start' : { after },
      maxCount: total,
    })) {
      const indexed = log.leafIndexOf(event.position);
      const leaf = indexed === undefined ? next : indexed + 1;
      if (leaf > to) break;
      const recorded = log.node(0, leaf - 1);
      const json = canonicalJson(leafRecord(event));
      if (!leafHash(json).equals(recorded)) changed.push(event.position);
      await emitLine(`{"event":${json},"leaf":${leaf},"leafHash":"${hashToHex(recorded)}"}\n`);
      next = leaf + 1;
      events++;
      if (events % 1024 === 0) onProgress?.({ processed: events, total, eventsPerSec: rate(events) });
    }
  } else
    for await (const event of store.readAll({
      fromPosition: from === 1 ? 'start' : { after: from - 1 },
      maxCount: total,
    })) {
      // Past a gap (a deleted tail, then new appends) the store holds later positions: not this range.
      if (event.position > to) break;
      const recorded = log.leafHash(event.position);
      if (!recorded) throw new Error(`the audit log has no leaf for position ${event.position}`);
      // The event's canonical JSON is both its leaf's bytes and part of its line.
      const json = canonicalJson(leafRecord(event));
      if (!leafHash(json).equals(recorded)) changed.push(event.position);
      await emitLine(`{"event":${json},"leafHash":"${hashToHex(recorded)}"}\n`);
      events++;
      if (events % 1024 === 0) onProgress?.({ processed: events, total, eventsPerSec: rate(events) });
    }

  for (const checkpoint of checkpoints) {
    const size = checkpoint.treeSize;
    let consistency: ExportConsistency | undefined;
    if (size < from - 1) {
      consistency = {
        fromSize: size,
        toSize: to,
        proof: log.consistencyProof(size, to).proof.map(hashToHex),
      };
    } else if (size > to) {
      consistency = {
        fromSize: to,
        toSize: size,
        proof: log.consistencyProof(to, size).proof.map(hashToHex),
      };
    }
    const line: ExportCheckpointLine = { checkpoint, ...(consistency ? { consistency } : {}) };
    await emit(line);
  }
  onProgress?.({ processed: events, total, eventsPerSec: rate(events) });
  const seconds = (performance.now() - started) / 1000;
  return {
    fromPosition: from,
    toPosition: to,
    events,
    checkpoints: checkpoints.length,
    treeSize: latest.treeSize,
    rootHash: latest.rootHash,
    changedPositions: changed,
    sha256: digest.digest('hex'),
    seconds,
    eventsPerSec: rate(events),
  };
}
