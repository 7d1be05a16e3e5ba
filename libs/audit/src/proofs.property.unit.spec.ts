import fc from 'fast-check';
import { leafHash, verifyConsistency, verifyInclusion, type ProofVerdict } from './merkle';
import { MerkleTree } from './merkle-tree';

/**
 * fast-check properties of the proofs: every honest proof verifies; every
 * change to a proof, a root, an index or a size is refused; malformed input
 * is refused with a reason and never throws.
 */

/** A tree of distinct invented leaves (a seed keeps trees of one size apart). */
function treeOf(size: number, seed: number): MerkleTree {
  return MerkleTree.of(
    Array.from({ length: size }, (_, i) => leafHash(Buffer.from(`case-event ${seed}/${i}`))),
  );
}

const flip = (hash: Uint8Array, byte: number, bit: number): Buffer => {
  const copy = Buffer.from(hash);
  copy[byte % copy.length]! ^= 1 << (bit % 8);
  return copy;
};

/** Sizes or indexes that are never valid. */
const badNumbers = fc.constantFrom(
  -1,
  -0.5,
  0.5,
  1.5,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  2 ** 53,
  -(2 ** 53),
);

let fuzzed = 0;
let accepted = 0;
function refused(verdict: ProofVerdict): boolean {
  fuzzed++;
  if (verdict.valid) accepted++;
  return !verdict.valid && verdict.reason.length > 0;
}

afterAll(() => {
  process.stdout.write(`fuzzed proofs: ${fuzzed - accepted} rejected, ${accepted} accepted\n`);
});

describe('inclusion proofs', () => {
  const treeAndLeaf = fc
    .record({ size: fc.integer({ min: 1, max: 300 }), seed: fc.nat() })
    .chain(({ size, seed }) =>
      fc.record({ size: fc.constant(size), seed: fc.constant(seed), index: fc.nat(size - 1) }),
    );

  it('every leaf of every random tree has a proof that verifies', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 70 }), fc.nat(), (size, seed) => {
        const tree = treeOf(size, seed);
        const root = tree.root();
        for (let index = 0; index < size; index++) {
          const verdict = verifyInclusion({
            leafIndex: index,
            treeSize: size,
            leafHash: tree.node(0, index),
            proof: tree.inclusionProof(index),
            rootHash: root,
          });
          if (!verdict.valid) return false;
        }
        return true;
      }),
      { numRuns: 60 },
    );
  });

  type Mutation =
    | { kind: 'flip-proof'; at: number; byte: number; bit: number }
    | { kind: 'drop'; at: number }
    | { kind: 'extra'; at: number; byte: number }
    | { kind: 'swap'; a: number; b: number }
    | { kind: 'flip-root'; byte: number; bit: number }
    | { kind: 'flip-leaf'; byte: number; bit: number }
    | { kind: 'index'; index: number }
    | { kind: 'size'; size: number }
    | { kind: 'bad-index'; value: number }
    | { kind: 'bad-size'; value: number };

  const mutation: fc.Arbitrary<Mutation> = fc.oneof(
    fc.record({ kind: fc.constant('flip-proof' as const), at: fc.nat(), byte: fc.nat(31), bit: fc.nat(7) }),
    fc.record({ kind: fc.constant('drop' as const), at: fc.nat() }),
    fc.record({ kind: fc.constant('extra' as const), at: fc.nat(), byte: fc.nat(255) }),
    fc.record({ kind: fc.constant('swap' as const), a: fc.nat(), b: fc.nat() }),
    fc.record({ kind: fc.constant('flip-root' as const), byte: fc.nat(31), bit: fc.nat(7) }),
    fc.record({ kind: fc.constant('flip-leaf' as const), byte: fc.nat(31), bit: fc.nat(7) }),
    fc.record({ kind: fc.constant('index' as const), index: fc.nat(400) }),
    fc.record({ kind: fc.constant('size' as const), size: fc.nat(400) }),
    fc.record({ kind: fc.constant('bad-index' as const), value: badNumbers }),
    fc.record({ kind: fc.constant('bad-size' as const), value: badNumbers }),
  );

  it('refuses any change to the proof, the root, the leaf, the index or the size', () => {
    fc.assert(
      fc.property(treeAndLeaf, mutation, ({ size, seed, index }, m) => {
        // A larger tree, so that a changed size has a genuine root of its own: a size means
        // something only together with its root (a checkpoint signs both).
        const big = treeOf(400, seed);
        const claim = {
          leafIndex: index,
          treeSize: size,
          leafHash: big.node(0, index),
          proof: big.inclusionProof(index, size),
          rootHash: big.root(size),
        };
        const proof = [...claim.proof];
        switch (m.kind) {
          case 'flip-proof':
            if (proof.length === 0) return true;
            proof[m.at % proof.length] = flip(proof[m.at % proof.length]!, m.byte, m.bit);
            return refused(verifyInclusion({ ...claim, proof }));
          case 'drop':
            if (proof.length === 0) return true;
            proof.splice(m.at % proof.length, 1);
            return refused(verifyInclusion({ ...claim, proof }));
          case 'extra':
            proof.splice(m.at % (proof.length + 1), 0, Buffer.alloc(32, m.byte));
            return refused(verifyInclusion({ ...claim, proof }));
          case 'swap': {
            const a = m.a % Math.max(1, proof.length);
            const b = m.b % Math.max(1, proof.length);
            if (a === b || proof[a]!.equals(proof[b]!)) return true;
            [proof[a], proof[b]] = [proof[b]!, proof[a]!];
            return refused(verifyInclusion({ ...claim, proof }));
          }
          case 'flip-root':
            return refused(verifyInclusion({ ...claim, rootHash: flip(claim.rootHash, m.byte, m.bit) }));
          case 'flip-leaf':
            return refused(verifyInclusion({ ...claim, leafHash: flip(claim.leafHash, m.byte, m.bit) }));
          case 'index':
            if (m.index === index) return true;
            return refused(verifyInclusion({ ...claim, leafIndex: m.index }));
          case 'size':
            if (m.size === size) return true;
            return refused(verifyInclusion({ ...claim, treeSize: m.size, rootHash: big.root(m.size) }));
          case 'bad-index':
            return refused(verifyInclusion({ ...claim, leafIndex: m.value }));
          case 'bad-size':
            return refused(verifyInclusion({ ...claim, treeSize: m.value }));
        }
      }),
      { numRuns: 1000 },
    );
  });
});

