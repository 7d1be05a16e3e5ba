import { Body, Controller, HttpCode, Inject, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiHeader, ApiOperation, ApiTags } from '@nestjs/swagger';
import { IdentificationCommands } from '@nrm/identification';
import type { CommandContext, CommandOptions } from '@nrm/runtime/commands';
import { CommandCtx, Idempotent } from '../commands/request-context';
import { IdPipe } from '../http/ids';
import {
  AssessIndicatorsDto,
  DesignateCompetentAuthorityDto,
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
  report(
    @Body() body: ReportPotentialVictimDto,
    @CommandCtx() context: CommandContext,
    @Idempotent() options: CommandOptions,
  ) {
    return this.commands.report({ ...body }, context, options);
  }

  @Post(':caseId/indicator-assessments')
  @HttpCode(200)
  @ApiOperation({ summary: 'Record an assessment of the indicators (caseworker or decision-maker).' })
  assess(
    @Param('caseId', IdPipe) caseId: string,
    @Body() body: AssessIndicatorsDto,
    @CommandCtx() context: CommandContext,
    @Idempotent() options: CommandOptions,
  ) {
    return this.commands.assessIndicators({ caseId, ...body }, context, options);
  }

  @Post(':caseId/reasonable-grounds-decision')
  @HttpCode(200)
  @ApiOperation({
    summary:
      'Decide reasonable grounds (decision-maker of a competent agency seized of the case: referred to it, designated by the coordinator, or its own report). Positive entitles to a reflection period.',
  })
  reasonableGrounds(
    @Param('caseId', IdPipe) caseId: string,
    @Body() body: GroundsDecisionDto,
    @CommandCtx() context: CommandContext,
    @Idempotent() options: CommandOptions,
  ) {
    return this.commands.decideReasonableGrounds({ caseId, outcome: body.outcome }, context, options);
  }

  @Post(':caseId/conclusive-grounds-decision')
  @HttpCode(200)
  @ApiOperation({
    summary:
      'Decide conclusive grounds, after positive reasonable grounds (decision-maker of a competent agency seized of the case: referred to it, designated by the coordinator, or its own report).',
  })
  conclusiveGrounds(
    @Param('caseId', IdPipe) caseId: string,
    @Body() body: GroundsDecisionDto,
    @CommandCtx() context: CommandContext,
    @Idempotent() options: CommandOptions,
  ) {
    return this.commands.decideConclusiveGrounds({ caseId, outcome: body.outcome }, context, options);
  }

  @Post(':caseId/designations')
  @HttpCode(200)
  @ApiOperation({
    summary:
      'Designate a competent authority to decide on the case (coordinator of the national coordinator only): the authority is seized of the case and party to it, reading only what consent or a lawful basis covers for it. Designating the same authority again records nothing. Anyone else is answered as for an unknown case.',
  })
  designate(
    @Param('caseId', IdPipe) caseId: string,
    @Body() body: DesignateCompetentAuthorityDto,
    @CommandCtx() context: CommandContext,
    @Idempotent() options: CommandOptions,
  ) {
    return this.commands.designate({ caseId, ...body }, context, options);
  }

  @Post(':caseId/reconsiderations')
  @HttpCode(200)
  @ApiOperation({
    summary:
      'Reconsider a negative decision (decision-maker of a competent agency seized of the case: referred to it, designated by the coordinator, or its own report).',
  })
  reconsider(
    @Param('caseId', IdPipe) caseId: string,
    @Body() body: ReconsiderIdentificationDto,
    @CommandCtx() context: CommandContext,
    @Idempotent() options: CommandOptions,
  ) {
    return this.commands.reconsider({ caseId, reason: body.reason }, context, options);
  }
}
