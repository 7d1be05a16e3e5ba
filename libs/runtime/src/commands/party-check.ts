import type { Actor } from '@nrm/shared-kernel';

/**
 * Whether the acting agency may know of a record (a case, a referral), checked before anything
 * else about it: before its stream is read, before an Idempotency-Key is looked up in it, before
 * its stage is known. It throws the record's not-found `DomainError` (the same answer as for a
 * record that does not exist), so that a non-party cannot tell the two apart. The API decides it
 * on the case directory (libs/runtime/src/reads/case-parties.ts); absent for the operator's
 * console, which acts for no agency.
 */
export type PartyCheck = (recordId: string, actor: Actor) => Promise<void>;
