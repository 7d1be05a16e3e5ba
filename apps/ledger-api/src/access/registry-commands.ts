import {
  agencyStream,
  decideAgency,
  decidePrincipal,
  evolveAgency,
  evolvePrincipal,
  newApiKey,
  principalStream,
  type AgencyRegistered,
  type AgencyState,
  type PrincipalState,
  type RegistryEvent,
} from '@nrm/access';
import type { EventStore } from '@nrm/event-store';
import { forbidden, type AgencyKind, type Role } from '@nrm/shared-kernel';
import {
  CommandExecutor,
  RequestIds,
  type CommandContext,
  type CommandResult,
} from '../commands/command-executor';

type PrincipalEvent = Exclude<RegistryEvent, AgencyRegistered>;

function isAdmin(context: CommandContext): boolean {
  return context.actor?.roles.includes('registry-admin') === true;
}

function ownAgencyOnly() {
  return forbidden(
    'REGISTRY.OWN_AGENCY_ONLY',
    "A registry administrator manages only its own agency's principals and keys.",
  );
}

/**
 * Registry commands, shared by the HTTP API (a registry-admin) and the CLI
 * (the operator at the console, with no actor). Framework-free on purpose.
 */
export class RegistryCommands {
  private readonly executor: CommandExecutor;

  constructor(private readonly store: EventStore) {
    this.executor = new CommandExecutor(store);
  }

  async registerAgency(
    input: { name: string; kind: AgencyKind; country: string; agencyId?: string },
    context: CommandContext,
  ): Promise<{ agencyId: string } & CommandResult> {
    const ids = new RequestIds(context);
    const agencyId = input.agencyId ?? ids.entity('agency');
    const result = await this.executor.execute<AgencyRegistered, AgencyState>({
      stream: agencyStream(agencyId),
      evolve: evolveAgency,
      initialState: () => ({ status: 'none' }),
      decide: (state) => {
        if (isAdmin(context) && context.actor?.agencyKind !== 'national-coordinator')
          throw forbidden(
            'REGISTRY.COORDINATOR_ONLY',
            'Only the national coordinator registers new agencies.',
          );
        return decideAgency(
          {
            type: 'RegisterAgency',
            data: { agencyId, name: input.name, kind: input.kind, country: input.country },
            metadata: context,
          },
          state,
        );
      },
      context,
      ids,
    });
    return { agencyId, ...result };
  }

  async registerPrincipal(
    input: { agencyId: string; label: string; roles: Role[]; principalId?: string },
    context: CommandContext,
  ): Promise<{ principalId: string } & CommandResult> {
    const ids = new RequestIds(context);
    const principalId = input.principalId ?? ids.entity('principal');
    const result = await this.onPrincipal(principalId, context, ids, async (state) => {
      if (isAdmin(context) && input.agencyId !== context.actor?.agencyId) throw ownAgencyOnly();
      return decidePrincipal(
        {
          type: 'RegisterPrincipal',
          data: {
            principalId,
            agencyId: input.agencyId,
            label: input.label,
            roles: input.roles,
            agencyExists: await this.agencyExists(input.agencyId),
          },
          metadata: context,
        },
        state,
      );
    });
    return { principalId, ...result };
  }

  /** Issues a key; the plain key is in the answer once and stored nowhere (a replay cannot show it again). */
  async issueApiKey(
    principalId: string,
    context: CommandContext,
  ): Promise<{ keyId: string; apiKey: string | null } & CommandResult> {
    const ids = new RequestIds(context);
    const key = newApiKey();
    const result = await this.onPrincipal(principalId, context, ids, (state) =>
      decidePrincipal(
        {
          type: 'IssueApiKey',
          data: { principalId, keyId: key.keyId, secretSha256: key.secretSha256 },
          metadata: context,
        },
        state,
      ),
    );
    if (result.replayed) {
      const [issued] = await this.eventsAt(result.stream, result.eventIds);
      const keyId = issued?.data.keyId;
      return { keyId: typeof keyId === 'string' ? keyId : '', apiKey: null, ...result };
    }
    return { keyId: key.keyId, apiKey: key.apiKey, ...result };
  }

  async revokeApiKey(principalId: string, keyId: string, context: CommandContext): Promise<CommandResult> {
    const ids = new RequestIds(context);
    return this.onPrincipal(principalId, context, ids, (state) =>
      decidePrincipal({ type: 'RevokeApiKey', data: { principalId, keyId }, metadata: context }, state),
    );
  }

  /**
   * Over the API a registry administrator manages only its own agency's principals
   * and keys; the console (no actor) manages all.
   */
  private onPrincipal(
    principalId: string,
    context: CommandContext,
    ids: RequestIds,
    decide: (state: PrincipalState) => PrincipalEvent[] | Promise<PrincipalEvent[]>,
  ): Promise<CommandResult> {
    return this.executor.execute<PrincipalEvent, PrincipalState>({
      stream: principalStream(principalId),
      evolve: evolvePrincipal,
      initialState: () => ({ status: 'none' }),
      decide: (state) => {
        if (isAdmin(context) && state.status === 'registered' && state.agencyId !== context.actor?.agencyId)
          throw ownAgencyOnly();
        return decide(state);
      },
      context,
      ids,
    });
  }

  /** Whether an agency is registered, read from its own stream (authoritative, also for the console). */
  async agencyExists(agencyId: string): Promise<boolean> {
    for await (const _ of this.store.readStream(agencyStream(agencyId), { maxCount: 1 })) return true;
    return false;
  }

  private async eventsAt(stream: string, eventIds: readonly string[]) {
    const out = [];
    for await (const e of this.store.readStream(stream)) if (eventIds.includes(e.id)) out.push(e);
    return out;
  }
}
