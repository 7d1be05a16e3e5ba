import { Body, Controller, Get, HttpCode, Inject, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { EVENT_STORE, type EventStore } from '@nrm/event-store';
import type { AgencyRecord } from '@nrm/access';
import type { CommandContext } from '../commands/command-executor';
import { CommandCtx } from '../commands/request-context';
import { IdPipe } from '../http/ids';
import { RegistryCommands } from './registry-commands';
import { RegisterAgencyDto, RegisterPrincipalDto } from './registry.dto';
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
  async registerAgency(@Body() body: RegisterAgencyDto, @CommandCtx() context: CommandContext) {
    const result = await this.commands.registerAgency(body, context);
    await this.registry.refresh();
    return result;
  }

  @Post('agencies/:agencyId/principals')
  @ApiOperation({ summary: 'Register a principal acting for an agency, with roles (registry-admin).' })
  async registerPrincipal(
    @Param('agencyId', IdPipe) agencyId: string,
    @Body() body: RegisterPrincipalDto,
    @CommandCtx() context: CommandContext,
  ) {
    const result = await this.commands.registerPrincipal({ agencyId, ...body }, context);
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
  ) {
    const result = await this.commands.issueApiKey(principalId, context);
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
  ) {
    const result = await this.commands.revokeApiKey(principalId, keyId, context);
    await this.registry.refresh();
    return result;
  }
}
