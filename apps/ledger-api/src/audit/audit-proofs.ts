import {
  hashToHex,
  type IntegrityWatch,
  MerkleRangeError,
  type AuditKeys,
  type CosignatureStore,
  type MerkleLog,
  type SignedCheckpoint,
} from '@nrm/audit';
import { ProblemException } from '../http/problem';
import type { CheckpointPageDto, ConsistencyProofDto, InclusionProofDto, PublicKeyDto } from './audit.dto';

const DEFAULT_LIMIT = 20;

function invalid(field: string, detail: string): ProblemException {
  return new ProblemException({
    status: 400,
    title: 'Invalid request',
    code: 'REQUEST.INVALID',
    field,
    detail,
    errors: [{ field, message: detail }],
  });
}

function beyond(field: string, detail: string): ProblemException {
  return new ProblemException({
    status: 422,
    title: 'Beyond the signed log',
    code: 'AUDIT.BEYOND_CHECKPOINT',
    field,
    detail,
  });
}

/**
 * What the audit routes ask of the log, wherever it runs: `AuditProofs` on the API's event loop
 * (AUDIT_LOG_THREAD=off), or the audit log's thread through `AuditLogThread` (the default), which
 * runs the same `AuditProofs` there and hands back its answers and problems unchanged.
 */
export interface AuditAnswers {
  publicKey(): PublicKeyDto | Promise<PublicKeyDto>;
  latestCheckpoint(): SignedCheckpoint | Promise<SignedCheckpoint>;
  submitCosignatures(
    note: string,
  ):
    | { treeSize: number; cosignedBy: readonly string[] }
    | Promise<{ treeSize: number; cosignedBy: readonly string[] }>;
  checkpoints(query: { cursor?: number; limit?: number }): CheckpointPageDto | Promise<CheckpointPageDto>;
  inclusion(position: number, treeSize?: number): Promise<InclusionProofDto>;
  consistency(from: number, to?: number): ConsistencyProofDto | Promise<ConsistencyProofDto>;
}

/**
 * What the API serves of the verifiable log: its public key, its signed
 * checkpoints, and proofs against any tree up to the latest checkpoint (a proof
 * against a tree nobody signed would prove nothing). Requests outside that
 * range are 4xx problems naming the field.
 */
export class AuditProofs implements AuditAnswers {
  constructor(
    private readonly log: MerkleLog,
    private readonly keys: AuditKeys,
    /** The witnesses' cosignatures; without it, checkpoints are served as the log signed them. */
    private readonly cosignatures?: CosignatureStore,
    /** Checks a position against the store before its proof is served. */
    private readonly watch?: IntegrityWatch,
    /** Where a cosigned note this replica took goes for the other replicas (AUDIT_LOG_STORE=postgres). */
    private readonly share?: (treeSize: number, note: string) => void,
  ) {}

  publicKey(): PublicKeyDto {
    return {
      algorithm: 'Ed25519',
      origin: this.keys.origin,
      keyId: this.keys.keyId,
      verifierKey: this.keys.verifierKey(),
      fingerprint: this.keys.fingerprint,
      publicKeyPem: this.keys.publicKeyPem(),
      publicKeyJwk: { ...this.keys.publicKeyJwk() },
      witnesses: this.cosignatures?.witnessNames ?? [],
    };
  }

  /** The latest checkpoint, with every cosignature the witnesses sent for it. */
  latestCheckpoint(): SignedCheckpoint {
    const latest = this.signedLatest();
    return this.cosignatures ? this.cosignatures.withCosignatures(latest) : latest;
  }

  /** Takes a witness's cosigned checkpoint note: 201 with the witnesses that verified, or a 4xx naming why. */
  submitCosignatures(note: string): { treeSize: number; cosignedBy: readonly string[] } {
    if (!this.cosignatures || this.cosignatures.witnessNames.length === 0)
      throw new ProblemException({
        status: 422,
        title: 'No witness configured',
        code: 'AUDIT.UNKNOWN_WITNESS',
        field: 'note',
        detail: 'This ledger trusts no witness (AUDIT_WITNESS_KEYS is empty).',
      });
    const result = this.cosignatures.submit(note, (size) => this.log.checkpointAt(size));
    if (result.ok) {
      this.share?.(result.treeSize, note);
      return { treeSize: result.treeSize, cosignedBy: result.cosignedBy };
    }
    throw new ProblemException({
      status: result.code === 'AUDIT.MALFORMED_CHECKPOINT' ? 400 : 422,
      title: 'Cosignature not taken',
      code: result.code === 'AUDIT.MALFORMED_CHECKPOINT' ? 'REQUEST.INVALID' : result.code,
      field: 'note',
      detail: result.detail,
      ...(result.code === 'AUDIT.MALFORMED_CHECKPOINT'
        ? { errors: [{ field: 'note', message: result.detail }] }
        : {}),
    });
  }

