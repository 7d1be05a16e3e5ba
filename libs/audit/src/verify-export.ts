import type { JsonWebKey, KeyObject } from 'node:crypto';
import { canonicalJson } from './canonical-json';
import {
  AuditKeyError,
  parseSignedCheckpoint,
  publicKeyFrom,
  verifyCheckpointSignature,
  type SignedCheckpoint,
} from './checkpoint';
import { hashFromHex, hashToHex, isHexHash } from './encoding';
import { EXPORT_FORMAT, EXPORT_VERSION, EXPORT_VERSION_SPARSE, type ExportProgress } from './export';
import { KeyChain } from './key-rotation';
import { leafRecordProblem } from './leaf';
import type { NoteVerifier } from './signed-note';
import { frontierOf, leafHash, verifyConsistency } from './merkle';
import { MerkleTree } from './merkle-tree';

export const EXPORT_FAULT_KINDS = [
  'changed',
  'missing',
  'reordered',
  'truncated',
  'rolled-back',
  'reused',
  'bad-signature',
  'malformed',
  'inconsistent-checkpoint',
] as const;
export type ExportFaultKind = (typeof EXPORT_FAULT_KINDS)[number];

export interface ExportFault {
  readonly kind: ExportFaultKind;
  /**
   * The event position at fault; for a checkpoint, its tree size. For `truncated` and
   * `rolled-back`: the first position the trusted checkpoint covers that the export lacks; for
   * `reused`: the first position the trusted checkpoint covers that now holds another event.
   */
  readonly position?: number;
  /**
   * When a change shows only in a checkpoint's root (the event and its leaf hash
   * were rewritten together), it lies somewhere in `position`..`lastPosition`.
   */
  readonly lastPosition?: number;
  /** The line of the export (from 1); absent for a fault of the trusted checkpoint. */
  readonly line?: number;
  readonly detail: string;
  /**
   * `leaf` in an export of a log over sparse positions (version 2): `position` and
   * `lastPosition` are then leaf numbers (from 1), the store positions being in `detail`.
   */
  readonly unit?: 'leaf';
}

export type ExportVerdict =
  | {
      readonly ok: true;
      /** Leaf numbers where `unit` is `leaf` (an export of a log over sparse positions). */
      readonly fromPosition: number;
      readonly toPosition: number;
      readonly unit?: 'leaf';
      readonly events: number;
      readonly checkpoints: number;
      readonly trustedTreeSize: number;
      /** False only with `rangeOnly`, when the export ends before the trusted tree size. */
      readonly coversTrustedCheckpoint: boolean;
      readonly seconds: number;
      readonly eventsPerSec: number;
    }
  | {
      readonly ok: false;
      readonly fault: ExportFault;
      readonly events: number;
      readonly seconds: number;
      readonly eventsPerSec: number;
    };

export interface VerifyExportOptions {
  /** The checkpoint the verifier trusts (parsed JSON, checked here), e.g. fetched from the log earlier. */
  readonly trustedCheckpoint: unknown;
  /** The log's public key: PEM, JWK or KeyObject. An unusable key throws `AuditKeyError`. */
  readonly publicKey?: KeyObject | string | JsonWebKey;
  /**
   * Instead of `publicKey`: the log keys trusted, oldest first, to follow key rotations
   * (`KeyChain`): each checkpoint is signed by the current key, a rotation checkpoint by it and
   * the next, and a key once rotated out signs nothing after.
   */
  readonly trustedKeys?: readonly NoteVerifier[];
  /**
   * Check only that the exported range belongs to the trusted tree. By default an export that
   * ends before the trusted checkpoint's tree size is a fault (`truncated`, `rolled-back` or
   * `reused`): the events after it may have been deleted.
   */
  readonly rangeOnly?: boolean;
  readonly onProgress?: (progress: ExportProgress) => void;
  /** Events between two progress reports (default 2048). */
  readonly progressEvery?: number;
}

/** Longer than any event line the store can produce. */
const MAX_LINE_CHARS = 64 * 1024 * 1024;
const HEADER_FIELDS = ['checkpoints', 'format', 'fromPosition', 'prefix', 'toPosition', 'version'];
const SPARSE_HEADER_FIELDS = ['checkpoints', 'format', 'fromLeaf', 'prefix', 'toLeaf', 'version'];

