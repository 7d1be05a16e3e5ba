import { Body, Controller, HttpCode, Inject, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiHeader, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import { IsString, Length } from 'class-validator';
import { ErasureCommands } from '@nrm/privacy';
import type { CommandContext, CommandOptions } from '@nrm/runtime/commands';
import { CommandCtx, Idempotent } from '../commands/request-context';
import { IdPipe } from '../http/ids';

export const ERASURE_COMMANDS = Symbol('ERASURE_COMMANDS');

export class EraseSubjectDto {
  @ApiProperty({
    example: 'Request of the person, received by the assisting NGO on 2026-11-28 (ref. 2026-311).',
    minLength: 10,
    maxLength: 500,
    description: 'Why: recorded in the SubjectErased event (no personal data here).',
  })
  @IsString()
  @Length(10, 500)
  reason!: string;
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
      "Erase a subject's identity data (crypto-shredding): records SubjectErased (who, why, when), then destroys the subject's key. Events, proofs and checkpoints stay verifiable; identity data can no longer be opened anywhere. Oversight body (oversight) or national coordinator (coordinator) only.",
  })
  erase(
    @Param('subjectId', IdPipe) subjectId: string,
    @Body() body: EraseSubjectDto,
    @CommandCtx() context: CommandContext,
    @Idempotent() options: CommandOptions,
  ) {
    return this.commands.erase({ subjectId, reason: body.reason }, context, options);
  }
}
