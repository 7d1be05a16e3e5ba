import Database from 'better-sqlite3';
import fc from 'fast-check';
import { join } from 'node:path';
import { appendInvented, scratch } from '../test/invented-events';
import { AuditKeys } from './audit-keys';
import { canonicalJson } from './canonical-json';
import { signCheckpoint, type SignedCheckpoint } from './checkpoint';
import { hashFromHex } from './encoding';
import { writeExport, type ExportSummary } from './export';
import { eventLeafHash, type LeafRecord } from './leaf';
import { verifyInclusion } from './merkle';
import { MerkleLog } from './merkle-log';
import { MerkleTree } from './merkle-tree';
import { describeFault, verifyExport, type ExportFault, type ExportVerdict } from './verify-export';

/**
 * Tamper evidence (QUALITY.md #8): a store of invented events, its log and an
 * export; then each kind of tampering, which `verifyExport` must detect and
 * place; then random mutations of an export and forged proofs, none accepted.
 */

const keys = AuditKeys.generate();
// The intruder signs under the log's own name (origin): only the key tells them apart.
const intruder = AuditKeys.generate(keys.origin);

/** The checkpoint with its log signature line carrying other bytes (and perhaps another key ID). */
function withSignature(
  checkpoint: SignedCheckpoint,
  signature: string,
  keyId = checkpoint.keyId,
): SignedCheckpoint {
  const text = checkpoint.note.slice(0, checkpoint.note.lastIndexOf('\n\n') + 1);
  const bytes = Buffer.concat([Buffer.from(keyId, 'hex'), Buffer.from(signature, 'base64')]);
  const note = `${text}\n— ${checkpoint.origin} ${bytes.toString('base64')}\n`;
  return { ...checkpoint, keyId, note, signature };
}

interface Fixture {
  env: ReturnType<typeof scratch>;
  log: MerkleLog;
}

async function fixture(events: number, extra: number, checkpointEvery: number): Promise<Fixture> {
  const env = scratch('nrm-tamper-');
  await appendInvented(env.store, events);
  const log = new MerkleLog({
    store: env.store,
    filename: join(env.dir, 'audit.sqlite'),
    signer: keys,
    checkpointEvery,
    checkpointIntervalMs: 0,
    batchSize: 100,
  });
  await log.catchUp();
  log.checkpoint();
  if (extra > 0) {
    await appendInvented(env.store, extra);
    await log.catchUp();
    log.checkpoint();
  }
  return { env, log };
}

async function exportText(
  f: Fixture,
  from: number,
  to: number,
): Promise<{ text: string; summary: ExportSummary }> {
  const lines: string[] = [];
  const summary = await writeExport(
    f.env.store,
    f.log,
    { from, to },
    { write: (line) => void lines.push(line) },
  );
  return { text: lines.join(''), summary };
}

