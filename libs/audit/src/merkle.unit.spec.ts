import { createHash } from 'node:crypto';
import {
  consistencyPath,
  EMPTY_ROOT,
  inclusionPath,
  leafHash,
  MerkleRangeError,
  nodeHash,
  verifyConsistency,
  verifyInclusion,
} from './merkle';
import { MerkleTree } from './merkle-tree';

/** The RFC 6962 test leaves d0..d7 of the certificate-transparency reference tests. */
const LEAVES = [
  '',
  '00',
  '10',
  '2021',
  '3031',
  '40414243',
  '5051525354555657',
  '606162636465666768696a6b6c6d6e6f',
].map((hex) => Buffer.from(hex, 'hex'));

/** Their published roots, for the first 0..8 leaves. */
const ROOTS = [
  'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
];

const hex = (hashes: readonly Buffer[]) => hashes.map((h) => h.toString('hex'));

// ---- an independent reference: the RFC's recursive definitions, over slices of leaf data ----

const sha256 = (...parts: Buffer[]) => createHash('sha256').update(Buffer.concat(parts)).digest();

function k(n: number): number {
  let p = 1;
  while (p * 2 < n) p *= 2;
  return p;
}

function mth(d: readonly Buffer[]): Buffer {
  if (d.length === 0) return sha256();
  if (d.length === 1) return sha256(Buffer.from([0]), d[0]!);
  const split = k(d.length);
  return sha256(Buffer.from([1]), mth(d.slice(0, split)), mth(d.slice(split)));
}

function path(m: number, d: readonly Buffer[]): Buffer[] {
  if (d.length === 1) return [];
  const split = k(d.length);
  return m < split
    ? [...path(m, d.slice(0, split)), mth(d.slice(split))]
    : [...path(m - split, d.slice(split)), mth(d.slice(0, split))];
}

function subproof(m: number, d: readonly Buffer[], b: boolean): Buffer[] {
  if (m === d.length) return b ? [] : [mth(d)];
  const split = k(d.length);
  return m <= split
    ? [...subproof(m, d.slice(0, split), b), mth(d.slice(split))]
    : [...subproof(m - split, d.slice(split), false), mth(d.slice(0, split))];
}

const proof = (m: number, d: readonly Buffer[]) => subproof(m, d, true);

function data(n: number): Buffer[] {
  return Array.from({ length: n }, (_, i) => Buffer.from(`invented leaf ${i} ${'x'.repeat(i % 7)}`));
}