/** When a checkpoint was signed, in ms since the epoch; NaN (never later than anything) without a time. */
function timeOf(checkpoint: SignedCheckpoint): number {
  const time = (checkpoint as { time?: unknown }).time;
  return typeof time === 'string' ? Date.parse(time) : Number.NaN;
}

/** Stands in for a trusted checkpoint that did not parse: the check never runs then. */
const PLACEHOLDER: SignedCheckpoint = {
  treeSize: 0,
  rootHash: '',
  time: '',
  keyId: '',
  signature: '',
  note: '',
  origin: '',
};

/** One line of the fault, for a console or a log. */
export function describeFault(fault: ExportFault): string {
  const unit = fault.unit ?? 'position';
  const where =
    fault.position === undefined
      ? ''
      : fault.lastPosition !== undefined
        ? ` in ${unit}s ${fault.position}..${fault.lastPosition}`
        : ` at ${unit} ${fault.position}`;
  const line = fault.line === undefined ? ' (trusted checkpoint)' : ` (line ${fault.line})`;
  return `${fault.kind}${where}${line}: ${fault.detail}`;
}

class Fault extends Error {
  constructor(readonly fault: ExportFault) {
    super(fault.detail);
  }
}

interface Line {
  readonly number: number;
  readonly text: string;
  /** False for a last line without its newline: the file was cut. */
  readonly terminated: boolean;
  readonly invalidUtf8?: boolean;
}

/**
 * Splits chunks into lines, looking at each character once however long a
 * line is, and refusing bytes that are not UTF-8 (a lenient decoder would
 * quietly replace them).
 */
