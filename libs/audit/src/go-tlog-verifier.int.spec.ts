/**
 * The ledger's checkpoints, inclusion proofs and consistency proofs checked by
 * the Go project's transparency-log code: `golang.org/x/mod/sumdb/note` and
 * `golang.org/x/mod/sumdb/tlog` (BSD-3-Clause, maintained by the Go team; the
 * code the go command uses to check sum.golang.org), from Debian's
 * `golang-golang-x-mod-dev`, through their public APIs only.
 *
 * `libs/audit/test/go-verifier/main.go` is built with `go build` into a
 * temporary directory (GOPATH mode over Debian's sources, offline) and fed JSON
 * lines. What it checks in that code: `note.NewVerifier` parses the C2SP
 * verifier key and checks its key hash; `note.Open` verifies the Ed25519
 * signature of the named key over the note text; `tlog.ParseTree` reads the
 * size and root hash after the origin line; `tlog.RecordHash` hashes the
 * event's leaf bytes as SHA-256(0x00 ‖ bytes); `tlog.CheckRecord` checks an
 * RFC 6962 inclusion proof and `tlog.CheckTree` an RFC 6962 consistency proof.
 * Ours in that program: JSON in and out, and that the note's origin line is
 * the key's name.
 *
 * Without a Go toolchain or without x/mod's sources the suite is reported as
 * skipped with the reason in its name, never passed without running; with
 * NRM_TEST_REQUIRE_GO=1 (set by .ci/run, which installs Go) it fails instead.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RecordedEvent } from '@nrm/event-store';
import { appendInvented, readEverything, scratch } from '../test/invented-events';
import { AuditKeys } from './audit-keys';
import { checkpointText, type SignedCheckpoint } from './checkpoint';
import { addCosignature, WitnessKey } from './cosignature';
import { leafBytes } from './leaf';
import { MerkleLog } from './merkle-log';
import {
  formatVerifierKey,
  NOTE_ED25519,
  noteKeyId,
  noteVerifier,
  parseSignedNote,
  rawEd25519,
  signatureLine,
} from './signed-note';

/** Where Debian's golang-golang-x-mod-dev puts the sources: a GOPATH. */
const GOPATH = '/usr/share/gocode';
const SOURCE = join(__dirname, '..', 'test', 'go-verifier');

/** Offline GOPATH mode over Debian's sources, whatever the caller's Go settings. */
function goEnv(cache: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    GO111MODULE: 'off',
    GOPATH,
    GOPROXY: 'off',
    GOFLAGS: '',
    GOTOOLCHAIN: 'local',
    GOCACHE: cache,
  };
}

/** Why the Go verifier cannot be built here, decided at load; undefined when it can. */
function noGoReason(): string | undefined {
  const version = spawnSync('go', ['version'], { encoding: 'utf8', timeout: 30_000 });
  if (version.error) return `no Go toolchain (${version.error.message})`;
  if (version.status !== 0) return `"go version" failed (${version.stderr.trim().split('\n')[0] ?? ''})`;
  if (!existsSync(join(GOPATH, 'src', 'golang.org', 'x', 'mod', 'sumdb', 'tlog', 'tlog.go')))
    return `no golang.org/x/mod sources under ${GOPATH}`;
  return undefined;
}

/** "golang.org/x/mod 0.7.0-1, go1.19.8": what ran, for the printed summary. */
function versions(): string {
  const go = spawnSync('go', ['env', 'GOVERSION'], { encoding: 'utf8' }).stdout?.trim() || 'go ?';
  const mod = spawnSync('dpkg-query', ['-W', '-f=${Version}', 'golang-golang-x-mod-dev'], {
    encoding: 'utf8',
  });
  return `golang.org/x/mod ${mod.status === 0 ? mod.stdout.trim() : '(version unknown)'}, ${go}`;
}

interface Request {
  readonly kind: 'checkpoint' | 'inclusion' | 'consistency';
  readonly vkey?: string;
  readonly note?: string;
  readonly leaf?: string;
  readonly leafHash?: string;
  readonly index?: number;
  readonly size?: number;
  readonly root?: string;
  readonly oldNote?: string;
  readonly newNote?: string;
  readonly oldSize?: number;
  readonly oldRoot?: string;
  readonly newSize?: number;
  readonly newRoot?: string;
  readonly proof?: string[];
}

interface Answer {
  readonly id: string;
  readonly ok: boolean;
  readonly reason?: string;
  readonly crashed?: boolean;
  readonly size?: number;
  readonly root?: string;
}

