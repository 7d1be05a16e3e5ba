/**
 * Verification of a log export (`ledger export`) in the browser, with WebCrypto: the audit
 * library's `verifyExport` needs node:crypto, so its checks are redone here step by step, each
 * step's result shown. The canonical JSON of a leaf is the library's own code (it has no
 * dependency). The file is checked against the log's public key and the latest checkpoint the
 * ledger signed; what the ledger adds is a consistency proof when the export ends before it.
 */
import { canonicalJson } from '../../../../libs/audit/src/canonical-json';
import { ApiProblem } from '../api/problem';

export const STEPS = ['header', 'leaves', 'signatures', 'roots', 'consistency', 'latest'] as const;
export type StepName = (typeof STEPS)[number];
export type StepOutcome = 'passed' | 'failed' | 'skipped';

export interface StepResult {
  readonly step: StepName;
  readonly outcome: StepOutcome;
  /** What was checked, or what failed and where (technical English, for the record). */
  readonly detail: string;
}

export interface Verification {
  readonly ok: boolean;
  readonly steps: readonly StepResult[];
  readonly events: number;
}

export interface SignedCheckpoint {
  readonly origin: string;
  readonly treeSize: number;
  readonly rootHash: string;
  readonly note: string;
}

/** What the verifier trusts, and where it gets a consistency proof from. */
export interface Trust {
  /** The C2SP verifier key `<origin>+<keyId>+<base64(0x01 ‖ key)>` of GET /audit/public-key. */
  readonly verifierKey: string;
  /** The latest checkpoint the ledger signed (GET /audit/checkpoints/latest). */
  readonly latest: SignedCheckpoint;
  /** RFC 9162 consistency proof from `from` to `to` leaves, hex (GET /audit/proofs/consistency). */
  readonly consistency: (from: number, to: number) => Promise<readonly string[]>;
}

/** WebCrypto cannot do Ed25519 in this browser. */
export class NoEd25519 extends Error {}

const FORMAT = 'nrm-ledger-export';
const LEAF_FIELDS = [
  'data',
  'id',
  'metadata',
  'position',
  'recordedAt',
  'revision',
  'schemaVersion',
  'stream',
  'type',
];
const HEX = /^[0-9a-f]{64}$/;
const utf8 = new TextEncoder();

class Failed extends Error {}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const isWhole = (value: unknown, min: number): value is number =>
  typeof value === 'number' && Number.isSafeInteger(value) && value >= min;
const hasExactly = (value: Record<string, unknown>, names: readonly string[]) => {
  const keys = Object.keys(value).sort();
  return keys.length === names.length && [...names].sort().every((name, i) => keys[i] === name);
};
const parse = (text: string): unknown => {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
};

export function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}
export function fromHex(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}
function fromBase64(text: string): Uint8Array | undefined {
  try {
    return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
  } catch {
    return undefined;
  }
}
const concat = (...parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
};
const equal = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i]);

/** RFC 9162 hashing over WebCrypto's SHA-256. */
export class Hasher {
  constructor(private readonly subtle: SubtleCrypto) {}
  async sha256(bytes: Uint8Array): Promise<Uint8Array> {
    return new Uint8Array(await this.subtle.digest('SHA-256', bytes as BufferSource));
  }
  leaf(bytes: Uint8Array): Promise<Uint8Array> {
    return this.sha256(concat(new Uint8Array([0]), bytes));
  }
  node(left: Uint8Array, right: Uint8Array): Promise<Uint8Array> {
    return this.sha256(concat(new Uint8Array([1]), left, right));
  }
}

/** The sizes of the perfect subtrees of a tree of `size` leaves, left first (its frontier). */
function frontierSizes(size: number): number[] {
  const sizes: number[] = [];
  for (let bit = 2 ** Math.floor(Math.log2(Math.max(size, 1))); bit >= 1; bit /= 2)
    if (Math.floor(size / bit) % 2 === 1) sizes.push(bit);
  return size === 0 ? [] : sizes;
}