async function* linesOf(
  input: AsyncIterable<string | Uint8Array> | Iterable<string | Uint8Array>,
): AsyncGenerator<Line> {
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  let pending = '';
  let number = 0;
  const decode = (chunk?: Uint8Array): string | undefined => {
    try {
      return chunk === undefined ? decoder.decode() : decoder.decode(chunk, { stream: true });
    } catch {
      return undefined;
    }
  };
  for await (const chunk of input) {
    const text = typeof chunk === 'string' ? chunk : decode(chunk);
    if (text === undefined) {
      yield { number: number + 1, text: '', terminated: true, invalidUtf8: true };
      return;
    }
    let end = text.indexOf('\n');
    if (end === -1) {
      pending += text;
    } else {
      yield { number: ++number, text: pending + text.slice(0, end), terminated: true };
      let start = end + 1;
      for (end = text.indexOf('\n', start); end !== -1; end = text.indexOf('\n', start)) {
        yield { number: ++number, text: text.slice(start, end), terminated: true };
        start = end + 1;
      }
      pending = text.slice(start);
    }
    if (pending.length > MAX_LINE_CHARS) {
      yield { number: number + 1, text: pending, terminated: true };
      return;
    }
  }
  const rest = decode();
  if (rest === undefined) {
    yield { number: number + 1, text: '', terminated: true, invalidUtf8: true };
    return;
  }
  pending += rest;
  if (pending.length > 0) yield { number: number + 1, text: pending, terminated: false };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function hasExactly(value: Record<string, unknown>, names: readonly string[]): boolean {
  const keys = Object.keys(value).sort();
  return keys.length === names.length && keys.every((key, i) => key === names[i]);
}

function isWhole(value: unknown, min: number): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= min;
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

interface Header {
  /** Version 2: leaf numbers, and each event line names its leaf. */
  readonly sparse: boolean;
  readonly fromPosition: number;
  readonly toPosition: number;
  readonly checkpoints: number;
  readonly prefixSize: number;
}

/** Positions seen after the first one out of place: enough to tell a reordering from a loss. */
interface Disorder {
  readonly expected: number;
  readonly found: number;
  readonly line: number;
  readonly seen: Set<number>;
}

/**
 * Checks an export line by line: see `verifyExport`. Throws `Fault` at the
 * first fault; `finish` links the result to the trusted checkpoint.
 */
class ExportCheck {
  private header: Header | undefined;
  private tree: MerkleTree | undefined;
  private phase: 'header' | 'events' | 'checkpoints' = 'header';
  private expected = 0;
  private disorder: Disorder | undefined;
  private checkpointsSeen = 0;
  private lastCheckpointSize = -1;
  /** Sizes within the range whose recomputed root a signed checkpoint confirmed, ascending. */
  private readonly confirmedSizes: number[] = [];
  /** Roots of the export's checkpoints, all tied to the recomputed tree. */
  private readonly linked = new Map<number, string>();
  /** Checkpoints before or after the range, with their consistency proofs, checked at the end. */
  private readonly outside: { line: Line; checkpoint: SignedCheckpoint; proof: Buffer[] }[] = [];
  /** When each checkpoint of the export was signed, by tree size. */
  private readonly signedAt = new Map<number, number>();
  /**
   * The first event at a position the trusted checkpoint covers, recorded after that checkpoint
   * was signed: an honest log cannot hold one, so it is an event put where another was.
   */
  private late: { position: number; line: number } | undefined;
  private readonly trustedTime: number;
  /** Version 2: the store position of the last event line, which the next must exceed. */
  private lastStorePosition = 0;
  events = 0;

  constructor(
    private readonly key: KeyObject | KeyChain,
    private readonly trusted: SignedCheckpoint,
    private readonly rangeOnly: boolean,
    private readonly progress: (events: number, total: number) => void,
  ) {
    this.trustedTime = timeOf(trusted);
  }

  get sparse(): boolean {
    return this.header?.sparse === true;
  }

  range(): { fromPosition: number; toPosition: number; checkpoints: number } {
    const h = this.header;
    return {
      fromPosition: h?.fromPosition ?? 0,
      toPosition: h?.toPosition ?? 0,
      checkpoints: this.checkpointsSeen,
    };
  }

  get total(): number {
    return this.header ? this.header.toPosition - this.header.fromPosition + 1 : 0;
  }

  line(line: Line): void {
    if (line.invalidUtf8)
      this.fail('malformed', line, this.expectedPosition(), 'the line is not valid UTF-8');
    if (line.text.length > MAX_LINE_CHARS)
      this.fail('malformed', line, this.expectedPosition(), 'the line is too long');
    if (!line.terminated) {
      if (this.phase === 'events' && this.disorder) this.classifyDisorder();
      this.fail('truncated', line, this.expectedPosition(), 'the export ends in the middle of a line');
    }
    const value = parse(line.text);
    if (this.phase === 'header') return this.readHeader(line, value);
    if (this.phase === 'events') {
      if (isObject(value) && 'checkpoint' in value) {
        this.endOfEvents(line);
        this.phase = 'checkpoints';
      } else return this.readEvent(line, value);
    }
    this.readCheckpoint(line, value);
  }

  private expectedPosition(): number | undefined {
    return this.phase === 'events' ? this.expected : undefined;
  }

  private fail(
    kind: ExportFault['kind'],
    line: Line | undefined,
    position: number | undefined,
    detail: string,
    lastPosition?: number,
  ): never {
    throw new Fault({
      kind,
      ...(position !== undefined ? { position } : {}),
      ...(lastPosition !== undefined ? { lastPosition } : {}),
      ...(line ? { line: line.number } : {}),
      detail,
      ...(this.sparse && position !== undefined ? { unit: 'leaf' as const } : {}),
    });
  }

  private readHeader(line: Line, value: unknown): void {
    const bad = (detail: string): never => this.fail('malformed', line, undefined, `header: ${detail}`);
    if (!isObject(value)) bad('not a JSON object');
    const raw = value as Record<string, unknown>;
    const sparse = raw.version === EXPORT_VERSION_SPARSE;
    const fields = sparse ? SPARSE_HEADER_FIELDS : HEADER_FIELDS;
    if (!hasExactly(raw, fields)) bad(`must have exactly the fields ${fields.join(', ')}`);
    if (raw.format !== EXPORT_FORMAT || (raw.version !== EXPORT_VERSION && !sparse))
      bad(`not a ${EXPORT_FORMAT} version ${EXPORT_VERSION} or ${EXPORT_VERSION_SPARSE} file`);
    const [fromName, toName] = sparse ? ['fromLeaf', 'toLeaf'] : ['fromPosition', 'toPosition'];
    // Version 2 counts leaves where version 1 counts positions: the checks are the same.
    const h: Record<string, unknown> = {
      fromPosition: raw[fromName],
      toPosition: raw[toName],
      checkpoints: raw.checkpoints,
      prefix: raw.prefix,
    };
    if (!isWhole(h.fromPosition, 1)) bad(`${fromName} must be a whole number from 1`);
    const from = h.fromPosition as number;
    if (!isWhole(h.toPosition, from)) bad(`${toName} must be a whole number, not before ${fromName}`);
    if (!isWhole(h.checkpoints, 0)) bad('checkpoints must be a whole number');
    const prefix = h.prefix;
    if (!isObject(prefix) || !hasExactly(prefix, ['frontier', 'treeSize']))
      bad('prefix must have exactly treeSize and frontier');
    const { treeSize, frontier } = prefix as Record<string, unknown>;
    if (treeSize !== from - 1) bad(`prefix.treeSize must be ${fromName} - 1`);
    if (
      !Array.isArray(frontier) ||
      frontier.length !== frontierOf(from - 1).length ||
      !frontier.every(isHexHash)
    )
      bad(`prefix.frontier must hold ${frontierOf(from - 1).length} hashes of 64 lower-case hex digits`);
    if (canonicalJson(value) !== line.text) bad('not in canonical form');
    this.header = {
      sparse,
      fromPosition: from,
      toPosition: h.toPosition as number,
      checkpoints: h.checkpoints as number,
      prefixSize: from - 1,
    };
    this.tree = new MerkleTree({ size: from - 1, frontier: (frontier as string[]).map(hashFromHex) });
    this.expected = from;
    this.phase = 'events';
  }

  private readEvent(line: Line, value: unknown): void {
    const header = this.header!;
    if (this.disorder) {
      // Only positions matter now: they tell a reordering from a loss.
      const position = !isObject(value)
        ? undefined
        : header.sparse
          ? value.leaf
          : isObject(value.event)
            ? value.event.position
            : undefined;
      if (isWhole(position, 1)) this.disorder.seen.add(position);
      return;
    }
    const expected = this.expected;
    const bad = (detail: string): never => this.fail('malformed', line, expected, detail);
    const fields = header.sparse ? ['event', 'leaf', 'leafHash'] : ['event', 'leafHash'];
    if (!isObject(value) || !hasExactly(value, fields))
      bad(`an event line must be a JSON object with exactly ${fields.join(', ')}`);
    const record = value as { event: unknown; leaf?: unknown; leafHash: unknown };
    if (header.sparse && !isWhole(record.leaf, 1)) bad('leaf must be a whole number from 1');
    const problem = leafRecordProblem(record.event);
    if (problem) bad(problem);
    if (!isHexHash(record.leafHash)) bad('leafHash must be 64 lower-case hex digits');
    let eventJson = '';
    try {
      eventJson = canonicalJson(record.event);
    } catch (error) {
      bad(error instanceof Error ? error.message : 'not canonical JSON');
    }
    const leafField = header.sparse ? `"leaf":${record.leaf as number},` : '';
    if (`{"event":${eventJson},${leafField}"leafHash":"${record.leafHash as string}"}` !== line.text)
      bad('not in canonical form');
    const storePosition = (record.event as { position: number }).position;
    // The line's place in the tree: its leaf number (version 2) or its position (version 1).
    const position = header.sparse ? (record.leaf as number) : storePosition;
    if (header.sparse && position === expected) {
      if (storePosition <= this.lastStorePosition)
        this.fail(
          'reordered',
          line,
          position,
          `leaf ${position} holds position ${storePosition}, not after the previous leaf's position ${this.lastStorePosition}`,
        );
      this.lastStorePosition = storePosition;
    }
    if (position > header.toPosition)
      this.fail(
        'malformed',
        line,
        position,
        `position ${position} is beyond the header's toPosition ${header.toPosition}`,
      );
    if (position < expected)
      this.fail(
        'reordered',
        line,
        position,
        `position ${position} comes again after position ${expected - 1}`,
      );
    if (position > expected) {
      this.disorder = { expected, found: position, line: line.number, seen: new Set([position]) };
      return;
    }
    const leaf = leafHash(eventJson);
    const recordedAt = Date.parse((record.event as { recordedAt: string }).recordedAt);
    if (!this.late && position <= this.trusted.treeSize && recordedAt > this.trustedTime)
      this.late = { position, line: line.number };
    if (hashToHex(leaf) !== record.leafHash && this.late?.position === position) this.reused(line);
    if (hashToHex(leaf) !== record.leafHash)
      this.fail(
        'changed',
        line,
        position,
        'the event no longer matches the leaf hash the log recorded for it',
      );
    this.tree!.append(leaf);
    this.expected++;
    this.events++;
    this.progress(this.events, this.total);
  }

  private classifyDisorder(): never {
    const { expected, found, line, seen } = this.disorder!;
    const at: Line = { number: line, text: '', terminated: true };
    if (seen.has(expected))
      this.fail(
        'reordered',
        at,
        expected,
        `position ${expected} comes later in the file, after position ${found}`,
      );
    this.fail(
      'missing',
      at,
      expected,
      `position ${expected} is not in the export (position ${found} follows ${expected - 1})`,
    );
  }

  private endOfEvents(line: Line): void {
    if (this.disorder) this.classifyDisorder();
    const to = this.header!.toPosition;
    if (this.expected <= to)
      this.fail(
        'truncated',
        line,
        this.expected,
        `the events stop at position ${this.expected - 1}; the header promises ${to}`,
      );
  }

  private readCheckpoint(line: Line, value: unknown): void {
    const header = this.header!;
    const tree = this.tree!;
    const bad = (detail: string, position?: number): never =>
      this.fail('malformed', line, position, `checkpoint line: ${detail}`);
    if (!isObject(value)) bad('not a JSON object');
    const record = value as Record<string, unknown>;
    const withProof = 'consistency' in record;
    if (!hasExactly(record, withProof ? ['checkpoint', 'consistency'] : ['checkpoint']))
      bad('must have checkpoint and, for one outside the range, consistency');
    const parsed = parseSignedCheckpoint(record.checkpoint);
    if (!parsed.ok) bad(parsed.reason);
    const checkpoint = (parsed as { value: SignedCheckpoint }).value;
    const size = checkpoint.treeSize;
    if (canonicalJson(value) !== line.text) bad('not in canonical form', size);
    if (++this.checkpointsSeen > header.checkpoints)
      bad(`more checkpoints than the ${header.checkpoints} the header announces`, size);
    if (size <= this.lastCheckpointSize) bad('checkpoints must come in increasing tree size', size);
    this.lastCheckpointSize = size;
    this.signedAt.set(size, timeOf(checkpoint));
    const signature =
      this.key instanceof KeyChain
        ? this.key.step(checkpoint)
        : verifyCheckpointSignature(checkpoint, this.key);
    if ('valid' in signature ? !signature.valid : !signature.ok)
      this.fail('bad-signature', line, size, (signature as { reason: string }).reason);

    const from = header.prefixSize;
    const to = header.toPosition;
    if (size >= from && size <= to) {
      if (withProof) bad('a checkpoint within the range needs no consistency proof', size);
      const root = hashToHex(tree.root(size));
      if (root !== checkpoint.rootHash) this.changedBefore(line, size);
      this.confirmedSizes.push(size);
    } else {
      const proof = record.consistency;
      const first = size < from ? size : to;
      const second = size < from ? to : size;
      if (
        !isObject(proof) ||
        !hasExactly(proof, ['fromSize', 'proof', 'toSize']) ||
        proof.fromSize !== first ||
        proof.toSize !== second ||
        !Array.isArray(proof.proof) ||
        !proof.proof.every(isHexHash)
      )
        bad(`a checkpoint outside the range needs a consistency proof from size ${first} to ${second}`, size);
      // Checked once every checkpoint within the range has been: a change there is named first.
      this.outside.push({ line, checkpoint, proof: (proof as { proof: string[] }).proof.map(hashFromHex) });
    }
    this.linked.set(size, checkpoint.rootHash);
  }

  /**
   * Ties the checkpoints before and after the range to the tree recomputed up
   * to its end. If none can be tied, and none within the range confirmed that
   * tree, the exported events are what changed; otherwise the failing proof is.
   */
  private checkOutside(): void {
    const { prefixSize: from, toPosition: to } = this.header!;
    const recomputed = this.tree!.root(to);
    const failures: { line: Line; size: number; reason: string }[] = [];
    for (const { line, checkpoint, proof } of this.outside) {
      const size = checkpoint.treeSize;
      const signed = hashFromHex(checkpoint.rootHash);
      const verdict = verifyConsistency({
        firstSize: size < from ? size : to,
        secondSize: size < from ? to : size,
        firstRoot: size < from ? signed : recomputed,
        secondRoot: size < from ? recomputed : signed,
        proof,
      });
      if (!verdict.valid) failures.push({ line, size, reason: verdict.reason });
    }
    const first = failures[0];
    if (!first) return;
    const endConfirmed = this.confirmedSizes[this.confirmedSizes.length - 1] === to;
    if (!endConfirmed && failures.length === this.outside.length) this.changedBefore(first.line, to);
    this.fail(
      'inconsistent-checkpoint',
      first.line,
      first.size,
      `the checkpoint of ${first.size} events is not consistent with the exported events up to ${to}: ${first.reason}`,
    );
  }

  /** A signed root differs from the one recomputed: the change lies after the last confirmed size. */
  private changedBefore(line: Line | undefined, size: number): never {
    if (this.late && this.late.position <= size) this.reused(line);
    const below = this.confirmedSizes.filter((s) => s < size);
    const first = (below[below.length - 1] ?? this.header!.prefixSize) + 1;
    this.fail(
      'changed',
      line,
      first,
      `the events do not hash to the signed root of the checkpoint of ${size} events (events and leaf hashes rewritten together, or the prefix)`,
      size,
    );
  }

  /** An event recorded after the trusted checkpoint sits at a position that checkpoint covers. */
  private reused(line: Line | undefined): never {
    const { position } = this.late!;
    this.fail(
      'reused',
      line ?? { number: this.late!.line, text: '', terminated: true },
      position,
      `position ${position} holds an event recorded after the trusted checkpoint of ${this.trusted.treeSize} events was signed: the events from here were deleted and the position handed out again (or the log forked)`,
    );
  }

  /**
   * The export ends before the trusted tree size: events the trusted checkpoint covers are not
   * in it. Tells a deleted tail (the log still holds more, or was signed again smaller after the
   * trusted checkpoint) from an older copy of the store and its log (every checkpoint older).
   */
  private shortOfTrusted(end: Line): never {
    const to = this.header!.toPosition;
    const size = this.trusted.treeSize;
    if (this.late) this.reused(end);
    const largest = Math.max(0, ...this.linked.keys());
    const first = to + 1;
    if (largest >= size)
      this.fail(
        'truncated',
        end,
        first,
        `the trusted checkpoint covers ${size} events and the log's own checkpoints reach ${largest}, but the exported events stop at position ${to}: positions ${first}..${size} are missing from the event store`,
        size,
      );
    const later = [...this.signedAt.entries()].find(([, time]) => time > this.trustedTime);
    if (later)
      this.fail(
        'truncated',
        end,
        first,
        `the trusted checkpoint covers ${size} events; the exported events stop at position ${to}, and the log signed a smaller tree (${later[0]} events) after it: positions ${first}..${size} were deleted and the log rebuilt`,
        size,
      );
    this.fail(
      'rolled-back',
      end,
      first,
      `the trusted checkpoint covers ${size} events; the export stops at position ${to} and every checkpoint in it is older and smaller: the store and its log are an older copy, positions ${first}..${size} are missing`,
      size,
    );
  }

  /** The tree size of the last checkpoint read. */
  get lastSignedSize(): number {
    return this.lastCheckpointSize;
  }

  finish(lines: number, trusted: SignedCheckpoint): void {
    const end: Line = { number: lines + 1, text: '', terminated: true };
    if (this.phase === 'header') this.fail('truncated', end, undefined, 'the export is empty');
    const header = this.header!;
    if (this.phase === 'events') this.endOfEvents(end);
    if (this.checkpointsSeen < header.checkpoints)
      this.fail(
        'truncated',
        end,
        undefined,
        `${this.checkpointsSeen} of the ${header.checkpoints} checkpoints announced`,
      );
    this.checkOutside();
    if (![...this.linked.keys()].some((size) => size >= header.toPosition))
      this.fail(
        'truncated',
        end,
        (this.confirmedSizes[this.confirmedSizes.length - 1] ?? header.prefixSize) + 1,
        'no checkpoint signs the end of the range',
      );

    const size = trusted.treeSize;
    if (size >= header.prefixSize && size <= header.toPosition) {
      if (hashToHex(this.tree!.root(size)) === trusted.rootHash) return;
      if (this.late) this.reused(undefined);
      if (this.linked.has(size))
        this.fail(
          'inconsistent-checkpoint',
          undefined,
          size,
          'the trusted checkpoint and the export’s checkpoint of the same size differ: the log forked',
        );
      this.changedBefore(undefined, size);
    }
    const root = this.linked.get(size);
    if (size > header.toPosition) {
      if (root !== undefined && root !== trusted.rootHash && !this.late)
        this.fail(
          'inconsistent-checkpoint',
          undefined,
          size,
          'the trusted checkpoint and the export’s checkpoint of the same size differ: the log forked',
        );
      if (!this.rangeOnly) this.shortOfTrusted(end);
    }
    if (root === undefined)
      this.fail(
        'inconsistent-checkpoint',
        undefined,
        size,
        `the export holds no checkpoint of ${size} events to tie the trusted checkpoint to`,
      );
    if (root !== trusted.rootHash)
      this.fail(
        'inconsistent-checkpoint',
        undefined,
        size,
        'the trusted checkpoint and the export’s checkpoint of the same size differ: the log forked',
      );
  }
}

/**
 * Verifies an export (the bytes of the file, in chunks or lines with their
 * newlines) against a checkpoint the caller trusts and the log's public key:
 * recomputes every leaf and the roots, checks positions are contiguous and
 * increasing, every checkpoint's signature, that every checkpoint in the
 * export is consistent with the exported events, and that the trusted
 * checkpoint is too. The first fault is reported with its kind and position;
 * nothing in the input makes it throw, except an unusable public key.
 */
export async function verifyExport(
  input: AsyncIterable<string | Uint8Array> | Iterable<string | Uint8Array>,
  options: VerifyExportOptions,
): Promise<ExportVerdict> {
  if ((options.publicKey === undefined) === (options.trustedKeys === undefined))
    throw new AuditKeyError('verifyExport needs publicKey or trustedKeys, not both');
  const key =
    options.trustedKeys !== undefined ? new KeyChain(options.trustedKeys) : publicKeyFrom(options.publicKey!);
  const started = performance.now();
  const every = Math.max(1, options.progressEvery ?? 2048);
  const rate = (events: number): number => {
    const seconds = (performance.now() - started) / 1000;
    return seconds > 0 ? events / seconds : 0;
  };
  const parsed = parseSignedCheckpoint(options.trustedCheckpoint);
  const check = new ExportCheck(
    key,
    parsed.ok ? parsed.value : PLACEHOLDER,
    options.rangeOnly === true,
    (events, total) => {
      if (events % every === 0)
        options.onProgress?.({ processed: events, total, eventsPerSec: rate(events) });
    },
  );
  const failed = (fault: ExportFault): ExportVerdict => ({
    ok: false,
    fault,
    events: check.events,
    seconds: (performance.now() - started) / 1000,
    eventsPerSec: rate(check.events),
  });

  if (!parsed.ok) return failed({ kind: 'malformed', detail: parsed.reason });
  const trusted = parsed.value;
  const signature =
    key instanceof KeyChain
      ? new KeyChain(options.trustedKeys!).step(trusted)
      : verifyCheckpointSignature(trusted, key);
  if ('valid' in signature ? !signature.valid : !signature.ok)
    return failed({
      kind: 'bad-signature',
      position: trusted.treeSize,
      detail: (signature as { reason: string }).reason,
    });

  let lines = 0;
  try {
    for await (const line of linesOf(input)) {
      lines = line.number;
      check.line(line);
    }
    check.finish(lines, trusted);
    // The trusted checkpoint after the export's last one follows the rotations too.
    if (key instanceof KeyChain && trusted.treeSize > check.lastSignedSize) {
      const step = key.step(trusted);
      if (!step.ok) return failed({ kind: 'bad-signature', position: trusted.treeSize, detail: step.reason });
    }
  } catch (error) {
    if (error instanceof Fault) return failed(error.fault);
    // Whatever else the input provoked, it is not accepted.
    return failed({
      kind: 'malformed',
      line: lines,
      detail: `unreadable input: ${error instanceof Error ? error.message : String(error)}`,
    });
  }
  options.onProgress?.({ processed: check.events, total: check.total, eventsPerSec: rate(check.events) });
  const seconds = (performance.now() - started) / 1000;
  const range = check.range();
  return {
    ok: true,
    ...(check.sparse ? { unit: 'leaf' as const } : {}),
    fromPosition: range.fromPosition,
    toPosition: range.toPosition,
    events: check.events,
    checkpoints: range.checkpoints,
    trustedTreeSize: trusted.treeSize,
    coversTrustedCheckpoint: range.toPosition >= trusted.treeSize,
    seconds,
    eventsPerSec: rate(check.events),
  };
}
