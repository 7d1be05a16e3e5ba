import { Body, Controller, Get, HttpCode, Inject, Post, Query, UseGuards } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiForbiddenResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiUnprocessableEntityResponse,
} from '@nestjs/swagger';
import type { SignedCheckpoint } from '@nrm/audit';
import type { AuditAnswers } from './audit-proofs';
import {
  CheckpointPageDto,
  CheckpointPageQuery,
  ConsistencyProofDto,
  ConsistencyProofQuery,
  CosignatureAcceptedDto,
  CosignatureSubmissionDto,
  InclusionProofDto,
  InclusionProofQuery,
  PublicKeyDto,
  SignedCheckpointDto,
} from './audit.dto';
import { ProofsForOversight, ProofView } from './proofs-for-oversight.guard';

export const AUDIT_PROOFS = Symbol('AUDIT_PROOFS');

/**
 * The verifiable log: every stored event is a leaf of an RFC 9162 Merkle tree,
 * whose roots the ledger signs (Ed25519) as checkpoints. Any principal may read
 * the key and the checkpoints; proofs are for the oversight body.
 */
@ApiTags('audit log')
@ApiBearerAuth()
@Controller('audit')
export class AuditController {
  constructor(@Inject(AUDIT_PROOFS) private readonly proofs: AuditAnswers) {}

  @Get('public-key')
  @ApiOperation({ summary: 'The Ed25519 public key that signs checkpoints (PEM and JWK), with its key id.' })
  @ApiOkResponse({ type: PublicKeyDto })
  publicKey(): Promise<PublicKeyDto> {
    return Promise.resolve(this.proofs.publicKey());
  }

  @Get('checkpoints/latest')
  @ApiOperation({
    summary:
      'The latest checkpoint as a C2SP signed note (with the JSON fields read from it), carrying every witness cosignature collected for it.',
  })
  @ApiOkResponse({ type: SignedCheckpointDto })
  @ApiNotFoundResponse({ description: 'AUDIT.NO_CHECKPOINT: none signed yet.' })
  latest(): Promise<SignedCheckpoint> {
    return Promise.resolve(this.proofs.latestCheckpoint());
  }

  @Post('checkpoints/cosignatures')
  @HttpCode(201)
  @UseGuards(ProofsForOversight)
  @ProofView('audit-cosignature')
  @ApiOperation({
    summary:
      'A witness hands back a checkpoint with its C2SP tlog-cosignature (cosignature/v1, Ed25519); each is verified against AUDIT_WITNESS_KEYS before it is kept. Oversight body only; refusals audited.',
  })
  @ApiCreatedResponse({ type: CosignatureAcceptedDto })
  @ApiBadRequestResponse({ description: 'REQUEST.INVALID: not a checkpoint note (field note).' })
  @ApiForbiddenResponse({ description: 'OVERSIGHT.ONLY (audited as AccessDenied).' })
  @ApiUnprocessableEntityResponse({
    description:
      "AUDIT.UNKNOWN_CHECKPOINT (this log signed no such note), AUDIT.UNKNOWN_WITNESS (no cosignature by a configured witness), AUDIT.BAD_COSIGNATURE (a configured witness's cosignature fails, or is dated in the future).",
  })
  async cosign(@Body() body: CosignatureSubmissionDto): Promise<CosignatureAcceptedDto> {
    const accepted = await this.proofs.submitCosignatures(body.note);
    return { treeSize: accepted.treeSize, cosignedBy: [...accepted.cosignedBy] };
  }

  @Get('checkpoints')
  @ApiOperation({
    summary: 'Every signed checkpoint, smallest tree first, in pages (cursor: the last tree size).',
  })
  @ApiOkResponse({ type: CheckpointPageDto })
  checkpoints(@Query() query: CheckpointPageQuery): Promise<CheckpointPageDto> {
    return Promise.resolve(this.proofs.checkpoints(query));
  }

  @Get('proofs/inclusion')
  @UseGuards(ProofsForOversight)
  @ProofView('audit-inclusion-proof')
  @ApiOperation({
    summary:
      'Inclusion proof (RFC 9162 §2.1.3) of the event at a position in a tree up to the latest checkpoint. Oversight body only; refusals audited.',
  })
  @ApiOkResponse({ type: InclusionProofDto })
  @ApiForbiddenResponse({ description: 'OVERSIGHT.ONLY (audited as AccessDenied).' })
  @ApiUnprocessableEntityResponse({
    description: 'AUDIT.BEYOND_CHECKPOINT: position or treeSize beyond the signed log.',
  })
  inclusion(@Query() query: InclusionProofQuery): Promise<InclusionProofDto> {
    return this.proofs.inclusion(query.position, query.treeSize);
  }

  @Get('proofs/consistency')
  @UseGuards(ProofsForOversight)
  @ProofView('audit-consistency-proof')
  @ApiOperation({
    summary:
      'Consistency proof (RFC 9162 §2.1.4) that the tree of `from` events is a prefix of the tree of `to` events. Oversight body only; refusals audited.',
  })
  @ApiOkResponse({ type: ConsistencyProofDto })
  @ApiForbiddenResponse({ description: 'OVERSIGHT.ONLY (audited as AccessDenied).' })
  @ApiUnprocessableEntityResponse({ description: 'AUDIT.BEYOND_CHECKPOINT: a size beyond the signed log.' })
  consistency(@Query() query: ConsistencyProofQuery): Promise<ConsistencyProofDto> {
    return Promise.resolve(this.proofs.consistency(query.from, query.to));
  }
}
