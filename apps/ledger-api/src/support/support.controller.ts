import { Body, Controller, HttpCode, Inject, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiHeader, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { CommandContext, CommandOptions } from '@nrm/runtime/commands';
import { SupportCommands } from '@nrm/support';
import { CommandCtx, Idempotent } from '../commands/request-context';
import { IdPipe } from '../http/ids';
import {
  AgreeSupportPlanDto,
  CloseSupportCaseDto,
  EndReflectionPeriodDto,
  ExtendReflectionPeriodDto,
  RecordServiceProvidedDto,
  StartReflectionPeriodDto,
} from './support.dto';

export const SUPPORT_COMMANDS = Symbol('SUPPORT_COMMANDS');

@ApiTags('support')
@ApiBearerAuth()
@ApiHeader({
  name: 'Idempotency-Key',
  required: false,
  description: 'Makes a retry return the first result and record nothing new.',
})
@Controller('cases/:caseId')
export class SupportController {
  constructor(@Inject(SUPPORT_COMMANDS) private readonly commands: SupportCommands) {}

  @Post('reflection-period')
  @ApiOperation({
    summary:
      'Start the recovery and reflection period (at least 30 days; needs positive reasonable grounds).',
  })
  start(
    @Param('caseId', IdPipe) caseId: string,
    @Body() body: StartReflectionPeriodDto,
    @CommandCtx() context: CommandContext,
    @Idempotent() options: CommandOptions,
  ) {
    return this.commands.startReflectionPeriod({ caseId, ...body }, context, options);
  }

  @Post('reflection-period/extension')
  @HttpCode(200)
  @ApiOperation({ summary: 'Extend the active reflection period.' })
  extend(
    @Param('caseId', IdPipe) caseId: string,
    @Body() body: ExtendReflectionPeriodDto,
    @CommandCtx() context: CommandContext,
    @Idempotent() options: CommandOptions,
  ) {
    return this.commands.extendReflectionPeriod({ caseId, ...body }, context, options);
  }

  @Post('reflection-period/end')
  @HttpCode(200)
  @ApiOperation({
    summary: 'End the reflection period (early only at the person’s decision or with a residence permit).',
  })
  end(
    @Param('caseId', IdPipe) caseId: string,
    @Body() body: EndReflectionPeriodDto,
    @CommandCtx() context: CommandContext,
    @Idempotent() options: CommandOptions,
  ) {
    return this.commands.endReflectionPeriod({ caseId, ...body }, context, options);
  }

  @Post('support-plans')
  @ApiOperation({ summary: 'Agree a support plan (a later plan supersedes the earlier one).' })
  plan(
    @Param('caseId', IdPipe) caseId: string,
    @Body() body: AgreeSupportPlanDto,
    @CommandCtx() context: CommandContext,
    @Idempotent() options: CommandOptions,
  ) {
    return this.commands.agreePlan({ caseId, ...body }, context, options);
  }

  @Post('support-services')
  @ApiOperation({ summary: 'Record a support service provided.' })
  service(
    @Param('caseId', IdPipe) caseId: string,
    @Body() body: RecordServiceProvidedDto,
    @CommandCtx() context: CommandContext,
    @Idempotent() options: CommandOptions,
  ) {
    return this.commands.recordService({ caseId, ...body }, context, options);
  }

  @Post('closure')
  @HttpCode(200)
  @ApiOperation({ summary: 'Close the support case with an outcome (not while a reflection period runs).' })
  close(
    @Param('caseId', IdPipe) caseId: string,
    @Body() body: CloseSupportCaseDto,
    @CommandCtx() context: CommandContext,
    @Idempotent() options: CommandOptions,
  ) {
    return this.commands.close({ caseId, ...body }, context, options);
  }
}
