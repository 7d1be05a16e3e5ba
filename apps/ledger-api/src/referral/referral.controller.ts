import { Body, Controller, HttpCode, Inject, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiHeader, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ReferralCommands } from '@nrm/referral';
import type { CommandContext, CommandOptions } from '@nrm/runtime/commands';
import { CommandCtx, Idempotent } from '../commands/request-context';
import { IdPipe } from '../http/ids';
import { DeclineReferralDto, MakeReferralDto, WithdrawReferralDto } from './referral.dto';

export const REFERRAL_COMMANDS = Symbol('REFERRAL_COMMANDS');

@ApiTags('referral')
@ApiBearerAuth()
@ApiHeader({
  name: 'Idempotency-Key',
  required: false,
  description: 'Makes a retry return the first result and record nothing new.',
})
@Controller()
export class ReferralController {
  constructor(@Inject(REFERRAL_COMMANDS) private readonly commands: ReferralCommands) {}

  @Post('cases/:caseId/referrals')
  @ApiOperation({
    summary:
      'Refer the person to another agency (also abroad, to a foreign contact point). Shared categories must be covered.',
  })
  make(
    @Param('caseId', IdPipe) caseId: string,
    @Body() body: MakeReferralDto,
    @CommandCtx() context: CommandContext,
    @Idempotent() options: CommandOptions,
  ) {
    const { toAgencyId, purpose, servicesRequested, urgency, respondBy, sharedCategories } = body;
    return this.commands.make(
      { caseId, toAgencyId, purpose, servicesRequested, urgency, respondBy, sharedCategories },
      context,
      options,
    );
  }

  @Post('referrals/:referralId/acknowledgement')
  @HttpCode(200)
  @ApiOperation({ summary: 'Acknowledge receipt (the receiving agency).' })
  acknowledge(
    @Param('referralId', IdPipe) referralId: string,
    @CommandCtx() context: CommandContext,
    @Idempotent() options: CommandOptions,
  ) {
    return this.commands.transition(referralId, 'AcknowledgeReferral', context, options);
  }

  @Post('referrals/:referralId/acceptance')
  @HttpCode(200)
  @ApiOperation({ summary: 'Accept, after acknowledging (the receiving agency).' })
  accept(
    @Param('referralId', IdPipe) referralId: string,
    @CommandCtx() context: CommandContext,
    @Idempotent() options: CommandOptions,
  ) {
    return this.commands.transition(referralId, 'AcceptReferral', context, options);
  }

  @Post('referrals/:referralId/decline')
  @HttpCode(200)
  @ApiOperation({ summary: 'Decline with a reason, after acknowledging (the receiving agency).' })
  decline(
    @Param('referralId', IdPipe) referralId: string,
    @Body() body: DeclineReferralDto,
    @CommandCtx() context: CommandContext,
    @Idempotent() options: CommandOptions,
  ) {
    return this.commands.decline({ referralId, reason: body.reason }, context, options);
  }

  @Post('referrals/:referralId/handoff')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Record that the person reached the receiving agency (the agency that accepted).',
  })
  handoff(
    @Param('referralId', IdPipe) referralId: string,
    @CommandCtx() context: CommandContext,
    @Idempotent() options: CommandOptions,
  ) {
    return this.commands.transition(referralId, 'CompleteHandoff', context, options);
  }

  @Post('referrals/:referralId/withdrawal')
  @HttpCode(200)
  @ApiOperation({ summary: 'Withdraw an open referral (the sending agency).' })
  withdraw(
    @Param('referralId', IdPipe) referralId: string,
    @Body() body: WithdrawReferralDto,
    @CommandCtx() context: CommandContext,
    @Idempotent() options: CommandOptions,
  ) {
    return this.commands.withdraw({ referralId, reason: body.reason }, context, options);
  }

  @Post('referrals/:referralId/escalation')
  @HttpCode(200)
  @ApiOperation({ summary: 'Escalate an overdue, unanswered referral (the national coordinator).' })
  escalate(
    @Param('referralId', IdPipe) referralId: string,
    @CommandCtx() context: CommandContext,
    @Idempotent() options: CommandOptions,
  ) {
    return this.commands.transition(referralId, 'EscalateReferral', context, options);
  }
}
