import {
  agencyStream,
  decideAgency,
  decidePrincipal,
  evolveAgency,
  evolvePrincipal,
  newApiKey,
  principalStream,
  type AgencyEvent,
  type AgencyState,
  type DisableReason,
  checkPrincipalReach,
  type PrincipalAction,
  type PrincipalEvent,
  type PrincipalState,
} from '../registry';
import {
  CommandExecutor,
  RequestIds,
  type CommandContext,
  type CommandOptions,
  type CommandResult,
  type EventStore,
} from '@nrm/runtime/commands';
import { forbidden, type AgencyKind, type Role } from '@nrm/shared-kernel';

function isAdmin(context: CommandContext): boolean {
  return context.actor?.roles.includes('registry-admin') === true;
}

/** The national coordinator's registry administrator: it registers agencies and switches them off and on. */
function isCoordinatorAdmin(context: CommandContext): boolean {
  return isAdmin(context) && context.actor?.agencyKind === 'national-coordinator';
}

function coordinatorOnly(what: string) {
  return forbidden('REGISTRY.COORDINATOR_ONLY', `Only the national coordinator ${what}.`);
}

/**
 * Registry commands, shared by the HTTP API (a registry-admin) and the CLI
 * (the operator at the console, with no actor). Framework-free on purpose.
 *
 * Over the API: the national coordinator's registry administrator registers
 * agencies and switches them off and on (an oversight body or a coordinator is
 * the operator's alone), and may cut off another agency's principals (switch
 * one off, revoke a key); every registry administrator registers principals,
 * issues keys and switches principals on for its own agency only, so nobody
 * receives a working credential of another agency. The console manages all
 * (see `checkPrincipalReach`).
 */
export class RegistryCommands {
  private readonly executor: CommandExecutor;

  constructor(private readonly store: EventStore) {
    this.executor = new CommandExecutor(store);
  }

  async registerAgency(
    input: { name: string; kind: AgencyKind; country: string; agencyId?: string },
    context: CommandContext,
    options: CommandOptions = {},
  ): Promise<{ agencyId: string } & CommandResult> {
    const ids = new RequestIds(context, options.idempotency);
    const agencyId = input.agencyId ?? ids.entity('agency');
    // An id made up just now names a stream that cannot exist yet (a chosen one may).
    const newStream = input.agencyId === undefined;
    const result = await this.onAgency(
      agencyId,
      context,
      ids,
      (state) => {
        if (isAdmin(context) && !isCoordinatorAdmin(context)) throw coordinatorOnly('registers new agencies');
        return decideAgency(
          {
            type: 'RegisterAgency',
            data: { agencyId, name: input.name, kind: input.kind, country: input.country },
            metadata: context,
          },
          state,
        );
      },
      newStream,
    );
    return { agencyId, ...result };
  }

  /** Switches an agency off: every principal of it is refused, whatever its credential, until it is switched on. */
  disableAgency(
    agencyId: string,
    reason: DisableReason,
    context: CommandContext,
    options: CommandOptions = {},
  ): Promise<CommandResult> {
    const ids = new RequestIds(context, options.idempotency);
    return this.onAgency(agencyId, context, ids, (state) => {
      if (isAdmin(context) && !isCoordinatorAdmin(context)) throw coordinatorOnly('switches agencies off');
      return decideAgency({ type: 'DisableAgency', data: { agencyId, reason }, metadata: context }, state);
    });
  }

  enableAgency(
    agencyId: string,
    context: CommandContext,
    options: CommandOptions = {},
  ): Promise<CommandResult> {
    const ids = new RequestIds(context, options.idempotency);
    return this.onAgency(agencyId, context, ids, (state) => {
      if (isAdmin(context) && !isCoordinatorAdmin(context)) throw coordinatorOnly('switches agencies on');
      return decideAgency({ type: 'EnableAgency', data: { agencyId }, metadata: context }, state);
    });
  }

