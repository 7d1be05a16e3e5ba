import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';

/** A whole number in a query string: digits only (no sign, exponent or decimals), else left for IsInt to refuse. */
const wholeNumber = () =>
  Transform(({ value }: { value: unknown }) =>
    typeof value === 'string' && /^\d{1,16}$/.test(value) ? Number(value) : value,
  );
const whole = (field: string, min: number) => ({ message: `${field} must be a whole number from ${min}` });

export class CheckpointPageQuery {
  @ApiPropertyOptional({
    minimum: 0,
    description: 'The `next.cursor` of the previous page: checkpoints of larger trees follow.',
  })
  @IsOptional()
  @wholeNumber()
  @IsInt(whole('cursor', 0))
  @Min(0, whole('cursor', 0))
  @Max(Number.MAX_SAFE_INTEGER, whole('cursor', 0))
  cursor?: number;

  @ApiPropertyOptional({ minimum: 1, maximum: 100, default: 20 })
  @IsOptional()
  @wholeNumber()
  @IsInt({ message: 'limit must be a whole number from 1 to 100' })
  @Min(1, { message: 'limit must be a whole number from 1 to 100' })
  @Max(100, { message: 'limit must be a whole number from 1 to 100' })
  limit?: number;
}

export class InclusionProofQuery {
  @ApiProperty({
    minimum: 1,
    description: 'The event’s position in the store; its leaf is number position − 1.',
  })
  @wholeNumber()
  @IsInt(whole('position', 1))
  @Min(1, whole('position', 1))
  @Max(Number.MAX_SAFE_INTEGER, whole('position', 1))
  position!: number;

  @ApiPropertyOptional({
    minimum: 1,
    description:
      'The size of the tree to prove against, at most the latest checkpoint’s; default: the latest checkpoint.',
  })
  @IsOptional()
  @wholeNumber()
  @IsInt(whole('treeSize', 1))
  @Min(1, whole('treeSize', 1))
  @Max(Number.MAX_SAFE_INTEGER, whole('treeSize', 1))
  treeSize?: number;
}

export class ConsistencyProofQuery {
  @ApiProperty({ minimum: 1, description: 'The size of the older tree (e.g. a checkpoint you hold).' })
  @wholeNumber()
  @IsInt(whole('from', 1))
  @Min(1, whole('from', 1))
  @Max(Number.MAX_SAFE_INTEGER, whole('from', 1))
  from!: number;

  @ApiPropertyOptional({
    minimum: 1,
    description:
      'The size of the newer tree, at most the latest checkpoint’s; default: the latest checkpoint.',
  })
  @IsOptional()
  @wholeNumber()
  @IsInt(whole('to', 1))
  @Min(1, whole('to', 1))
  @Max(Number.MAX_SAFE_INTEGER, whole('to', 1))
  to?: number;
}

const HEX = '64 lower-case hex digits';

export class SignedCheckpointDto {
  @ApiProperty({
    description:
      'The checkpoint itself: a C2SP tlog-checkpoint signed note (origin, tree size, base64 root hash, "time <UTC>"; blank line; "— <origin> <base64(key ID ‖ Ed25519 signature)>"), followed by any witnesses\' tlog-cosignature lines. The other fields are read from it.',
  })
  note!: string;

  @ApiProperty({
    example: 'ledger.example.org/audit',
    description: "The log's origin (first line of the note).",
  })
  origin!: string;

  @ApiProperty({ example: 1024, description: 'How many events the tree holds: positions 1 to treeSize.' })
  treeSize!: number;

  @ApiProperty({ description: `RFC 9162 Merkle tree hash of those events' leaves, ${HEX}.` })
  rootHash!: string;

  @ApiProperty({ example: '2026-11-30T12:00:00.000Z', description: 'When it was signed (UTC).' })
  time!: string;

  @ApiProperty({ description: "The note key ID of the log's key, 8 hex digits." })
  keyId!: string;

  @ApiProperty({ description: "The log's Ed25519 signature over the note text, base64." })
  signature!: string;
}

