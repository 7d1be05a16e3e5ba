import { Body, Controller, Get, HttpCode, Inject, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { EVENT_STORE, type EventStore } from '@nrm/event-store';
import type { AgencyRecord } from '@nrm/access';
import { forbidden, type Actor } from '@nrm/shared-kernel';
import { CurrentActor } from './current-actor.decorator';
import type { CommandContext, CommandOptions } from '@nrm/runtime/commands';
import { CommandCtx, Idempotent } from '../commands/request-context';
import { IdPipe } from '../http/ids';
import { RegistryCommands } from '@nrm/access';
import { DisableDto, RegisterAgencyDto, RegisterPrincipalDto } from './registry.dto';
import { RegistryService } from './registry.service';

@ApiTags('registry')
@ApiBearerAuth()
@Controller()
export class RegistryController {
  private readonly commands: RegistryCommands;

  constructor(
    @Inject(EVENT_STORE) store: EventStore,
    private readonly registry: RegistryService,
  ) {
    this.commands = new RegistryCommands(store);
  }

  @Get('agencies')
  @ApiOperation({
    summary: 'List registered agencies (id, name, kind, country): whom a referral can address.',
  })
  agencies(): AgencyRecord[] {
    return this.registry.view.listAgencies();
  }

  @Post('agencies')
  @ApiOperation({ summary: 'Register an agency (registry-admin).' })
  async registerAgency(
    @Body() body: RegisterAgencyDto,
    @CommandCtx() context: CommandContext,
    @Idempotent() options: CommandOptions,
  ) {
    const { name, kind, country } = body;
    const result = await this.commands.registerAgency({ name, kind, country }, context, options);
    await this.registry.refresh();
    return result;
  }

  @Post('agencies/:agencyId/principals')
  @ApiOperation({ summary: 'Register a principal acting for an agency, with roles (registry-admin).' })
  async registerPrincipal(
    @Param('agencyId', IdPipe) agencyId: string,
    @Body() body: RegisterPrincipalDto,
    @CommandCtx() context: CommandContext,
    @Idempotent() options: CommandOptions,
  ) {
    const result = await this.commands.registerPrincipal(
      { agencyId, label: body.label, roles: body.roles },
      context,
      options,
    );
    await this.registry.refresh();
    return result;
  }

  @Post('principals/:principalId/api-keys')
  @ApiOperation({
    summary: 'Issue an API key for a principal (registry-admin). The key is shown in this answer only.',
  })
  async issueApiKey(
    @Param('principalId', IdPipe) principalId: string,
    @CommandCtx() context: CommandContext,
    @Idempotent() options: CommandOptions,
  ) {
    const result = await this.commands.issueApiKey(principalId, context, options);
    await this.registry.refresh();
    return result;
  }

  @Post('principals/:principalId/api-keys/:keyId/revocation')
  @HttpCode(200)
  @ApiOperation({
    summary:
      'Revoke an API key (registry-admin). It stops working at once in this process, within a second elsewhere.',
  })
  async revokeApiKey(
    @Param('principalId', IdPipe) principalId: string,
    @Param('keyId') keyId: string,
    @CommandCtx() context: CommandContext,
    @Idempotent() options: CommandOptions,
  ) {
    const result = await this.commands.revokeApiKey(principalId, keyId, context, options);
    await this.registry.refresh();
    return result;
  }

  @Post('agencies/:agencyId/disablement')
  @HttpCode(200)
  @ApiOperation({
    summary:
      'Switch an agency off (the national coordinator’s registry-admin): every principal of it is refused (403, audited), whatever its credential, until switched on.',
  })
  async disableAgency(
    @Param('agencyId', IdPipe) agencyId: string,
    @Body() body: DisableDto,
    @CommandCtx() context: CommandContext,
    @Idempotent() options: CommandOptions,
  ) {
    const result = await this.commands.disableAgency(agencyId, body.reason, context, options);
    await this.registry.refresh();
    return result;
  }

  @Post('agencies/:agencyId/enablement')
  @HttpCode(200)
  @ApiOperation({ summary: 'Switch an agency on again (the national coordinator’s registry-admin).' })
  async enableAgency(
    @Param('agencyId', IdPipe) agencyId: string,
    @CommandCtx() context: CommandContext,
    @Idempotent() options: CommandOptions,
  ) {
    const result = await this.commands.enableAgency(agencyId, context, options);
    await this.registry.refresh();
    return result;
  }

  @Post('principals/:principalId/disablement')
  @HttpCode(200)
  @ApiOperation({
    summary:
      'Switch a principal off (registry-admin of its agency, or the national coordinator’s): refused (403, audited) whatever its credential, API key or JWT, until switched on.',
  })
  async disablePrincipal(
    @Param('principalId', IdPipe) principalId: string,
    @Body() body: DisableDto,
    @CommandCtx() context: CommandContext,
    @Idempotent() options: CommandOptions,
  ) {
    const result = await this.commands.disablePrincipal(principalId, body.reason, context, options);
    await this.registry.refresh();
    return result;
  }

  @Post('principals/:principalId/enablement')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Switch a principal on again (registry-admin of its agency, or the national coordinator’s).',
  })
  async enablePrincipal(
    @Param('principalId', IdPipe) principalId: string,
    @CommandCtx() context: CommandContext,
    @Idempotent() options: CommandOptions,
  ) {
    const result = await this.commands.enablePrincipal(principalId, context, options);
    await this.registry.refresh();
    return result;
  }

  @Get('registry/disabled')
  @ApiOperation({
    summary:
      'The principals and agencies switched off now, with reason and since when: for the oversight body (all), the national coordinator’s registry-admin (all) and an agency’s registry-admin (its own).',
  })
  async disabled(@CurrentActor() actor: Actor) {
    const oversight = actor.agencyKind === 'oversight-body' && actor.roles.includes('oversight');
    const admin = actor.roles.includes('registry-admin');
    if (!oversight && !admin)
      throw forbidden(
        'REGISTRY.ADMIN_OR_OVERSIGHT_ONLY',
        'Only registry administrators and the oversight body see who is switched off.',
      );
    await this.registry.refresh();
    const all = oversight || actor.agencyKind === 'national-coordinator';
    return this.registry.view.disabled(all ? undefined : actor.agencyId);
  }
}