describe('consistency proofs', () => {
  const sizes = fc
    .record({ second: fc.integer({ min: 1, max: 300 }), seed: fc.nat() })
    .chain(({ second, seed }) =>
      fc.record({
        second: fc.constant(second),
        seed: fc.constant(seed),
        first: fc.integer({ min: 1, max: second }),
      }),
    );

  it('every proof between random sizes verifies', () => {
    fc.assert(
      fc.property(sizes, ({ first, second, seed }) => {
        const tree = treeOf(second, seed);
        return verifyConsistency({
          firstSize: first,
          secondSize: second,
          firstRoot: tree.root(first),
          secondRoot: tree.root(second),
          proof: tree.consistencyProof(first, second),
        }).valid;
      }),
      { numRuns: 500 },
    );
  });

  type Mutation =
    | { kind: 'flip-proof'; at: number; byte: number; bit: number }
    | { kind: 'drop'; at: number }
    | { kind: 'extra'; at: number; byte: number }
    | { kind: 'flip-first'; byte: number; bit: number }
    | { kind: 'flip-second'; byte: number; bit: number }
    | { kind: 'first'; size: number }
    | { kind: 'second'; size: number }
    | { kind: 'other-history'; seed: number }
    | { kind: 'bad-first'; value: number }
    | { kind: 'bad-second'; value: number };

  const mutation: fc.Arbitrary<Mutation> = fc.oneof(
    fc.record({ kind: fc.constant('flip-proof' as const), at: fc.nat(), byte: fc.nat(31), bit: fc.nat(7) }),
    fc.record({ kind: fc.constant('drop' as const), at: fc.nat() }),
    fc.record({ kind: fc.constant('extra' as const), at: fc.nat(), byte: fc.nat(255) }),
    fc.record({ kind: fc.constant('flip-first' as const), byte: fc.nat(31), bit: fc.nat(7) }),
    fc.record({ kind: fc.constant('flip-second' as const), byte: fc.nat(31), bit: fc.nat(7) }),
    fc.record({ kind: fc.constant('first' as const), size: fc.nat(400) }),
    fc.record({ kind: fc.constant('second' as const), size: fc.nat(400) }),
    fc.record({ kind: fc.constant('other-history' as const), seed: fc.nat() }),
    fc.record({ kind: fc.constant('bad-first' as const), value: badNumbers }),
    fc.record({ kind: fc.constant('bad-second' as const), value: badNumbers }),
  );

  it('refuses any change to the proof, either root or either size, and a forked history', () => {
    fc.assert(
      fc.property(sizes, mutation, ({ first, second, seed }, m) => {
        const big = treeOf(400, seed);
        const claim = {
          firstSize: first,
          secondSize: second,
          firstRoot: big.root(first),
          secondRoot: big.root(second),
          proof: big.consistencyProof(first, second),
        };
        const proof = [...claim.proof];
        switch (m.kind) {
          case 'flip-proof':
            if (proof.length === 0) return true;
            proof[m.at % proof.length] = flip(proof[m.at % proof.length]!, m.byte, m.bit);
            return refused(verifyConsistency({ ...claim, proof }));
          case 'drop':
            if (proof.length === 0) return true;
            proof.splice(m.at % proof.length, 1);
            return refused(verifyConsistency({ ...claim, proof }));
          case 'extra':
            proof.splice(m.at % (proof.length + 1), 0, Buffer.alloc(32, m.byte));
            return refused(verifyConsistency({ ...claim, proof }));
          case 'flip-first':
            return refused(verifyConsistency({ ...claim, firstRoot: flip(claim.firstRoot, m.byte, m.bit) }));
          case 'flip-second':
            return refused(
              verifyConsistency({ ...claim, secondRoot: flip(claim.secondRoot, m.byte, m.bit) }),
            );
          case 'first':
            // The empty tree is a prefix of every tree: with first = second (an empty proof) a
            // first size of 0 is still a true claim, not a forgery.
            if (m.size === first || m.size === 0) return true;
            return refused(verifyConsistency({ ...claim, firstSize: m.size, firstRoot: big.root(m.size) }));
          case 'second':
            if (m.size === second) return true;
            return refused(verifyConsistency({ ...claim, secondSize: m.size, secondRoot: big.root(m.size) }));
          case 'other-history': {
            // The same sizes in a log whose history differs: a fork is never consistent.
            if (first === second || m.seed === seed) return true;
            const other = treeOf(400, m.seed);
            return refused(verifyConsistency({ ...claim, secondRoot: other.root(second) }));
          }
          case 'bad-first':
            return refused(verifyConsistency({ ...claim, firstSize: m.value }));
          case 'bad-second':
            return refused(verifyConsistency({ ...claim, secondSize: m.value }));
        }
      }),
      { numRuns: 1000 },
    );
  });
});