interface Item {
  readonly label: string;
  readonly honest: boolean;
  readonly request: Request;
  /** For an honest checkpoint: the tree Go must read from the note. */
  readonly tree?: { readonly size: number; readonly root: string };
}

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');
const b64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64');

/** A copy of a hex hash with one bit flipped. */
function flipped(hash: string, at = 7): string {
  const bytes = Buffer.from(hash, 'hex');
  bytes[at % bytes.length]! ^= 0x10;
  return bytes.toString('hex');
}

/** A small deterministic generator: the same sizes on every run. */
function sequence(seed: number): (below: number) => number {
  let state = seed >>> 0;
  return (below) => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    return state % below;
  };
}

const ORIGIN = 'ledger.example/audit';
const OTHER_NAME = 'other.example/audit';
const keys = AuditKeys.generate(ORIGIN);
const intruder = AuditKeys.generate(ORIGIN);
const witness = WitnessKey.generate('oversight.example/witness');
/** The log's own key under another name. */
const otherNameVkey = formatVerifierKey(noteVerifier(OTHER_NAME, NOTE_ED25519, keys.publicKey));

function cosigned(checkpoint: SignedCheckpoint): string {
  const note = parseSignedNote(checkpoint.note);
  if (!note.ok) throw new Error(note.reason);
  return addCosignature(note.value, witness.cosign(note.value.text, Math.floor(Date.now() / 1000)));
}

/** The checkpoint's text signed with the log's key, under `name`. */
function signedUnder(checkpoint: SignedCheckpoint, name: string): string {
  const text = checkpointText(checkpoint);
  const keyId = noteKeyId(name, NOTE_ED25519, rawEd25519(keys.publicKey));
  return `${text}\n${signatureLine(name, keyId, keys.sign(Buffer.from(text, 'utf8')))}`;
}

/** Forged versions of a checkpoint's note, each with the verifier key it is checked with. */
function forgedNotes(
  checkpoint: SignedCheckpoint,
  other: SignedCheckpoint,
): [label: string, note: string, vkey: string][] {
  const vkey = keys.verifierKey();
  const note = checkpoint.note;
  const [origin, size, root] = note.split('\n');
  const otherRoot = other.note.split('\n')[2]!;
  const text = checkpointText(checkpoint);
  const intruderNote = intruder.signCheckpoint(checkpoint).note;
  const signature = note.slice(note.lastIndexOf(' ') + 1, -1);
  const sigBytes = Buffer.from(signature, 'base64');
  sigBytes[20]! ^= 0x01;
  const [keyName, keyId, keyMaterial] = vkey.split('+');
  const otherKeyId = ((parseInt(keyId!, 16) ^ 1) >>> 0).toString(16).padStart(8, '0');
  return [
    ['note root edited', note.replace(`\n${root}\n`, `\n${otherRoot}\n`), vkey],
    ['note size edited', note.replace(`\n${size}\n`, `\n${Number(size) + 1}\n`), vkey],
    ['note origin edited', note.replace(`${origin}\n`, `${origin}x\n`), vkey],
    ['note time edited', note.replace(/\ntime \S+\n/, '\ntime 1999-01-01T00:00:00.000Z\n'), vkey],
    ['a signature bit flipped', note.replace(signature, b64(sigBytes)), vkey],
    ['signed by an intruder under the log name', intruderNote, vkey],
    [
      'an intruder claiming the log key ID',
      intruderNote.replace(
        /— (\S+) (\S+)\n$/,
        (_m, n: string, s: string) =>
          `— ${n} ${b64(Buffer.concat([Buffer.from(keys.keyId, 'hex'), Buffer.from(s, 'base64').subarray(4)]))}\n`,
      ),
      vkey,
    ],
    ['checked with the intruder key', note, intruder.verifierKey()],
    ['checked with the log key under another name', note, otherNameVkey],
    ['signed by the log key under another name', signedUnder(checkpoint, OTHER_NAME), vkey],
    [
      'signed and checked under another name than its origin (origin check, ours)',
      signedUnder(checkpoint, OTHER_NAME),
      otherNameVkey,
    ],
    ['checked with the witness key', cosigned(checkpoint), formatVerifierKey(witness.verifier)],
    ['a verifier key with a wrong key hash', note, `${keyName}+${otherKeyId}+${keyMaterial}`],
    [
      'only the cosignature, the log signature dropped',
      cosigned(checkpoint).replace(/— ledger\S+ \S+\n/, ''),
      vkey,
    ],
    ['no signature', `${text}\n`, vkey],
    ['no blank line', text + note.slice(text.length + 1), vkey],
    ['no final newline', note.slice(0, -1), vkey],
    ['the dash dropped', note.replace('— ', ''), vkey],
    ['empty', '', vkey],
    ['garbage', 'garbage\n\n— x AAAAAAA=\n', vkey],
  ];
}