describe('RFC 6962 hashes', () => {
  it('hashes the empty tree, leaves and nodes with their prefixes', () => {
    expect(EMPTY_ROOT.toString('hex')).toBe(ROOTS[0]);
    expect(leafHash(LEAVES[1]!).toString('hex')).toBe(
      createHash('sha256')
        .update(Buffer.from([0, 0]))
        .digest('hex'),
    );
    const a = leafHash(LEAVES[0]!);
    const b = leafHash(LEAVES[1]!);
    expect(nodeHash(a, b)).toEqual(sha256(Buffer.from([1]), a, b));
  });

  it('gives the published roots for the first 0 to 8 test leaves', () => {
    for (let size = 0; size <= 8; size++) {
      const tree = MerkleTree.of(LEAVES.slice(0, size).map(leafHash));
      expect(tree.root().toString('hex')).toBe(ROOTS[size]);
    }
  });

  it('gives the published inclusion proofs', () => {
    const tree = MerkleTree.of(LEAVES.map(leafHash));
    expect(hex(tree.inclusionProof(0))).toEqual([
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ]);
    expect(hex(tree.inclusionProof(5))).toEqual([
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ]);
  });

  it('gives the published consistency proofs', () => {
    const tree = MerkleTree.of(LEAVES.map(leafHash));
    expect(hex(tree.consistencyProof(1, 8))).toEqual([
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ]);
    expect(hex(tree.consistencyProof(6, 8))).toEqual([
      '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ]);
    expect(hex(tree.consistencyProof(2, 5))).toEqual([
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    ]);
  });
});

describe('against the RFC recursion computed directly', () => {
  const N = 40;
  const d = data(N);
  const tree = MerkleTree.of(d.map(leafHash));

  it('agrees on every root from 0 to 40 leaves', () => {
    for (let n = 0; n <= N; n++) expect(tree.root(n)).toEqual(mth(d.slice(0, n)));
  });

  it('agrees on every inclusion proof, and each verifies', () => {
    for (let n = 1; n <= N; n++)
      for (let m = 0; m < n; m++) {
        const generated = tree.inclusionProof(m, n);
        expect(generated).toEqual(path(m, d.slice(0, n)));
        const verdict = verifyInclusion({
          leafIndex: m,
          treeSize: n,
          leafHash: leafHash(d[m]!),
          proof: generated,
          rootHash: mth(d.slice(0, n)),
        });
        expect(verdict).toEqual({ valid: true });
      }
  });

  it('agrees on every consistency proof, and each verifies', () => {
    for (let n = 1; n <= N; n++)
      for (let m = 1; m < n; m++) {
        const generated = tree.consistencyProof(m, n);
        expect(generated).toEqual(proof(m, d.slice(0, n)));
        const verdict = verifyConsistency({
          firstSize: m,
          secondSize: n,
          firstRoot: mth(d.slice(0, m)),
          secondRoot: mth(d.slice(0, n)),
          proof: generated,
        });
        expect(verdict).toEqual({ valid: true });
      }
  });

  it('continues a tree known only by the frontier of its prefix', () => {
    for (const p of [0, 1, 2, 3, 5, 8, 13, 21, 32, 33]) {
      const partial = new MerkleTree({ size: p, frontier: tree.frontier(p) });
      for (const leaf of d.slice(p)) partial.append(leafHash(leaf));
      for (let n = p; n <= N; n++) expect(partial.root(n)).toEqual(tree.root(n));
      // What lies inside the prefix it cannot know.
      if (p > 0) expect(() => partial.root(p - 1)).toThrow(MerkleRangeError);
    }
  });
});

describe('edges of the definitions', () => {
  const tree = MerkleTree.of(data(5).map(leafHash));

  it('needs no proof between a tree and itself, and none from the empty tree', () => {
    expect(consistencyPath(tree, 5, 5)).toEqual([]);
    expect(consistencyPath(tree, 0, 5)).toEqual([]);
    const root = tree.root(5);
    expect(
      verifyConsistency({ firstSize: 5, secondSize: 5, firstRoot: root, secondRoot: root, proof: [] }),
    ).toEqual({
      valid: true,
    });
    expect(
      verifyConsistency({ firstSize: 0, secondSize: 5, firstRoot: EMPTY_ROOT, secondRoot: root, proof: [] }),
    ).toEqual({ valid: true });
    // …but the roots must still be what those sizes say.
    expect(
      verifyConsistency({ firstSize: 5, secondSize: 5, firstRoot: root, secondRoot: tree.root(4), proof: [] })
        .valid,
    ).toBe(false);
    expect(
      verifyConsistency({ firstSize: 0, secondSize: 5, firstRoot: root, secondRoot: root, proof: [] }).valid,
    ).toBe(false);
    expect(
      verifyConsistency({ firstSize: 5, secondSize: 5, firstRoot: root, secondRoot: root, proof: [root] })
        .valid,
    ).toBe(false);
  });

  it('names the field when a proof is asked for outside the tree', () => {
    const field = (f: () => unknown) => {
      try {
        f();
      } catch (error) {
        return error instanceof MerkleRangeError ? error.field : 'not a MerkleRangeError';
      }
      return 'no error';
    };
    expect(field(() => inclusionPath(tree, 5, 5))).toBe('leafIndex');
    expect(field(() => inclusionPath(tree, -1, 5))).toBe('leafIndex');
    expect(field(() => inclusionPath(tree, 0, 1.5))).toBe('treeSize');
    expect(field(() => consistencyPath(tree, 4, 3))).toBe('firstSize');
    expect(field(() => consistencyPath(tree, 1, Number.NaN))).toBe('secondSize');
    expect(field(() => tree.inclusionProof(0, 6))).toBe('treeSize');
    expect(field(() => tree.root(6))).toBe('treeSize');
  });
});