/** A Merkle tree grown leaf by leaf from a frontier: its root at any size reached. */
class GrowingTree {
  private readonly peaks: { hash: Uint8Array; size: number }[];
  size: number;
  constructor(
    private readonly hasher: Hasher,
    prefixSize: number,
    frontier: readonly Uint8Array[],
  ) {
    const sizes = frontierSizes(prefixSize);
    this.peaks = frontier.map((hash, i) => ({ hash, size: sizes[i]! }));
    this.size = prefixSize;
  }
  async append(leaf: Uint8Array): Promise<void> {
    this.peaks.push({ hash: leaf, size: 1 });
    this.size++;
    for (;;) {
      const right = this.peaks[this.peaks.length - 1]!;
      const left = this.peaks[this.peaks.length - 2];
      if (!left || left.size !== right.size) break;
      this.peaks.splice(-2, 2, { hash: await this.hasher.node(left.hash, right.hash), size: left.size * 2 });
    }
  }
  /** MTH of the leaves so far: the peaks folded from the right. */
  async root(): Promise<Uint8Array> {
    if (this.peaks.length === 0) return this.hasher.sha256(new Uint8Array());
    let root = this.peaks[this.peaks.length - 1]!.hash;
    for (let i = this.peaks.length - 2; i >= 0; i--) root = await this.hasher.node(this.peaks[i]!.hash, root);
    return root;
  }
}

