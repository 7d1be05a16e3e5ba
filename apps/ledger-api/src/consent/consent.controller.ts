import { Body, Controller, HttpCode, Inject, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiHeader, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ConsentCommands } from '@nrm/consent';
import type { CommandContext, CommandOptions } from '@nrm/runtime/commands';
import { CommandCtx, Idempotent } from '../commands/request-context';
import { IdPipe } from '../http/ids';
import { GrantConsentDto, RecordLawfulBasisDto, RefuseConsentDto, WithdrawConsentDto } from './consent.dto';

export const CONSENT_COMMANDS = Symbol('CONSENT_COMMANDS');

@ApiTags('consent')
@ApiBearerAuth()
@ApiHeader({
  name: 'Idempotency-Key',
  required: false,
  description: 'Makes a retry return the first result and record nothing new.',
})
@Controller('cases/:caseId')
export class ConsentController {
  constructor(@Inject(CONSENT_COMMANDS) private readonly commands: ConsentCommands) {}

  @Post('consents')
  @ApiOperation({
    summary:
      'Record informed consent: to which agencies, which data categories, which purposes, until when, how captured. Only by an agency in direct contact with the person; it never covers the recording agency itself.',
  })
  grant(
    @Param('caseId', IdPipe) caseId: string,
    @Body() body: GrantConsentDto,
    @CommandCtx() context: CommandContext,
    @Idempotent() options: CommandOptions,
  ) {
    return this.commands.grant({ caseId, ...body }, context, options);
  }

  @Post('consents/:consentId/withdrawal')
  @HttpCode(200)
  @ApiOperation({
    summary:
      'Withdraw a consent, whole (empty body) or in part: exactly the (agency, category, purpose) triples matching every list given. Effective on the next read.',
  })
  withdraw(
    @Param('caseId', IdPipe) caseId: string,
    @Param('consentId', IdPipe) consentId: string,
    @Body() body: WithdrawConsentDto,
    @CommandCtx() context: CommandContext,
    @Idempotent() options: CommandOptions,
  ) {
    return this.commands.withdraw({ caseId, consentId, ...body }, context, options);
  }

  @Post('consent-refusals')
  @ApiOperation({
    summary: 'Record that the person refused consent (it grants nothing; it is on the record).',
  })
  refuse(
    @Param('caseId', IdPipe) caseId: string,
    @Body() body: RefuseConsentDto,
    @CommandCtx() context: CommandContext,
    @Idempotent() options: CommandOptions,
  ) {
    return this.commands.refuse({ caseId, ...body }, context, options);
  }

  @Post('lawful-bases')
  @ApiOperation({
    summary:
      'Record a lawful basis other than consent (always justified, always visible to oversight; never for the recording agency itself, never special categories abroad).',
  })
  lawfulBasis(
    @Param('caseId', IdPipe) caseId: string,
    @Body() body: RecordLawfulBasisDto,
    @CommandCtx() context: CommandContext,
    @Idempotent() options: CommandOptions,
  ) {
    return this.commands.recordLawfulBasis({ caseId, ...body }, context, options);
  }
}
