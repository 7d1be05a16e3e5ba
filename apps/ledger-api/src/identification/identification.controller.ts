import { Body, Controller, HttpCode, Inject, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiHeader, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { CommandContext } from '../commands/command-executor';
import { CommandCtx } from '../commands/request-context';
import { IdPipe } from '../http/ids';
import { IdentificationCommands } from './identification-commands';
import {
  AssessIndicatorsDto,
  GroundsDecisionDto,
  ReconsiderIdentificationDto,
  ReportPotentialVictimDto,
} from './identification.dto';

export const IDENTIFICATION_COMMANDS = Symbol('IDENTIFICATION_COMMANDS');

@ApiTags('identification')
@ApiBearerAuth()
@ApiHeader({
  name: 'Idempotency-Key',
  required: false,
  description: 'Makes a retry return the first result and record nothing new.',
})
@Controller('cases')
export class IdentificationController {
  constructor(@Inject(IDENTIFICATION_COMMANDS) private readonly commands: IdentificationCommands) {}

  @Post()
  @ApiOperation({
    summary: 'Report a potential victim: opens a case (caseworker; any agency but the oversight body).',
  })
  report(@Body() body: ReportPotentialVictimDto, @CommandCtx() context: CommandContext) {
    return this.commands.report(body, context);
  }

  @Post(':caseId/indicator-assessments')
  @HttpCode(200)
  @ApiOperation({ summary: 'Record an assessment of the indicators (caseworker or decision-maker).' })
  assess(
    @Param('caseId', IdPipe) caseId: string,
    @Body() body: AssessIndicatorsDto,
    @CommandCtx() context: CommandContext,
  ) {
    return this.commands.assessIndicators(caseId, body, context);
  }

  @Post(':caseId/reasonable-grounds-decision')
  @HttpCode(200)
  @ApiOperation({
    summary:
      'Decide reasonable grounds (decision-maker of a competent agency seized of the case: referred to it, or its own report). Positive entitles to a reflection period.',
  })
  reasonableGrounds(
    @Param('caseId', IdPipe) caseId: string,
    @Body() body: GroundsDecisionDto,
    @CommandCtx() context: CommandContext,
  ) {
    return this.commands.decideReasonableGrounds(caseId, body.outcome, context);
  }

  @Post(':caseId/conclusive-grounds-decision')
  @HttpCode(200)
  @ApiOperation({
    summary:
      'Decide conclusive grounds, after positive reasonable grounds (decision-maker of a competent agency seized of the case: referred to it, or its own report).',
  })
  conclusiveGrounds(
    @Param('caseId', IdPipe) caseId: string,
    @Body() body: GroundsDecisionDto,
    @CommandCtx() context: CommandContext,
  ) {
    return this.commands.decideConclusiveGrounds(caseId, body.outcome, context);
  }

  @Post(':caseId/reconsiderations')
  @HttpCode(200)
  @ApiOperation({
    summary:
      'Reconsider a negative decision (decision-maker of a competent agency seized of the case: referred to it, or its own report).',
  })
  reconsider(
    @Param('caseId', IdPipe) caseId: string,
    @Body() body: ReconsiderIdentificationDto,
    @CommandCtx() context: CommandContext,
  ) {
    return this.commands.reconsider(caseId, body.reason, context);
  }
}