/** RFC 9162 §2.1.4.2, as libs/audit's verifyConsistency; the reason when the proof fails, else undefined. */
export async function consistencyProblem(
  hasher: Hasher,
  firstSize: number,
  secondSize: number,
  firstRoot: Uint8Array,
  secondRoot: Uint8Array,
  proof: readonly Uint8Array[],
): Promise<string | undefined> {
  if (firstSize > secondSize) return `size ${firstSize} is larger than ${secondSize}`;
  if (firstSize === secondSize)
    return proof.length === 0 && equal(firstRoot, secondRoot)
      ? undefined
      : 'the roots of the same size differ';
  if (firstSize === 0)
    return proof.length === 0 && equal(firstRoot, await hasher.sha256(new Uint8Array()))
      ? undefined
      : 'not the root of the empty tree';
  if (proof.length === 0) return 'the proof is empty';
  const powerOfTwo = Number.isInteger(Math.log2(firstSize));
  const path = powerOfTwo ? [firstRoot, ...proof] : [...proof];
  let fn = firstSize - 1;
  let sn = secondSize - 1;
  while (fn % 2 === 1) {
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  let fr = path[0]!;
  let sr = fr;
  for (let i = 1; i < path.length; i++) {
    const c = path[i]!;
    if (sn === 0) return 'the proof is longer than the new tree needs';
    if (fn % 2 === 1 || fn === sn) {
      fr = await hasher.node(c, fr);
      sr = await hasher.node(c, sr);
      while (fn % 2 === 0 && fn !== 0) {
        fn /= 2;
        sn = Math.floor(sn / 2);
      }
    } else {
      sr = await hasher.node(sr, c);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  if (sn !== 0) return 'the proof is shorter than the new tree needs';
  if (!equal(fr, firstRoot)) return 'the proof does not lead to the old root';
  if (!equal(sr, secondRoot)) return 'the proof does not lead to the new root';
  return undefined;
}

/** The log's key, from its C2SP verifier key, ready for WebCrypto. */
export async function logKey(
  subtle: SubtleCrypto,
  verifierKey: string,
): Promise<{ origin: string; keyHash: Uint8Array; key: CryptoKey }> {
  // <name>+<key id>+<base64>: the name has no '+', the base64 may.
  const [origin, keyId] = verifierKey.split('+', 2);
  const encoded =
    origin === undefined || keyId === undefined
      ? undefined
      : verifierKey.slice(origin.length + keyId.length + 2);
  const bytes = encoded === undefined ? undefined : fromBase64(encoded);
  if (!origin || !keyId || !bytes || bytes.length !== 33 || bytes[0] !== 1)
    throw new Failed('the ledger’s verifier key is not an Ed25519 note key');
  const raw = bytes.slice(1);
  const keyHash = (await new Hasher(subtle).sha256(concat(utf8.encode(`${origin}\n`), bytes))).slice(0, 4);
  if (toHex(keyHash) !== keyId) throw new Failed('the ledger’s verifier key does not match its key id');
  let key: CryptoKey;
  try {
    key = await subtle.importKey('raw', raw, { name: 'Ed25519' }, false, ['verify']);
  } catch {
    throw new NoEd25519('this browser cannot verify Ed25519 signatures');
  }
  return { origin, keyHash, key };
}

/**
 * Why a checkpoint's signature does not hold, or undefined when it does: the note's text must
 * say what the checkpoint's fields say, and carry the log's signature by this key over that text.
 */
export async function signatureProblem(
  subtle: SubtleCrypto,
  log: { origin: string; keyHash: Uint8Array; key: CryptoKey },
  checkpoint: unknown,
): Promise<string | undefined> {
  if (!isObject(checkpoint) || typeof checkpoint.note !== 'string') return 'not a signed checkpoint';
  const { note, origin, treeSize, rootHash } = checkpoint;
  const split = note.indexOf('\n\n');
  if (split < 0) return 'the note has no signature';
  const text = note.slice(0, split + 1);
  const [name, size, root] = text.split('\n');
  const signedRoot = root === undefined ? undefined : fromBase64(root);
  if (name !== origin || name !== log.origin)
    return `the checkpoint is of the log ${String(name)}, not ${log.origin}`;
  if (
    size !== String(treeSize) ||
    !signedRoot ||
    typeof rootHash !== 'string' ||
    toHex(signedRoot) !== rootHash
  )
    return 'the checkpoint’s fields differ from its signed text';
  for (const line of note.slice(split + 2).split('\n')) {
    if (!line.startsWith('\u2014 ')) continue;
    const [signer, encoded] = line.slice(2).split(' ');
    const bytes = encoded === undefined ? undefined : fromBase64(encoded);
    if (signer !== log.origin || !bytes || bytes.length !== 68 || !equal(bytes.slice(0, 4), log.keyHash))
      continue;
    const valid = await subtle.verify({ name: 'Ed25519' }, log.key, bytes.slice(4), utf8.encode(text));
    return valid ? undefined : 'the signature does not match';
  }
  return 'no signature by the ledger’s key';
}

interface Header {
  readonly sparse: boolean;
  readonly from: number;
  readonly to: number;
  readonly checkpoints: number;
  readonly frontier: Uint8Array[];
}

function readHeader(line: string | undefined): Header {
  const bad = (detail: string): never => {
    throw new Failed(`line 1 (header): ${detail}`);
  };
  const value = line === undefined ? undefined : parse(line);
  if (!isObject(value)) return bad('not a JSON object');
  const sparse = value.version === 2;
  const [fromName, toName] = sparse ? ['fromLeaf', 'toLeaf'] : ['fromPosition', 'toPosition'];
  if (value.format !== FORMAT || (value.version !== 1 && !sparse))
    bad(`not a ${FORMAT} file of version 1 or 2`);
  if (!hasExactly(value, ['checkpoints', 'format', fromName, 'prefix', toName, 'version']))
    bad('unexpected fields');
  const from = value[fromName];
  const to = value[toName];
  if (!isWhole(from, 1) || !isWhole(to, from)) return bad('the range is not whole numbers from 1');
  if (!isWhole(value.checkpoints, 0)) bad('checkpoints must be a whole number');
  const prefix = value.prefix;
  if (!isObject(prefix) || prefix.treeSize !== from - 1 || !Array.isArray(prefix.frontier))
    return bad('prefix must be the tree before the range');
  const frontier = prefix.frontier as unknown[];
  if (
    frontier.length !== frontierSizes(from - 1).length ||
    !frontier.every((h) => typeof h === 'string' && HEX.test(h))
  )
    bad('the prefix frontier is not the hashes of the tree before the range');
  if (canonicalJson(value) !== line) bad('not in canonical form');
  return {
    sparse,
    from,
    to,
    checkpoints: value.checkpoints as number,
    frontier: (frontier as string[]).map(fromHex),
  };
}

/**
 * Verifies the text of an export file: format, every leaf, every checkpoint's signature, the
 * roots of the checkpoints within the range, the proofs of those outside it, and the ledger's
 * latest checkpoint. Steps after a failed one are not checked. Never throws for a bad file.
 */
export async function verifyExportText(
  text: string,
  trust: Trust,
  subtle: SubtleCrypto,
): Promise<Verification> {
  const steps: StepResult[] = [];
  const hasher = new Hasher(subtle);
  let events = 0;
  let current: StepName = 'header';
  const pass = (detail: string, outcome: StepOutcome = 'passed') => {
    steps.push({ step: current, outcome, detail });
    current = STEPS[STEPS.indexOf(current) + 1] ?? current;
  };
  try {
    const lines = text.split('\n');
    if (lines.pop() !== '')
      throw new Failed(`line ${lines.length + 1}: the file ends in the middle of a line`);
    const header = readHeader(lines[0]);
    const count = header.to - header.from + 1;
    const unit = header.sparse ? 'leaf' : 'position';
    if (lines.length !== 1 + count + header.checkpoints)
      throw new Failed(
        `the header announces ${count} events and ${header.checkpoints} checkpoints, the file has ${lines.length - 1} lines after it`,
      );
    pass(`${unit}s ${header.from} to ${header.to}, ${header.checkpoints} checkpoints`);

    // Leaves, and the tree they grow, with its root at each size a checkpoint names.
    const checkpointLines = lines
      .slice(1 + count)
      .map((line, i) => ({ number: 2 + count + i, value: parse(line) }));
    const wanted = new Set<number>();
    for (const { value } of checkpointLines)
      if (isObject(value) && isObject(value.checkpoint) && isWhole(value.checkpoint.treeSize, 0))
        wanted.add(value.checkpoint.treeSize);
    wanted.add(header.to);
    const tree = new GrowingTree(hasher, header.from - 1, header.frontier);
    const roots = new Map<number, Uint8Array>();
    if (wanted.has(tree.size)) roots.set(tree.size, await tree.root());
    let lastPosition = 0;
    for (let i = 0; i < count; i++) {
      const number = i + 2;
      const expected = header.from + i;
      const value = parse(lines[i + 1]!);
      const fields = header.sparse ? ['event', 'leaf', 'leafHash'] : ['event', 'leafHash'];
      const bad = (detail: string): never => {
        throw new Failed(`line ${number} (${unit} ${expected}): ${detail}`);
      };
      if (!isObject(value) || !hasExactly(value, fields))
        return bad(`an event line has exactly ${fields.join(', ')}`);
      const record = value;
      const event = record.event;
      if (!isObject(event) || !hasExactly(event, LEAF_FIELDS)) return bad('the event is not a stored event');
      const position = event.position;
      if (!isWhole(position, 1)) return bad('the event has no position');
      if (header.sparse ? record.leaf !== expected || position <= lastPosition : position !== expected)
        bad(`${unit} ${expected} is missing or out of order (found position ${position})`);
      lastPosition = position;
      const leaf = await hasher.leaf(utf8.encode(canonicalJson(event)));
      if (typeof record.leafHash !== 'string' || toHex(leaf) !== record.leafHash)
        bad('the event does not hash to the leaf the log recorded: it was changed');
      await tree.append(leaf);
      events++;
      if (wanted.has(tree.size)) roots.set(tree.size, await tree.root());
    }
    pass(`${events} events, each hashes to its recorded leaf`);

    // Signatures of the export's checkpoints, with the ledger's key.
    const log = await logKey(subtle, trust.verifierKey);
    let lastSize = -1;
    for (const { number, value } of checkpointLines) {
      const checkpoint = isObject(value) ? value.checkpoint : undefined;
      const problem = await signatureProblem(subtle, log, checkpoint);
      if (problem) throw new Failed(`line ${number}: ${problem}`);
      const size = (checkpoint as { treeSize: number }).treeSize;
      if (size <= lastSize) throw new Failed(`line ${number}: checkpoints must come in increasing tree size`);
      lastSize = size;
    }
    pass(`${checkpointLines.length} checkpoints signed by the ledger’s key`);

    // Roots of the checkpoints within the range: every event is included in what was signed.
    const within = checkpointLines.filter(({ value }) => {
      const size = ((value as Record<string, unknown>).checkpoint as SignedCheckpoint).treeSize;
      return size >= header.from - 1 && size <= header.to;
    });
    for (const { number, value } of within) {
      const checkpoint = (value as Record<string, unknown>).checkpoint as SignedCheckpoint;
      if (toHex(roots.get(checkpoint.treeSize)!) !== checkpoint.rootHash)
        throw new Failed(
          `line ${number}: the events do not hash to the signed root of the checkpoint of ${checkpoint.treeSize} events`,
        );
    }
    pass(
      within.length === 0
        ? 'no checkpoint within the range'
        : `${within.length} checkpoints within the range match the recomputed tree`,
      within.length === 0 ? 'skipped' : 'passed',
    );

    // Checkpoints before or after the range, tied to its end by their consistency proofs.
    const outside = checkpointLines.filter((line) => !within.includes(line));
    const end = roots.get(header.to)!;
    for (const { number, value } of outside) {
      const record = value as Record<string, unknown>;
      const checkpoint = record.checkpoint as SignedCheckpoint;
      const proof = record.consistency;
      const before = checkpoint.treeSize < header.from - 1;
      const [first, second] = before ? [checkpoint.treeSize, header.to] : [header.to, checkpoint.treeSize];
      if (
        !isObject(proof) ||
        proof.fromSize !== first ||
        proof.toSize !== second ||
        !Array.isArray(proof.proof) ||
        !proof.proof.every((h) => typeof h === 'string' && HEX.test(h))
      )
        throw new Failed(
          `line ${number}: a checkpoint outside the range needs a consistency proof from ${first} to ${second}`,
        );
      const signed = fromHex(checkpoint.rootHash);
      const problem = await consistencyProblem(
        hasher,
        first,
        second,
        before ? signed : end,
        before ? end : signed,
        (proof.proof as string[]).map(fromHex),
      );
      if (problem)
        throw new Failed(`line ${number}: the checkpoint of ${checkpoint.treeSize} events: ${problem}`);
    }
    if (
      within.length === 0 &&
      !outside.some(
        ({ value }) =>
          ((value as Record<string, unknown>).checkpoint as SignedCheckpoint).treeSize >= header.to,
      )
    )
      throw new Failed('no checkpoint signs the end of the range');
    pass(
      outside.length === 0
        ? 'no checkpoint outside the range'
        : `${outside.length} checkpoints outside the range are consistent with it`,
      outside.length === 0 ? 'skipped' : 'passed',
    );

    // The ledger's latest checkpoint: signed by the same key, and the export a prefix of its tree.
    const latest = trust.latest;
    const latestProblem = await signatureProblem(subtle, log, latest);
    if (latestProblem) throw new Failed(`the ledger’s latest checkpoint: ${latestProblem}`);
    if (latest.treeSize < header.from - 1) {
      pass(`the latest checkpoint (${latest.treeSize} events) is older than the export`, 'skipped');
    } else if (latest.treeSize <= header.to) {
      const root = roots.get(latest.treeSize);
      if (root !== undefined) {
        if (toHex(root) !== latest.rootHash)
          throw new Failed(
            `the export does not hash to the root of the latest checkpoint (${latest.treeSize} events)`,
          );
      } else {
        // The latest size lies inside the range but no checkpoint of the file names it: grow again.
        const again = new GrowingTree(hasher, header.from - 1, header.frontier);
        for (let i = 0; again.size < latest.treeSize; i++) {
          const record = parse(lines[i + 1]!) as { event: unknown };
          await again.append(await hasher.leaf(utf8.encode(canonicalJson(record.event))));
        }
        if (toHex(await again.root()) !== latest.rootHash)
          throw new Failed(
            `the export does not hash to the root of the latest checkpoint (${latest.treeSize} events)`,
          );
      }
      pass(`the latest checkpoint (${latest.treeSize} events) matches the recomputed tree`);
    } else {
      const proof = await trust.consistency(header.to, latest.treeSize);
      const problem = await consistencyProblem(
        hasher,
        header.to,
        latest.treeSize,
        end,
        fromHex(latest.rootHash),
        proof.map(fromHex),
      );
      if (problem) throw new Failed(`the latest checkpoint (${latest.treeSize} events): ${problem}`);
      pass(
        `the export is a prefix of the latest checkpoint (${latest.treeSize} events), by the ledger’s consistency proof`,
      );
    }
    return { ok: true, steps, events };
  } catch (error) {
    // The ledger did not answer (a proof it was asked for): the screen says so in words.
    if (error instanceof NoEd25519 || error instanceof ApiProblem) throw error;
    const detail =
      error instanceof Failed
        ? error.message
        : `unreadable: ${error instanceof Error ? error.message : String(error)}`;
    steps.push({ step: current, outcome: 'failed', detail });
    for (const step of STEPS.slice(STEPS.indexOf(current) + 1))
      steps.push({ step, outcome: 'skipped', detail: '' });
    return { ok: false, steps, events };
  }
}