export class CosignatureSubmissionDto {
  @ApiProperty({
    description:
      'The checkpoint note as this log signed it, with one or more C2SP tlog-cosignature (cosignature/v1) lines by configured witnesses.',
  })
  @IsString({ message: 'note must be the text of a signed checkpoint note' })
  @MaxLength(65536, { message: 'note must be at most 65536 characters' })
  note!: string;
}

export class CosignatureAcceptedDto {
  @ApiProperty()
  treeSize!: number;

  @ApiProperty({ type: [String], description: 'The witnesses whose cosignatures verified and were kept.' })
  cosignedBy!: string[];
}

export class CheckpointCursorDto {
  @ApiProperty()
  cursor!: number;
}

export class CheckpointPageDto {
  @ApiProperty({ type: [SignedCheckpointDto], description: 'Smallest tree first.' })
  entries!: SignedCheckpointDto[];

  @ApiPropertyOptional({ type: CheckpointCursorDto, description: 'Absent on the last page.' })
  next?: CheckpointCursorDto;
}

export class PublicKeyDto {
  @ApiProperty({ example: 'Ed25519' })
  algorithm!: string;

  @ApiProperty({ description: "The log's origin: each checkpoint's first line and its key's name." })
  origin!: string;

  @ApiProperty({ description: 'The note key ID: SHA-256(origin ‖ 0x0A ‖ 0x01 ‖ key)[:4], 8 hex digits.' })
  keyId!: string;

  @ApiProperty({
    description:
      'C2SP verifier key <origin>+<key ID>+<base64(0x01 ‖ key)>: what a witness or verifier keeps.',
  })
  verifierKey!: string;

  @ApiProperty({ description: `SHA-256 of the key's SubjectPublicKeyInfo, ${HEX}.` })
  fingerprint!: string;

  @ApiProperty({
    type: [String],
    description: 'Names of the witnesses whose cosignatures this ledger takes.',
  })
  witnesses!: string[];

  @ApiProperty({ description: 'The public key as PEM (SubjectPublicKeyInfo).' })
  publicKeyPem!: string;

  @ApiProperty({
    description: 'The public key as a JWK (kty OKP, crv Ed25519).',
    type: 'object',
    additionalProperties: true,
  })
  publicKeyJwk!: Record<string, unknown>;
}

export class InclusionProofDto {
  @ApiProperty()
  position!: number;

  @ApiProperty({ description: 'position − 1: the leaf index of RFC 9162.' })
  leafIndex!: number;

  @ApiProperty()
  treeSize!: number;

  @ApiProperty({
    description: `The leaf the log holds: SHA-256(0x00 ‖ canonical JSON of the stored event), ${HEX}. Recompute it from the event you hold.`,
  })
  leafHash!: string;

  @ApiProperty({ description: `The root of the tree of treeSize events, ${HEX}.` })
  rootHash!: string;

  @ApiProperty({
    type: [String],
    description: 'The audit path (RFC 9162 §2.1.3), lowest sibling first, hex.',
  })
  proof!: string[];

  @ApiPropertyOptional({
    type: SignedCheckpointDto,
    description: 'The signed checkpoint of that size, when there is one.',
  })
  checkpoint?: SignedCheckpointDto;
}

export class ConsistencyProofDto {
  @ApiProperty()
  fromSize!: number;

  @ApiProperty()
  toSize!: number;

  @ApiProperty({ description: `Root of the older tree, ${HEX}.` })
  fromRoot!: string;

  @ApiProperty({ description: `Root of the newer tree, ${HEX}.` })
  toRoot!: string;

  @ApiProperty({ type: [String], description: 'The consistency proof (RFC 9162 §2.1.4), hex.' })
  proof!: string[];

  @ApiPropertyOptional({
    type: SignedCheckpointDto,
    description: 'The signed checkpoint of the older size, if any.',
  })
  fromCheckpoint?: SignedCheckpointDto;

  @ApiPropertyOptional({
    type: SignedCheckpointDto,
    description: 'The signed checkpoint of the newer size, if any.',
  })
  toCheckpoint?: SignedCheckpointDto;
}