  private signedLatest(): SignedCheckpoint {
    const latest = this.log.latestCheckpoint();
    if (!latest)
      throw new ProblemException({
        status: 404,
        title: 'No checkpoint yet',
        code: 'AUDIT.NO_CHECKPOINT',
        detail: 'The log has signed no checkpoint yet; one follows the first events.',
      });
    return latest;
  }

  checkpoints(query: { cursor?: number; limit?: number }): CheckpointPageDto {
    const limit = query.limit ?? DEFAULT_LIMIT;
    const page = this.log.checkpoints({ after: query.cursor ?? 0, limit: limit + 1 });
    // Each with the cosignatures the witnesses sent for it, as the latest is served.
    const entries = page
      .slice(0, limit)
      .map((entry) => (this.cosignatures ? this.cosignatures.withCosignatures(entry) : entry));
    const last = entries[entries.length - 1];
    return { entries, ...(page.length > limit && last ? { next: { cursor: last.treeSize } } : {}) };
  }

  /**
   * The proof for `position`, once the event the store holds there is checked
   * against the leaf the log recorded: a proof is never served for a leaf the
   * store no longer backs (503, and the finding stops appends).
   */
  async inclusion(position: number, treeSize?: number): Promise<InclusionProofDto> {
    const answer = this.inclusionFromLog(position, treeSize);
    const finding = await this.watch?.checkPosition(position);
    if (finding)
      throw new ProblemException({
        status: 503,
        title: 'The event store diverged from the audit log',
        code: 'AUDIT.INTEGRITY_HALT',
        detail: `Integrity finding ${finding.id}: ${finding.kind} at position ${finding.position}, detected ${finding.detectedAt}. Proofs are withheld until the event store is restored.`,
      });
    return answer;
  }

  private inclusionFromLog(position: number, treeSize?: number): InclusionProofDto {
    const latest = this.signedLatest();
    const size = treeSize ?? latest.treeSize;
    if (size > latest.treeSize)
      throw beyond(
        'treeSize',
        `treeSize ${size} is beyond the latest signed checkpoint, of ${latest.treeSize} events`,
      );
    if (position > size) throw beyond('position', `position ${position} is beyond a tree of ${size} events`);
    const proof = this.answer(() => this.log.inclusionProof(position, size));
    const checkpoint = this.log.checkpointAt(size);
    return {
      position,
      leafIndex: proof.leafIndex,
      treeSize: size,
      leafHash: hashToHex(proof.leafHash),
      rootHash: hashToHex(proof.rootHash),
      proof: proof.proof.map(hashToHex),
      ...(checkpoint ? { checkpoint } : {}),
    };
  }

  consistency(from: number, to?: number): ConsistencyProofDto {
    const latest = this.signedLatest();
    const second = to ?? latest.treeSize;
    if (from > second) throw invalid('from', `from (${from}) must not be larger than to (${second})`);
    if (second > latest.treeSize)
      throw beyond(
        to === undefined ? 'from' : 'to',
        `${second} is beyond the latest signed checkpoint, of ${latest.treeSize} events`,
      );
    const proof = this.answer(() => this.log.consistencyProof(from, second));
    const fromCheckpoint = this.log.checkpointAt(from);
    const toCheckpoint = this.log.checkpointAt(second);
    return {
      fromSize: from,
      toSize: second,
      fromRoot: hashToHex(proof.firstRoot),
      toRoot: hashToHex(proof.secondRoot),
      proof: proof.proof.map(hashToHex),
      ...(fromCheckpoint ? { fromCheckpoint } : {}),
      ...(toCheckpoint ? { toCheckpoint } : {}),
    };
  }

  /** The log's own range errors, for sizes it no longer or not yet holds, as 4xx naming the field. */
  private answer<T>(compute: () => T): T {
    try {
      return compute();
    } catch (error) {
      if (error instanceof MerkleRangeError) {
        const field =
          { firstSize: 'from', secondSize: 'to', leafIndex: 'position' }[error.field] ?? error.field;
        throw beyond(field, error.message);
      }
      throw error;
    }
  }
}
