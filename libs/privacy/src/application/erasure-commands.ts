import {
  deciderRunner,
  metadataOf,
  RequestIds,
  type CommandContext,
  type CommandOptions,
  type CommandResult,
  type EventStore,
} from '@nrm/runtime/commands';
import { DomainError, notFound } from '@nrm/shared-kernel';
import { erasureDecider, erasureStream, requireErasureRight } from '../erasure';
import type { SubjectKeyStore } from '../subject-key-store';

/**
 * What is asked: whose data to erase, and why: a legal ground (ERASURE_GROUNDS) and a reference
 * code, or (deprecated) a `reason` that is a reference code.
 */
export interface EraseSubjectRequest {
  readonly subjectId: string;
  readonly ground?: string;
  readonly reference?: string;
  readonly reason?: string;
}

/**
 * Erasure of a subject, shared by the HTTP API and the console: first the
 * record (`SubjectErased`: who, why, when), then the key is destroyed. A retry
 * of an erasure interrupted between the two finds the record and finishes the
 * destruction; a second erasure is refused as such.
 */
export class ErasureCommands {
  private readonly run;

  constructor(
    store: EventStore,
    private readonly keys: SubjectKeyStore,
    /** Whether the ledger knows this subject (a case was reported for it). */
    private readonly knows: (subjectId: string) => Promise<boolean>,
  ) {
    this.run = deciderRunner(store, erasureDecider);
  }

  async erase(
    request: EraseSubjectRequest,
    context: CommandContext,
    options: CommandOptions = {},
  ): Promise<{ subjectId: string } & CommandResult> {
    const { subjectId } = request;
    const why = {
      ...(request.ground !== undefined ? { ground: request.ground } : {}),
      ...(request.reference !== undefined ? { reference: request.reference } : {}),
      ...(request.reason !== undefined ? { reason: request.reason } : {}),
    };
    // Who may erase is checked first: others learn nothing of which subjects exist.
    if (context.actor) requireErasureRight(context.actor);
    if (!(await this.knows(subjectId)))
      throw notFound('SUBJECT.NOT_FOUND', 'No person with this id is known to the ledger.', 'subjectId');
    try {
      const result = await this.run(
        erasureStream(subjectId),
        context,
        () => ({ type: 'EraseSubject', data: { subjectId, ...why }, metadata: metadataOf(context) }),
        new RequestIds(context, options.idempotency),
      );
      await this.keys.destroy(subjectId, context.now);
      return { subjectId, ...result };
    } catch (error) {
      if (error instanceof DomainError && error.code === 'SUBJECT.ALREADY_ERASED')
        await this.keys.destroy(subjectId, context.now);
      throw error;
    }
  }
}

/**
 * Finishes erasures whose record is stored but whose key destruction did not
 * happen (the key store failed, or the process died in between), and re-applies
 * the erasure register to a key store restored from an older backup: run at
 * start, before a key is read. Returns the subjects whose keys it destroyed now.
 */
export async function finishErasures(store: EventStore, keys: SubjectKeyStore): Promise<string[]> {
  // The register first: it holds erasures made after the backup even if the events were rolled back too.
  const finished = await keys.applyRegister();
  const done = await keys.erasedSubjects();
  for await (const event of store.readAll({ filter: { eventTypes: ['SubjectErased'] } })) {
    const { subjectId, erasedAt } = event.data as { subjectId?: unknown; erasedAt?: unknown };
    if (typeof subjectId !== 'string' || done.has(subjectId)) continue;
    await keys.destroy(subjectId, typeof erasedAt === 'string' ? erasedAt : event.recordedAt);
    done.add(subjectId);
    finished.push(subjectId);
  }
  await keys.completeRegister();
  return finished;
}
