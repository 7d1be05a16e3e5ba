import { Body, Controller, HttpCode, Inject, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiHeader, ApiOperation, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, Length, Matches } from 'class-validator';
import { ERASURE_GROUNDS, ErasureCommands, type ErasureGround } from '@nrm/privacy';
import type { CommandContext, CommandOptions } from '@nrm/runtime/commands';
import { REFERENCE_CODE_DESCRIPTION, REFERENCE_CODE_SHAPE } from '@nrm/shared-kernel';
import { CommandCtx, Idempotent } from '../commands/request-context';
import { IdPipe } from '../http/ids';
import { ProblemException } from '../http/problem';

export const ERASURE_COMMANDS = Symbol('ERASURE_COMMANDS');

/**
 * Why a subject is erased. The record outlives the erasure in clear (events, exports, backups),
 * so it holds no prose: a legal ground from a closed list and a reference code. `ground` is
 * required unless the deprecated `reason` is sent (kept for clients of API 0.1.0): a `reason` is
 * then accepted only when it is itself a reference code, and recorded as the reference.
 */
export class EraseSubjectDto {
  @ApiPropertyOptional({
    enum: ERASURE_GROUNDS,
    example: 'subject-request',
    description:
      'The legal ground (required unless the deprecated reason is sent): GDPR Art. 17(1) (a) no-longer-necessary, ' +
      '(b) consent-withdrawn, (c) objection, (d) unlawful-processing, (e) legal-obligation; subject-request ' +
      '(the person asked, no more precise ground); court-order; supervisory-authority-order (the data ' +
      'protection authority, Art. 58(2)(g)). Recorded in clear in the SubjectErased event.',
  })
  @IsOptional()
  @IsIn(ERASURE_GROUNDS, { message: `ground must be one of ${ERASURE_GROUNDS.join(', ')}` })
  ground?: ErasureGround;

  @ApiPropertyOptional({
    example: 'NGO-2026-311',
    description: `The file number of the request or order: ${REFERENCE_CODE_DESCRIPTION}; no spaces, so no prose and no personal data. Recorded in clear in the SubjectErased event.`,
  })
  @IsOptional()
  @Matches(REFERENCE_CODE_SHAPE, { message: `reference must be ${REFERENCE_CODE_DESCRIPTION}` })
  reference?: string;

  @ApiPropertyOptional({
    example: 'NGO-2026-311',
    minLength: 10,
    maxLength: 500,
    deprecated: true,
    description: `Deprecated: send ground and reference. Accepted only as ${REFERENCE_CODE_DESCRIPTION} (at least 10), recorded as the reference; prose (which could name the person, and would outlive the erasure) is refused.`,
  })
  @IsOptional()
  @IsString()
  @Length(10, 500)
  @Matches(REFERENCE_CODE_SHAPE, {
    message: `reason is deprecated and must be ${REFERENCE_CODE_DESCRIPTION}; send ground and reference instead`,
  })
  reason?: string;
}

@ApiTags('erasure')
@ApiBearerAuth()
@ApiHeader({
  name: 'Idempotency-Key',
  required: false,
  description: 'Makes a retry return the first result and record nothing new.',
})
@Controller('subjects/:subjectId')
export class ErasureController {
  constructor(@Inject(ERASURE_COMMANDS) private readonly commands: ErasureCommands) {}

  @Post('erasure')
  @HttpCode(200)
  @ApiOperation({
    summary:
      "Erase a subject's identity data (crypto-shredding): records SubjectErased (who, on which legal ground and reference, when), then destroys the subject's key. Events, proofs and checkpoints stay verifiable; identity data can no longer be opened anywhere. Oversight body (oversight) or national coordinator (coordinator) only.",
  })
  erase(
    @Param('subjectId', IdPipe) subjectId: string,
    @Body() body: EraseSubjectDto,
    @CommandCtx() context: CommandContext,
    @Idempotent() options: CommandOptions,
  ) {
    // Required unless the deprecated reason is sent: said here, as the document cannot say it without a break.
    if (body.ground === undefined && body.reason === undefined)
      throw new ProblemException({
        status: 400,
        title: 'Invalid request',
        code: 'REQUEST.INVALID',
        field: 'ground',
        detail: `ground must be one of ${ERASURE_GROUNDS.join(', ')}`,
        errors: [{ field: 'ground', message: `ground must be one of ${ERASURE_GROUNDS.join(', ')}` }],
      });
    return this.commands.erase(
      {
        subjectId,
        ...(body.ground !== undefined ? { ground: body.ground } : {}),
        ...(body.reference !== undefined ? { reference: body.reference } : {}),
        ...(body.reason !== undefined ? { reason: body.reason } : {}),
      },
      context,
      options,
    );
  }
}