  async registerPrincipal(
    input: { agencyId: string; label: string; roles: Role[]; principalId?: string },
    context: CommandContext,
    options: CommandOptions = {},
  ): Promise<{ principalId: string } & CommandResult> {
    const ids = new RequestIds(context, options.idempotency);
    const principalId = input.principalId ?? ids.entity('principal');
    const newStream = input.principalId === undefined;
    const result = await this.onPrincipal(
      principalId,
      'register',
      context,
      ids,
      async (state) => {
        await this.checkReach(context, 'register', input.agencyId);
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
      },
      newStream,
    );
    return { principalId, ...result };
  }

  /** Issues a key; the plain key is in the answer once and stored nowhere (a replay cannot show it again). */
  async issueApiKey(
    principalId: string,
    context: CommandContext,
    options: CommandOptions = {},
  ): Promise<{ keyId: string; apiKey: string | null } & CommandResult> {
    const ids = new RequestIds(context, options.idempotency);
    const key = newApiKey();
    const result = await this.onPrincipal(principalId, 'issue-key', context, ids, (state) =>
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

  async revokeApiKey(
    principalId: string,
    keyId: string,
    context: CommandContext,
    options: CommandOptions = {},
  ): Promise<CommandResult> {
    const ids = new RequestIds(context, options.idempotency);
    return this.onPrincipal(principalId, 'revoke-key', context, ids, (state) =>
      decidePrincipal({ type: 'RevokeApiKey', data: { principalId, keyId }, metadata: context }, state),
    );
  }

  /** Switches a principal off: refused whatever its credential (API key or JWT) until switched on. */
  disablePrincipal(
    principalId: string,
    reason: DisableReason,
    context: CommandContext,
    options: CommandOptions = {},
  ): Promise<CommandResult> {
    const ids = new RequestIds(context, options.idempotency);
    return this.onPrincipal(principalId, 'disable', context, ids, (state) =>
      decidePrincipal({ type: 'DisablePrincipal', data: { principalId, reason }, metadata: context }, state),
    );
  }

  enablePrincipal(
    principalId: string,
    context: CommandContext,
    options: CommandOptions = {},
  ): Promise<CommandResult> {
    const ids = new RequestIds(context, options.idempotency);
    return this.onPrincipal(principalId, 'enable', context, ids, (state) =>
      decidePrincipal({ type: 'EnablePrincipal', data: { principalId }, metadata: context }, state),
    );
  }

  private onAgency(
    agencyId: string,
    context: CommandContext,
    ids: RequestIds,
    decide: (state: AgencyState) => AgencyEvent[],
    newStream = false,
  ): Promise<CommandResult> {
    return this.executor.execute<AgencyEvent, AgencyState>({
      stream: agencyStream(agencyId),
      evolve: evolveAgency,
      initialState: () => ({ status: 'none' }),
      decide,
      context,
      ids,
      ...(newStream ? { newStream: true } : {}),
    });
  }

  /** Commands on one principal, within the reach of who acts (`checkPrincipalReach`). */
  private onPrincipal(
    principalId: string,
    action: PrincipalAction,
    context: CommandContext,
    ids: RequestIds,
    decide: (state: PrincipalState) => PrincipalEvent[] | Promise<PrincipalEvent[]>,
    newStream = false,
  ): Promise<CommandResult> {
    return this.executor.execute<PrincipalEvent, PrincipalState>({
      stream: principalStream(principalId),
      evolve: evolvePrincipal,
      initialState: () => ({ status: 'none' }),
      decide: async (state) => {
        if (state.status === 'registered') await this.checkReach(context, action, state.agencyId);
        return decide(state);
      },
      context,
      ids,
      ...(newStream ? { newStream: true } : {}),
    });
  }

  /** Refuses an action on a principal of `agencyId` beyond the actor's reach; reads the agency's kind only when it is another agency. */
  private async checkReach(
    context: CommandContext,
    action: PrincipalAction,
    agencyId: string,
  ): Promise<void> {
    if (!context.actor || context.actor.agencyId === agencyId) return;
    checkPrincipalReach(context.actor, action, { agencyId, agencyKind: await this.agencyKind(agencyId) });
  }

  private async agencyKind(agencyId: string): Promise<AgencyKind | undefined> {
    for await (const e of this.store.readStream(agencyStream(agencyId), { maxCount: 1 }))
      return e.type === 'AgencyRegistered' ? (e.data.kind as AgencyKind) : undefined;
    return undefined;
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
