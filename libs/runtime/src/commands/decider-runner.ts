import type { EventStore } from '@nrm/event-store';
import type { CommandMetadata, Decider, DomainEvent } from '@nrm/shared-kernel';
import { CommandExecutor, RequestIds, type CommandContext, type CommandResult } from './command-executor';

export function metadataOf(context: CommandContext): CommandMetadata {
  if (!context.actor) throw new Error('domain commands need an authenticated actor');
  return { actor: context.actor, now: context.now };
}

/**
 * Runs one context's decider on one stream: the command is built from the
 * folded state (and any fresh context the builder reads), then decided.
 */
export function deciderRunner<C, E extends DomainEvent, S>(store: EventStore, decider: Decider<C, E, S>) {
  const executor = new CommandExecutor(store);
  return (
    stream: string,
    context: CommandContext,
    build: (state: S) => C | Promise<C>,
    ids: RequestIds,
  ): Promise<CommandResult> =>
    executor.execute<E, S>({
      stream,
      evolve: (state, event) => decider.evolve(state, event),
      initialState: () => decider.initialState(),
      decide: async (state) => decider.decide(await build(state), state),
      context,
      ids,
    });
}