/** The file's bytes in chunks that cut lines and characters anywhere. */
function* chunks(text: string | Buffer, size = 4093): Generator<Buffer> {
  const bytes = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

function verify(
  text: string | Buffer,
  trusted: unknown,
  publicKey = keys.publicKeyPem(),
): Promise<ExportVerdict> {
  // These cases export ranges that end before the latest checkpoint: they check the range only.
  return verifyExport(chunks(text), { trustedCheckpoint: trusted, publicKey, rangeOnly: true });
}

function faultOf(verdict: ExportVerdict): ExportFault | undefined {
  return verdict.ok ? undefined : verdict.fault;
}

const lineOf = (text: string, position: number, from = 1) => text.split('\n')[position - from + 1]!;
const replaceLine = (text: string, index: number, line: string | undefined) => {
  const lines = text.split('\n');
  if (line === undefined) lines.splice(index, 1);
  else lines[index] = line;
  return lines.join('\n');
};

describe('tamper evidence of an export', () => {
  let f: Fixture;
  let full: string;
  let part: string;
  let latest: SignedCheckpoint;
  let inRange: SignedCheckpoint;
  let detected = 0;
  let cases = 0;

  /** One tampering case: it must be detected, as (one of) this kind, at this position. */
  async function expectFault(
    text: string | Buffer,
    expected: { kind: ExportFault['kind'] | ExportFault['kind'][]; position?: number; contains?: number },
    trusted: unknown = latest,
  ): Promise<void> {
    cases++;
    const fault = faultOf(await verify(text, trusted));
    expect(fault).toBeDefined();
    const kinds = Array.isArray(expected.kind) ? expected.kind : [expected.kind];
    expect(kinds).toContain(fault!.kind);
    if (expected.position !== undefined) expect(fault!.position).toBe(expected.position);
    if (expected.contains !== undefined) {
      expect(fault!.position).toBeLessThanOrEqual(expected.contains);
      expect(fault!.lastPosition).toBeGreaterThanOrEqual(expected.contains);
    }
    expect(describeFault(fault!)).toMatch(new RegExp(`^${fault!.kind}`));
    detected++;
  }

  beforeAll(async () => {
    f = await fixture(3000, 200, 400);
    full = (await exportText(f, 1, 3000)).text;
    part = (await exportText(f, 1001, 2500)).text;
    latest = f.log.latestCheckpoint()!;
    inRange = f.log.checkpointAt(2000)!;
    expect(latest.treeSize).toBe(3200);
    expect(inRange).toBeDefined();
  });
  afterAll(async () => {
    await f.log.close();
    await f.env.dispose();
    process.stdout.write(`tamper cases: ${detected} detected of ${cases}\n`);
  });

  it('verifies untouched exports against checkpoints before, within and after the range', async () => {
    const progress: number[] = [];
    const verdict = await verifyExport(chunks(full), {
      trustedCheckpoint: latest,
      publicKey: keys.publicKeyJwk(),
      rangeOnly: true,
      onProgress: (p) => progress.push(p.processed),
      progressEvery: 1000,
    });
    expect(verdict).toMatchObject({
      ok: true,
      fromPosition: 1,
      toPosition: 3000,
      events: 3000,
      trustedTreeSize: 3200,
    });
    expect(progress).toEqual([1000, 2000, 3000, 3000]);
    for (const trusted of [f.log.checkpointAt(400), inRange, latest])
      expect(await verify(part, trusted)).toMatchObject({
        ok: true,
        fromPosition: 1001,
        toPosition: 2500,
        events: 1500,
      });
    // Every line is canonical JSON, and the header says what follows.
    const [header] = full.split('\n');
    expect(JSON.parse(header!)).toEqual({
      format: 'nrm-ledger-export',
      version: 1,
      fromPosition: 1,
      toPosition: 3000,
      checkpoints: f.log.checkpoints().length,
      prefix: { treeSize: 0, frontier: [] },
    });
    for (const line of full.trimEnd().split('\n')) expect(canonicalJson(JSON.parse(line))).toBe(line);
    // Without rangeOnly, an export that stops before the trusted tree size is not the whole trail.
    const short = await verifyExport(chunks(full), { trustedCheckpoint: latest, publicKey: keys.publicKey });
    expect(faultOf(short)).toMatchObject({ kind: 'truncated', position: 3001, lastPosition: 3200 });
  });

  it('detects a byte changed in one event, at its position', async () => {
    const line = lineOf(full, 1234);
    const at = line.indexOf('"region":"') + 11;
    const changed = line.slice(0, at) + (line[at] === 'X' ? 'Y' : 'X') + line.slice(at + 1);
    await expectFault(replaceLine(full, 1234, changed), { kind: 'changed', position: 1234 });
    // Any byte of the event's data changed, even one that breaks its JSON, is placed at that event.
    const lines = full.split('\n');
    const start = Buffer.byteLength(lines.slice(0, 2000).join('\n'), 'utf8') + 1;
    const target = Buffer.from(lines[2000]!, 'utf8');
    const dataFrom = target.indexOf('"data":{') + 8;
    const dataTo = target.indexOf('},"id":');
    const bytes = Buffer.from(full, 'utf8');
    for (const fraction of [0, 0.2, 0.4, 0.6, 0.8, 0.99]) {
      const copy = Buffer.from(bytes);
      copy[start + dataFrom + Math.floor(fraction * (dataTo - dataFrom))]! ^= 0x04;
      await expectFault(copy, { kind: ['changed', 'malformed'], position: 2000 });
    }
  });

  it('detects two events swapped, an event deleted and a duplicated one', async () => {
    const lines = full.split('\n');
    const swapped = [...lines];
    [swapped[700], swapped[900]] = [swapped[900]!, swapped[700]!];
    await expectFault(swapped.join('\n'), { kind: 'reordered', position: 700 });
    const neighbours = [...lines];
    [neighbours[1500], neighbours[1501]] = [neighbours[1501]!, neighbours[1500]!];
    await expectFault(neighbours.join('\n'), { kind: 'reordered', position: 1500 });
    await expectFault(replaceLine(full, 2222, undefined), { kind: 'missing', position: 2222 });
    const doubled = [...lines];
    doubled.splice(1001, 0, lines[1000]!);
    await expectFault(doubled.join('\n'), { kind: 'reordered', position: 1000 });
  });

  it('detects the tail cut off, within a line or at its end', async () => {
    const cutAt = full.indexOf(lineOf(full, 2900)) + 40;
    await expectFault(full.slice(0, cutAt), { kind: 'truncated', position: 2900 });
    const lines = full.split('\n');
    await expectFault(`${lines.slice(0, 2951).join('\n')}\n`, { kind: 'truncated', position: 2951 });
    // The events whole, the checkpoints cut off.
    await expectFault(`${lines.slice(0, 3003).join('\n')}\n`, { kind: 'truncated' });
    // Only the final newline gone.
    await expectFault(full.slice(0, -1), { kind: 'truncated' });
  });

  it('detects a checkpoint signature replaced, and checkpoints signed with another key', async () => {
    const lines = full.split('\n');
    const at = lines.findIndex((l) => l.includes('"treeSize":1200'));
    const line = JSON.parse(lines[at]!) as { checkpoint: SignedCheckpoint };
    const other = f.log.checkpointAt(1600)!;
    const replaced = canonicalJson({ checkpoint: withSignature(line.checkpoint, other.signature) });
    await expectFault(replaceLine(full, at, replaced), { kind: 'bad-signature', position: 1200 });
    const resigned = canonicalJson({ checkpoint: signCheckpoint(intruder, line.checkpoint) });
    await expectFault(replaceLine(full, at, resigned), { kind: 'bad-signature', position: 1200 });
    // The intruder re-signs a trusted checkpoint, or claims the log's key id.
    await expectFault(full, { kind: 'bad-signature', position: 3200 }, signCheckpoint(intruder, latest));
    await expectFault(
      full,
      { kind: 'bad-signature', position: 3200 },
      withSignature(signCheckpoint(intruder, latest), signCheckpoint(intruder, latest).signature, keys.keyId),
    );
  });

  it('detects a forged consistency proof and a forked history', async () => {
    const lines = full.split('\n');
    const at = lines.findIndex((l) => l.includes('"treeSize":3200'));
    const line = JSON.parse(lines[at]!) as { checkpoint: SignedCheckpoint; consistency: { proof: string[] } };
    const proof = [...line.consistency.proof];
    proof[0] = `${proof[0]!.slice(0, 10)}${proof[0]![10] === 'a' ? 'b' : 'a'}${proof[0]!.slice(11)}`;
    const forged = canonicalJson({ ...line, consistency: { ...line.consistency, proof } });
    await expectFault(replaceLine(full, at, forged), { kind: 'inconsistent-checkpoint', position: 3200 });
    // The log's own key signs a different root for a size the export holds: a fork.
    const fork = keys.signCheckpoint({ treeSize: 2000, rootHash: 'ee'.repeat(32), time: inRange.time });
    await expectFault(full, { kind: 'inconsistent-checkpoint', position: 2000 }, fork);
    const forkAfter = keys.signCheckpoint({ treeSize: 3200, rootHash: 'ee'.repeat(32), time: latest.time });
    await expectFault(full, { kind: 'inconsistent-checkpoint', position: 3200 }, forkAfter);
    // A trusted checkpoint the export cannot be tied to.
    const unknown = keys.signCheckpoint({ treeSize: 3100, rootHash: 'ee'.repeat(32), time: latest.time });
    await expectFault(full, { kind: 'inconsistent-checkpoint', position: 3100 }, unknown);
  });

  it('detects an event rewritten together with its leaf hash, within the checkpoints around it', async () => {
    const line = JSON.parse(lineOf(part, 1234, 1001)) as { event: LeafRecord };
    const event: LeafRecord = { ...line.event, data: { ...line.event.data, region: 'XX-XX' } };
    const rewritten = canonicalJson({ event, leafHash: eventLeafHash(event).toString('hex') });
    await expectFault(replaceLine(part, 1234 - 1000, rewritten), { kind: 'changed', contains: 1234 });
  });

  it('names the event changed in the store before the export', async () => {
    const raw = new Database(join(f.env.dir, 'events.sqlite'));
    raw.exec('DROP TRIGGER IF EXISTS events_are_immutable_update');
    raw
      .prepare("UPDATE events SET data = json_set(data, '$.minor', json('true')) WHERE position = 2345")
      .run();
    raw.close();
    const { text, summary } = await exportText(f, 2001, 2500);
    expect(summary.changedPositions).toEqual([2345]);
    await expectFault(text, { kind: 'changed', position: 2345 });
  });

  it('refuses malformed headers and a malformed trusted checkpoint', async () => {
    const lines = full.split('\n');
    const header = JSON.parse(lines[0]!) as Record<string, unknown>;
    await expectFault(replaceLine(full, 0, canonicalJson({ ...header, version: 2 })), { kind: 'malformed' });
    await expectFault(replaceLine(full, 0, JSON.stringify(header, null, 1).replace(/\n/g, '')), {
      kind: 'malformed',
    });
    await expectFault(full, { kind: 'malformed' }, { ...latest, treeSize: '3200' });
    await expectFault('', { kind: 'truncated' });
  });
});

describe('random mutations of an export and forged proofs', () => {
  let f: Fixture;
  let text: string;
  let trusted: SignedCheckpoint;
  let rejected = 0;
  let accepted = 0;
  let forgedRejected = 0;
  let forgedAccepted = 0;

  beforeAll(async () => {
    f = await fixture(150, 30, 25);
    text = (await exportText(f, 41, 120)).text;
    trusted = f.log.latestCheckpoint()!;
    expect((await verify(text, trusted)).ok).toBe(true);
  });
  afterAll(async () => {
    await f.log.close();
    await f.env.dispose();
    process.stdout.write(
      `fuzzed exports: ${rejected} rejected, ${accepted} accepted; forged proofs: ${forgedRejected} rejected, ${forgedAccepted} accepted\n`,
    );
  });

  type Mutation =
    | { kind: 'flip'; at: number; mask: number }
    | { kind: 'delete-byte'; at: number }
    | { kind: 'insert-bytes'; at: number; bytes: Uint8Array }
    | { kind: 'truncate'; at: number }
    | { kind: 'delete-line'; line: number }
    | { kind: 'duplicate-line'; line: number }
    | { kind: 'swap-lines'; a: number; b: number }
    | { kind: 'insert-line'; line: number; json: string }
    | { kind: 'replace-line'; line: number; json: string };

  const mutation: fc.Arbitrary<Mutation> = fc.oneof(
    fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), mask: fc.integer({ min: 1, max: 255 }) }),
    fc.record({ kind: fc.constant('delete-byte' as const), at: fc.nat() }),
    fc.record({
      kind: fc.constant('insert-bytes' as const),
      at: fc.nat(),
      bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }),
    }),
    fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
    fc.record({ kind: fc.constant('delete-line' as const), line: fc.nat() }),
    fc.record({ kind: fc.constant('duplicate-line' as const), line: fc.nat() }),
    fc.record({ kind: fc.constant('swap-lines' as const), a: fc.nat(), b: fc.nat() }),
    fc.record({ kind: fc.constant('insert-line' as const), line: fc.nat(), json: fc.json() }),
    fc.record({ kind: fc.constant('replace-line' as const), line: fc.nat(), json: fc.json() }),
  );

  function mutate(original: string, m: Mutation): Buffer | undefined {
    const bytes = Buffer.from(original, 'utf8');
    const lines = original.slice(0, -1).split('\n');
    const joined = (ls: string[]) => Buffer.from(`${ls.join('\n')}\n`, 'utf8');
    switch (m.kind) {
      case 'flip': {
        const copy = Buffer.from(bytes);
        copy[m.at % copy.length]! ^= m.mask;
        return copy;
      }
      case 'delete-byte': {
        const at = m.at % bytes.length;
        return Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + 1)]);
      }
      case 'insert-bytes': {
        const at = m.at % (bytes.length + 1);
        return Buffer.concat([bytes.subarray(0, at), m.bytes, bytes.subarray(at)]);
      }
      case 'truncate':
        return bytes.subarray(0, m.at % bytes.length);
      case 'delete-line':
        return joined(lines.filter((_, i) => i !== m.line % lines.length));
      case 'duplicate-line': {
        const copy = [...lines];
        copy.splice(m.line % lines.length, 0, lines[m.line % lines.length]!);
        return joined(copy);
      }
      case 'swap-lines': {
        const a = m.a % lines.length;
        const b = m.b % lines.length;
        if (a === b) return undefined;
        const copy = [...lines];
        [copy[a], copy[b]] = [copy[b]!, copy[a]!];
        return joined(copy);
      }
      case 'insert-line': {
        const copy = [...lines];
        copy.splice(m.line % (lines.length + 1), 0, m.json);
        return joined(copy);
      }
      case 'replace-line': {
        const copy = [...lines];
        if (copy[m.line % lines.length] === m.json) return undefined;
        copy[m.line % lines.length] = m.json;
        return joined(copy);
      }
    }
  }

  it('reads the file however it is cut: byte by byte, or as lines of text', async () => {
    const bytes = Buffer.from(text, 'utf8');
    const byteByByte = Array.from({ length: bytes.length }, (_, i) => bytes.subarray(i, i + 1));
    expect(
      await verifyExport(byteByByte, {
        trustedCheckpoint: trusted,
        publicKey: keys.publicKey,
        rangeOnly: true,
      }),
    ).toMatchObject({
      ok: true,
      events: 80,
    });
    const lines = text.split(/(?<=\n)/);
    expect(
      await verifyExport(lines, { trustedCheckpoint: trusted, publicKey: keys.publicKey, rangeOnly: true }),
    ).toMatchObject({
      ok: true,
      events: 80,
    });
  });

  it('accepts none of them, and never throws', async () => {
    const original = Buffer.from(text, 'utf8');
    await fc.assert(
      fc.asyncProperty(mutation, async (m) => {
        const mutated = mutate(text, m);
        if (!mutated || mutated.equals(original)) return true;
        const half = mutated.length >> 1;
        const verdict = await verifyExport([mutated.subarray(0, half), mutated.subarray(half)], {
          trustedCheckpoint: trusted,
          publicKey: keys.publicKey,
          rangeOnly: true,
        });
        if (verdict.ok) accepted++;
        else rejected++;
        return !verdict.ok;
      }),
      { numRuns: 1500 },
    );
  });

  it('rejects forged inclusion proofs of the log', () => {
    const size = trusted.treeSize;
    const root = hashFromHex(trusted.rootHash);
    const tree = new MerkleTree();
    for (let position = 1; position <= size; position++) tree.append(f.log.leafHash(position)!);
    const refused = (claim: Parameters<typeof verifyInclusion>[0]): boolean => {
      const verdict = verifyInclusion(claim);
      if (verdict.valid) forgedAccepted++;
      else forgedRejected++;
      return !verdict.valid;
    };
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: size }),
        fc.integer({ min: 1, max: size - 1 }),
        fc.nat(31),
        fc.integer({ min: 1, max: 255 }),
        (position, offset, byte, mask) => {
          const honest = f.log.inclusionProof(position, size);
          // The log's proof is the one an independent tree of its leaves gives, and it verifies.
          expect(honest.proof).toEqual(tree.inclusionProof(position - 1, size));
          const claim = {
            leafIndex: position - 1,
            treeSize: size,
            leafHash: honest.leafHash,
            proof: honest.proof,
            rootHash: root,
          };
          expect(verifyInclusion(claim)).toEqual({ valid: true });
          const flipped = honest.proof.map((h) => Buffer.from(h));
          flipped[offset % flipped.length]![byte]! ^= mask;
          // Another leaf's proof, or another leaf, passed off as this one's.
          const other = f.log.inclusionProof(((position - 1 + offset) % size) + 1, size);
          return (
            refused({ ...claim, proof: flipped }) &&
            refused({ ...claim, proof: other.proof }) &&
            refused({ ...claim, leafHash: other.leafHash })
          );
        },
      ),
      { numRuns: 700 },
    );
  });
});

describe('verifying a large export', () => {
  it('measures events per second over 12,000 events', async () => {
    const f = await fixture(12_000, 0, 1000);
    try {
      const { text, summary } = await exportText(f, 1, 12_000);
      const verdict = await verify(text, f.log.latestCheckpoint());
      expect(verdict.ok).toBe(true);
      if (!verdict.ok) return;
      process.stdout.write(
        `export: ${summary.events} events in ${summary.seconds.toFixed(2)} s = ${Math.round(summary.eventsPerSec)} events/s; ` +
          `verify: ${verdict.events} events in ${verdict.seconds.toFixed(2)} s = ${Math.round(verdict.eventsPerSec)} events/s ` +
          `(${(Buffer.byteLength(text) / 1e6).toFixed(1)} MB)\n`,
      );
    } finally {
      await f.log.close();
      await f.env.dispose();
    }
  });
});