function run(binary: string, items: readonly Item[]): Answer[] {
  const input = items.map((item, id) => JSON.stringify({ id: String(id), ...item.request })).join('\n');
  const result = spawnSync(binary, [], {
    input: `${input}\n`,
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
    timeout: 120_000,
  });
  if (result.error) throw result.error;
  if (result.status !== 0) throw new Error(`go-verifier exited ${result.status}: ${result.stderr}`);
  const answers = result.stdout
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => JSON.parse(line) as Answer);
  expect(answers.map((a) => a.id)).toEqual(items.map((_, id) => String(id)));
  return answers;
}

function suite(): void {
  let env: ReturnType<typeof scratch>;
  let log: MerkleLog;
  let events: RecordedEvent[];
  let build: string;
  let binary: string;

  beforeAll(async () => {
    build = mkdtempSync(join(tmpdir(), 'nrm-go-verifier-'));
    binary = join(build, 'go-verifier');
    execFileSync('go', ['build', '-o', binary, '.'], {
      cwd: SOURCE,
      env: goEnv(join(build, 'cache')),
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 240_000,
    });
    env = scratch();
    log = new MerkleLog({
      store: env.store,
      filename: join(env.dir, 'audit.sqlite'),
      signer: keys,
      checkpointEvery: 97,
      checkpointIntervalMs: 0,
    });
    await appendInvented(env.store, 700);
    events = await readEverything(env.store);
    for (let at = 0; at < events.length; at += 97) {
      log.add(events.slice(at, at + 97));
      log.checkpoint();
    }
  }, 300_000);
  afterAll(async () => {
    await log?.close();
    await env?.dispose();
    if (build) rmSync(build, { recursive: true, force: true });
  });

  it('accepts every honest checkpoint, inclusion and consistency proof, and refuses every forged one', () => {
    const vkey = keys.verifierKey();
    const checkpoints = log.checkpoints();
    expect(checkpoints.length).toBeGreaterThanOrEqual(8);
    expect(checkpoints.at(-1)!.treeSize).toBe(events.length);
    const items: Item[] = [];
    const honest = (label: string, request: Request, tree?: Item['tree']) =>
      items.push({ label, honest: true, request, tree });
    const forged = (label: string, request: Request) => items.push({ label, honest: false, request });

    // Checkpoints: each as signed, and as served with a witness's cosignature (a line Go sets aside).
    checkpoints.forEach((checkpoint, i) => {
      const tree = { size: checkpoint.treeSize, root: checkpoint.rootHash };
      honest('checkpoint', { kind: 'checkpoint', note: checkpoint.note, vkey }, tree);
      honest('cosigned checkpoint', { kind: 'checkpoint', note: cosigned(checkpoint), vkey }, tree);
      const other = checkpoints[(i + 1) % checkpoints.length]!;
      for (const [label, note, key] of forgedNotes(checkpoint, other))
        forged(`checkpoint: ${label}`, { kind: 'checkpoint', note, vkey: key });
    });

    // Inclusion against a checkpoint's signed note: the leaf is the event's bytes, hashed by Go.
    checkpoints.forEach((checkpoint, c) => {
      const size = checkpoint.treeSize;
      const other = checkpoints[(c + 1) % checkpoints.length]!;
      const intruderNote = intruder.signCheckpoint(checkpoint).note;
      const step = Math.max(1, Math.floor(size / 40));
      for (let index = 0; index < size; index += step) {
        const leaf = b64(leafBytes(events[index]!));
        const proof = log.inclusionProof(index + 1, size).proof.map(hex);
        const base = { kind: 'inclusion' as const, note: checkpoint.note, vkey, leaf, index, proof };
        honest('inclusion under a note', base);
        honest('inclusion under a cosigned note', { ...base, note: cosigned(checkpoint) });
        forged('inclusion: another event', {
          ...base,
          leaf: b64(leafBytes(events[(index + 1) % events.length]!)),
        });
        forged('inclusion: a byte added to the event', {
          ...base,
          leaf: b64(Buffer.concat([leafBytes(events[index]!), Buffer.from(' ')])),
        });
        if (size > 1) forged('inclusion: wrong index', { ...base, index: (index + 1) % size });
        forged('inclusion: index beyond the tree', { ...base, index: size });
        if (proof.length > 0) {
          const at = index % proof.length;
          forged('inclusion: a proof hash flipped', {
            ...base,
            proof: proof.map((h, i) => (i === at ? flipped(h) : h)),
          });
          forged('inclusion: proof truncated', { ...base, proof: proof.slice(0, -1) });
          forged('inclusion: first proof hash dropped', { ...base, proof: proof.slice(1) });
          if (proof.length > 1)
            forged('inclusion: proof hashes swapped', { ...base, proof: [...proof].reverse() });
        }
        forged('inclusion: proof padded', { ...base, proof: [...proof, proof[0] ?? hex(Buffer.alloc(32))] });
        if (index < other.treeSize && other.treeSize !== size)
          forged('inclusion: proof for another tree', {
            ...base,
            proof: log.inclusionProof(index + 1, other.treeSize).proof.map(hex),
          });
        forged('inclusion: under another checkpoint', { ...base, note: other.note });
        forged('inclusion: under an intruder note', { ...base, note: intruderNote });
      }
    });

    // Inclusion in trees of any size, given by size and root hash; the leaf as its hash.
    const random = sequence(6962);
    for (let n = 0; n < 300; n++) {
      const size = n < 4 ? [1, 2, 64, 700][n]! : 1 + random(700);
      const index = n < 4 ? size - 1 : random(size);
      const p = log.inclusionProof(index + 1, size);
      const base = {
        kind: 'inclusion' as const,
        leafHash: hex(p.leafHash),
        index,
        size,
        root: hex(p.rootHash),
        proof: p.proof.map(hex),
      };
      honest('inclusion by size and root', base);
      forged('inclusion: root flipped', { ...base, root: flipped(base.root, index) });
      forged('inclusion: leaf hash flipped', { ...base, leafHash: flipped(base.leafHash, size) });
      // A bare size is bound by nothing but its root: a wrong size comes with that tree's real root.
      if (size < 700)
        forged('inclusion: size + 1', { ...base, size: size + 1, root: hex(log.rootAt(size + 1)) });
      if (index < size - 1)
        forged('inclusion: size − 1', { ...base, size: size - 1, root: hex(log.rootAt(size - 1)) });
      if (size > 1) forged('inclusion: wrong index', { ...base, index: (index + 1) % size });
      if (p.proof.length > 0)
        forged('inclusion: proof truncated', { ...base, proof: base.proof.slice(0, -1) });
      forged('inclusion: negative index', { ...base, index: -1 });
    }

    // Consistency between every pair of checkpoints, from their signed notes.
    for (let a = 0; a < checkpoints.length; a++) {
      for (let b = a; b < checkpoints.length; b++) {
        const older = checkpoints[a]!;
        const newer = checkpoints[b]!;
        const proof = log.consistencyProof(older.treeSize, newer.treeSize).proof.map(hex);
        const base = {
          kind: 'consistency' as const,
          oldNote: older.note,
          newNote: newer.note,
          vkey,
          proof,
        };
        honest('consistency between notes', base);
        honest('consistency between cosigned notes', { ...base, newNote: cosigned(newer) });
        forged('consistency: old note by an intruder', {
          ...base,
          oldNote: intruder.signCheckpoint(older).note,
        });
        forged('consistency: new note by an intruder', {
          ...base,
          newNote: intruder.signCheckpoint(newer).note,
        });
        if (a !== b) {
          forged('consistency: notes swapped', { ...base, oldNote: newer.note, newNote: older.note });
          forged('consistency: proof padded', { ...base, proof: [...proof, proof[0]!] });
          forged('consistency: proof truncated', { ...base, proof: proof.slice(0, -1) });
        }
      }
    }

    // Consistency between trees of any sizes, given by size and root hash.
    for (let n = 0; n < 400; n++) {
      const edges: [number, number][] = [
        [1, 1],
        [1, 2],
        [1, 700],
        [64, 128],
        [63, 64],
        [64, 65],
        [699, 700],
        [700, 700],
      ];
      let [oldSize, newSize] = edges[n] ?? [1 + random(700), 1 + random(700)];
      if (oldSize > newSize) [oldSize, newSize] = [newSize, oldSize];
      const p = log.consistencyProof(oldSize, newSize);
      const base = {
        kind: 'consistency' as const,
        oldSize,
        oldRoot: hex(p.firstRoot),
        newSize,
        newRoot: hex(p.secondRoot),
        proof: p.proof.map(hex),
      };
      honest('consistency by sizes and roots', base);
      forged('consistency: old root flipped', { ...base, oldRoot: flipped(base.oldRoot, n) });
      forged('consistency: new root flipped', { ...base, newRoot: flipped(base.newRoot, n) });
      if (newSize < 700)
        forged('consistency: new size + 1', {
          ...base,
          newSize: newSize + 1,
          newRoot: hex(log.rootAt(newSize + 1)),
        });
      if (oldSize < 700)
        forged('consistency: old size + 1', {
          ...base,
          oldSize: oldSize + 1,
          oldRoot: hex(log.rootAt(oldSize + 1)),
        });
      if (oldSize > 1)
        forged('consistency: old size − 1', {
          ...base,
          oldSize: oldSize - 1,
          oldRoot: hex(log.rootAt(oldSize - 1)),
        });
      forged('consistency: old root of another tree', {
        ...base,
        oldRoot: hex(log.rootAt(oldSize === 1 ? 2 : oldSize - 1)),
      });
      forged('consistency: proof padded', { ...base, proof: [...base.proof, hex(p.firstRoot)] });
      if (p.proof.length > 0) {
        const at = n % p.proof.length;
        forged('consistency: a proof hash flipped', {
          ...base,
          proof: base.proof.map((h, i) => (i === at ? flipped(h, n) : h)),
        });
        forged('consistency: proof truncated', { ...base, proof: base.proof.slice(0, -1) });
        forged('consistency: first proof hash dropped', { ...base, proof: base.proof.slice(1) });
      }
      if (newSize < 700)
        forged('consistency: proof for another tree', {
          ...base,
          proof: log.consistencyProof(oldSize, newSize + 1).proof.map(hex),
        });
      if (oldSize < newSize)
        forged('consistency: sizes swapped', {
          ...base,
          oldSize: newSize,
          oldRoot: base.newRoot,
          newSize: oldSize,
          newRoot: base.oldRoot,
        });
    }

    // Malformed requests: refused, never a crash.
    forged('malformed: a short hash', { kind: 'inclusion', leafHash: 'ab', index: 0, size: 1, root: 'ab' });
    forged('malformed: no proof target', { kind: 'consistency', proof: [] });

    const answers = run(binary, items);
    const counts = {
      honest: 0,
      accepted: 0,
      forged: 0,
      refused: 0,
      crashed: 0,
      checkpoints: 0,
      inclusion: 0,
      consistency: 0,
    };
    const wrong: { label: string; request: Request; answer: Answer }[] = [];
    items.forEach((item, i) => {
      const answer = answers[i]!;
      counts[item.request.kind === 'checkpoint' ? 'checkpoints' : item.request.kind]++;
      if (answer.crashed) counts.crashed++;
      if (item.honest) {
        counts.honest++;
        const sameTree =
          item.tree === undefined || (answer.size === item.tree.size && answer.root === item.tree.root);
        if (answer.ok && sameTree) counts.accepted++;
        else wrong.push({ label: item.label, request: item.request, answer });
      } else {
        counts.forged++;
        if (!answer.ok && !answer.crashed) counts.refused++;
        else wrong.push({ label: item.label, request: item.request, answer });
      }
    });
    console.log(
      `go tlog verifier (${versions()}): honest ${counts.honest} accepted ${counts.accepted}; ` +
        `forged ${counts.forged} refused ${counts.refused}; crashed ${counts.crashed} ` +
        `(items: checkpoints ${counts.checkpoints}, inclusion ${counts.inclusion}, consistency ${counts.consistency})`,
    );
    expect(wrong.slice(0, 5)).toEqual([]);
    expect(counts.accepted).toBe(counts.honest);
    expect(counts.refused).toBe(counts.forged);
    expect(counts.crashed).toBe(0);
  });
}

const reason = noGoReason();
if (reason === undefined) {
  describe('an independent verifier (Go golang.org/x/mod/sumdb/note and sumdb/tlog)', suite);
} else if (process.env.NRM_TEST_REQUIRE_GO === '1') {
  // CI (.ci/run) installs Go: there a missing toolchain is a failure, not a skip.
  describe('an independent verifier (Go golang.org/x/mod/sumdb/note and sumdb/tlog)', () => {
    it('needs Go and golang.org/x/mod (NRM_TEST_REQUIRE_GO=1)', () => {
      throw new Error(`cannot build the Go verifier: ${reason}`);
    });
  });
} else {
  describe.skip(`Go x/mod sumdb verifier — skipped: ${reason}; install golang-go and golang-golang-x-mod-dev (Debian)`, () => {
    it('checks checkpoints, inclusion and consistency proofs', () => undefined);
  });
}