describe('malformed proofs', () => {
  const tree = treeOf(37, 7);
  const inclusion = {
    leafIndex: 12,
    treeSize: 37,
    leafHash: tree.node(0, 12),
    proof: tree.inclusionProof(12),
    rootHash: tree.root(),
  };
  const consistency = {
    firstSize: 9,
    secondSize: 37,
    firstRoot: tree.root(9),
    secondRoot: tree.root(),
    proof: tree.consistencyProof(9),
  };

  /** Anything at all where a hash belongs, but a 32-byte one. */
  const notAHash = fc.oneof(
    fc.uint8Array({ maxLength: 64 }).filter((b) => b.length !== 32),
    fc.string(),
    fc.constant(null),
    fc.constant(undefined),
    fc.integer(),
    fc.array(fc.nat(255), { minLength: 32, maxLength: 32 }),
  );
  /** Anything at all where a proof belongs, but an array of 32-byte hashes. */
  const notAProof = fc.oneof(
    fc.array(notAHash, { minLength: 1, maxLength: 8 }),
    fc.constant(Array.from({ length: 200 }, () => Buffer.alloc(32))),
    fc.string(),
    fc.constant(null),
    fc.object(),
  );
  const notASize = fc.oneof(badNumbers, fc.string(), fc.constant(null), fc.constant(undefined), fc.bigInt());

  it('refuses them with a reason and never throws', () => {
    const field = fc.constantFrom('proof', 'leafHash', 'rootHash', 'leafIndex', 'treeSize');
    fc.assert(
      fc.property(field, notAHash, notAProof, notASize, (name, hash, proof, size) => {
        const value = name === 'proof' ? proof : name === 'leafIndex' || name === 'treeSize' ? size : hash;
        const claim = { ...inclusion, [name]: value } as unknown as Parameters<typeof verifyInclusion>[0];
        return refused(verifyInclusion(claim));
      }),
      { numRuns: 500 },
    );
    const consistencyField = fc.constantFrom('proof', 'firstRoot', 'secondRoot', 'firstSize', 'secondSize');
    fc.assert(
      fc.property(consistencyField, notAHash, notAProof, notASize, (name, hash, proof, size) => {
        const value = name === 'proof' ? proof : name.endsWith('Size') ? size : hash;
        const claim = { ...consistency, [name]: value } as unknown as Parameters<typeof verifyConsistency>[0];
        return refused(verifyConsistency(claim));
      }),
      { numRuns: 500 },
    );
  });

  it('says what is wrong', () => {
    expect(verifyInclusion({ ...inclusion, proof: [Buffer.alloc(31)] })).toEqual({
      valid: false,
      reason: 'proof[0] must be 32 bytes, not 31',
    });
    expect(verifyInclusion({ ...inclusion, treeSize: -3 })).toEqual({
      valid: false,
      reason: 'treeSize must be a whole number from 0 (got -3)',
    });
    expect(verifyInclusion({ ...inclusion, leafIndex: 37 })).toEqual({
      valid: false,
      reason: 'leaf 37 is not in a tree of 37 leaves',
    });
    expect(verifyConsistency({ ...consistency, firstSize: 38 })).toEqual({
      valid: false,
      reason: 'firstSize 38 is larger than secondSize 37',
    });
    expect(verifyConsistency({ ...consistency, proof: [] })).toEqual({
      valid: false,
      reason: 'the proof is empty',
    });
  });
});
