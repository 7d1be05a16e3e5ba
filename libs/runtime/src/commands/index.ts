/**
 * The command side's machinery, shared by every context's application layer: run a decision on
 * one stream (load, fold, decide, append with the exact expected revision, retry on a conflict),
 * recognise a retried request by its Idempotency-Key, and derive stable ids for it. It imports the
 * shared kernel and the event store's port only, so that a context's application layer
 * (`libs/<context>/src/application/`) may use it (see .dependency-cruiser.cjs).
 */
export {
  asDomainEvent,
  CommandConflict,
  CommandExecutor,
  IdempotencyKeyReused,
  RequestIds,
  type CommandContext,
  type CommandOptions,
  type Idempotency,
  type CommandExecutorOptions,
  type CommandResult,
  type CommandSpec,
} from './command-executor';
export { deciderRunner, metadataOf } from './decider-runner';
export { idDerivationSecret, keyedUuid, storedIdempotencyKey } from './id-secret';
export type { PartyCheck } from './party-check';
/** The event store's port, as the application layers name it. */
export type { EventStore } from './ports';
export { once } from './once';
