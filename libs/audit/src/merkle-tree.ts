import { HASH_BYTES } from './encoding';
import {
  consistencyPath,
  frontierOf,
  inclusionPath,
  MerkleRangeError,
  nodeHash,
  rootFromFrontier,
  type PerfectSubtrees,
} from './merkle';

/** One level of the tree: the hashes of nodes `first`, `first + 1`, … packed in one buffer. */
class Level {
  private data: Buffer;
  count = 0;

  constructor(readonly first: number) {
    this.data = Buffer.allocUnsafe(HASH_BYTES * 16);
  }

  has(index: number): boolean {
    return index >= this.first && index < this.first + this.count;
  }

  get(index: number): Buffer {
    const offset = (index - this.first) * HASH_BYTES;
    return this.data.subarray(offset, offset + HASH_BYTES);
  }

  push(index: number, hash: Uint8Array): void {
    if (index !== this.first + this.count) throw new Error(`node ${index} appended out of order`);
    const needed = (this.count + 1) * HASH_BYTES;
    if (needed > this.data.length) {
      const grown = Buffer.allocUnsafe(this.data.length * 2);
      this.data.copy(grown, 0, 0, this.count * HASH_BYTES);
      this.data = grown;
    }
    this.data.set(hash, this.count * HASH_BYTES);
    this.count++;
  }
}

/**
 * An append-only Merkle tree held in memory, every perfect subtree kept (about
 * 64 bytes per leaf), so that roots and proofs for any size cost O(log n) hashes
 * each. It may start after a prefix it knows only by its frontier (the roots of
 * the perfect subtrees of the first `size` leaves): then it answers for sizes
 * from that prefix on, which is what verifying an export of a range needs.
 */
export class MerkleTree implements PerfectSubtrees {
  private readonly levels: Level[] = [];
  private leaves: number;
  /** The first size this tree can give a root for. */
  readonly prefixSize: number;

  constructor(prefix?: { readonly size: number; readonly frontier: readonly Uint8Array[] }) {
    const size = prefix?.size ?? 0;
    const frontier = prefix?.frontier ?? [];
    if (!Number.isSafeInteger(size) || size < 0)
      throw new MerkleRangeError('prefix.size', 'the prefix size must be a whole number from 0');
    const places = frontierOf(size);
    if (frontier.length !== places.length)
      throw new MerkleRangeError(
        'prefix.frontier',
        `a prefix of ${size} leaves has a frontier of ${places.length} hashes, not ${frontier.length}`,
      );
    this.prefixSize = size;
    this.leaves = size;
    places.forEach(({ level, index }, i) => {
      const hash = frontier[i]!;
      if (hash.length !== HASH_BYTES)
        throw new MerkleRangeError(`prefix.frontier[${i}]`, `a hash has ${HASH_BYTES} bytes`);
      this.level(level).push(index, hash);
    });
  }

  static of(leafHashes: Iterable<Uint8Array>): MerkleTree {
    const tree = new MerkleTree();
    for (const hash of leafHashes) tree.append(hash);
    return tree;
  }

  get size(): number {
    return this.leaves;
  }

  /**
   * Level `level`, created to start where the prefix leaves off: at the first
   * node completed after it, or at the prefix's frontier node on that level
   * (there is one when the level's bit is set in the prefix size).
   */
  private level(level: number): Level {
    while (this.levels.length <= level) {
      const after = Math.floor(this.prefixSize / 2 ** this.levels.length);
      this.levels.push(new Level(after - (after % 2)));
    }
    return this.levels[level]!;
  }

  append(leaf: Uint8Array): void {
    if (leaf.length !== HASH_BYTES)
      throw new MerkleRangeError('leafHash', `a leaf hash has ${HASH_BYTES} bytes`);
    let index = this.leaves;
    let level = 0;
    let hash: Uint8Array = leaf;
    this.level(0).push(index, hash);
    while (index % 2 === 1) {
      hash = nodeHash(this.node(level, index - 1), hash);
      level++;
      index = (index - 1) / 2;
      this.level(level).push(index, hash);
    }
    this.leaves++;
  }

  node(level: number, index: number): Buffer {
    const l = this.levels[level];
    if (!l?.has(index))
      throw new MerkleRangeError('treeSize', `node ${index} at level ${level} is not held by this tree`);
    return l.get(index);
  }

  frontier(size = this.leaves): Buffer[] {
    this.checkSize(size);
    return frontierOf(size).map(({ level, index }) => Buffer.from(this.node(level, index)));
  }

  root(size = this.leaves): Buffer {
    this.checkSize(size);
    return rootFromFrontier(frontierOf(size).map(({ level, index }) => this.node(level, index)));
  }

  inclusionProof(leafIndex: number, treeSize = this.leaves): Buffer[] {
    this.checkSize(treeSize);
    return inclusionPath(this, leafIndex, treeSize);
  }

  consistencyProof(firstSize: number, secondSize = this.leaves): Buffer[] {
    this.checkSize(secondSize);
    return consistencyPath(this, firstSize, secondSize);
  }

  private checkSize(size: number): void {
    if (!Number.isSafeInteger(size) || size < this.prefixSize || size > this.leaves)
      throw new MerkleRangeError(
        'treeSize',
        `this tree answers for sizes ${this.prefixSize} to ${this.leaves}, not ${String(size)}`,
      );
  }
}
