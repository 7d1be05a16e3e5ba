import {
  accessReviewStream,
  accessStream,
  breakGlassDecider,
  mayOverseeAccess,
  type AccessReviewed,
  type BreakGlassAccessUsed,
  type ReviewFinding,
  type ReviewState,
} from '@nrm/access';
import { consentStream, type ConsentEvent, type ConsentGranted } from '@nrm/consent';
import type { EventStore, RecordedEvent } from '@nrm/event-store';
import {
  accessLogPage,
  casesOfSubject,
  utcInstant,
  type AccessLogEventType,
  type ReviewStatus,
} from '@nrm/projections';
import { openTextFor, sealTextFor, type SubjectKeyStore } from '@nrm/privacy';
import type { ErasedMark, SealedText } from '@nrm/shared-kernel';
import { AuditTrail, type ReadRequest } from '../access/audit-trail';
import { awaitReadModel, type ReadModel } from '@nrm/runtime';
import {
  CommandExecutor,
  RequestIds,
  type CommandContext,
  type CommandOptions,
  type CommandResult,
} from '@nrm/runtime/commands';
import { ProblemException } from '../http/problem';
import { periodOf, recordDenial, refuse } from './audited-read';
import { keysOnce, openJustifications, type OpenedAccessLogEntry } from './opened-text';

export interface PageRequest {
  readonly limit: number;
  readonly cursor?: number;
  readonly from?: string;
  readonly to?: string;
}

export interface Page<T> {
  readonly entries: readonly T[];
  readonly next?: { readonly cursor: number };
}

/** One consent-stream event as oversight reads it: what was recorded, by whom, with which scope. */
export interface ConsentHistoryEntry {
  readonly position: number;
  readonly caseId: string;
  readonly type: ConsentEvent['type'];
  readonly at: string;
  readonly recordedByAgencyId?: string;
  readonly recordedByPrincipalId?: string;
  readonly consentId?: string;
  readonly lawfulBasisId?: string;
  readonly scope?: {
    agencyIds?: readonly string[];
    categories?: readonly string[];
    purposes?: readonly string[];
  };
  readonly expiresAt?: string;
  readonly capture?: HistoryCapture;
  /** Withdrawals: the whole consent, or only the listed scope. */
  readonly whole?: boolean;
  readonly basis?: string;
  /** A lawful basis's justification; `{ "erased": true }` once the subject is erased. */
  readonly justification?: string | ErasedMark;
}

/** How a consent was captured, as oversight reads it. */
export interface HistoryCapture {
  readonly method: string;
  readonly language: string;
  readonly interpreterUsed: boolean;
  readonly witnessPrincipalId?: string;
  /**
   * The guardian's reference: opened with the subject's key (sealed since ConsentGranted schema 2),
   * `{ "erased": true }` once the subject is erased.
   */
  readonly guardianReference?: string | ErasedMark;
}

const ACCESSES: readonly AccessLogEventType[] = ['RecordAccessed', 'BreakGlassAccessUsed'];
const ATTEMPTS: readonly AccessLogEventType[] = [...ACCESSES, 'AccessDenied'];

/**
 * The oversight body's views (access log, denials, break-glass queue, consent
 * history) and its reviews of break-glass accesses. Every request is checked
 * by `mayOverseeAccess`, and every read and refusal is itself audited before
 * the answer leaves.
 */
export class OversightReads {
  private readonly audit: AuditTrail;
  private readonly executor: CommandExecutor;

  constructor(
    private readonly store: EventStore,
    private readonly readModel: ReadModel,
    /** Opens the free text sealed under a subject's key (justifications). */
    private readonly keys: SubjectKeyStore,
  ) {
    this.audit = new AuditTrail(store);
    this.executor = new CommandExecutor(store);
  }

  /** Who read which subject's data, when, on which basis; break-glass reads included. Newest first. */
  accessLog(
    request: ReadRequest,
    query: PageRequest & { subjectId?: string; caseId?: string; agencyId?: string },
  ): Promise<Page<OpenedAccessLogEntry>> {
    const { subjectId, caseId, agencyId } = query;
    return this.logView(request, 'access-log', query, {
      types: ACCESSES,
      ...(subjectId !== undefined ? { subjectId } : {}),
      ...(caseId !== undefined ? { caseId } : {}),
      ...(agencyId !== undefined ? { agencyId } : {}),
    });
  }

  /**
   * Granted and refused attempts together (reads, break-glass reads, and every
   * refusal, commands and erasure included), newest first, each with its
   * outcome: who tried what on which case, when, and what came of it.
   */
  async accessAttempts(
    request: ReadRequest,
    query: PageRequest & {
      agencyId?: string;
      caseId?: string;
      subjectId?: string;
      outcome?: 'granted' | 'refused';
    },
  ): Promise<Page<OpenedAccessLogEntry & { outcome: 'granted' | 'refused' }>> {
    const { agencyId, caseId, subjectId, outcome } = query;
    const page = await this.logView(request, 'access-attempts', query, {
      types: outcome === 'granted' ? ACCESSES : outcome === 'refused' ? ['AccessDenied'] : ATTEMPTS,
      ...(subjectId !== undefined ? { subjectId } : {}),
      ...(caseId !== undefined ? { caseId } : {}),
      ...(agencyId !== undefined ? { agencyId } : {}),
    });
    return {
      ...page,
      entries: page.entries.map((e) => ({
        ...e,
        outcome: e.type === 'AccessDenied' ? ('refused' as const) : ('granted' as const),
      })),
    };
  }

  denials(
    request: ReadRequest,
    query: PageRequest & { agencyId?: string },
  ): Promise<Page<OpenedAccessLogEntry>> {
    return this.logView(request, 'denials', query, {
      types: ['AccessDenied'],
      ...(query.agencyId !== undefined ? { agencyId: query.agencyId } : {}),
    });
  }

  breakGlassQueue(
    request: ReadRequest,
    query: PageRequest & { status?: ReviewStatus },
  ): Promise<Page<OpenedAccessLogEntry>> {
    return this.logView(request, 'break-glass-queue', query, {
      types: ['BreakGlassAccessUsed'],
      ...(query.status !== undefined ? { reviewStatus: query.status } : {}),
    });
  }

  /** Every consent event of the subject's cases, oldest first, read from the consent streams themselves. */
  async consentHistory(
    request: ReadRequest,
    subjectId: string,
    query: PageRequest,
  ): Promise<Page<ConsentHistoryEntry> & { subjectId: string; caseIds: readonly string[] }> {
    await this.requireOversight(request, { view: 'consent-history', subjectId });
    const period = periodOf(query);
    await awaitReadModel(this.store, this.readModel);
    const caseIds = await casesOfSubject(this.readModel.store, subjectId);
    if (caseIds.length === 0) {
      await recordDenial(this.audit, request, {
        view: 'consent-history',
        reason: 'unknown-subject',
        subjectId,
      });
      throw new ProblemException({
        status: 404,
        title: 'Not Found',
        code: 'SUBJECT.NOT_FOUND',
        field: 'subjectId',
        detail: 'No case of a subject with this id is recorded.',
      });
    }
    const all: ConsentHistoryEntry[] = [];
    const keys = keysOnce(this.keys);
    for (const caseId of caseIds)
      for await (const event of this.store.readStream(consentStream(caseId)))
        all.push(await opened(keys, historyEntry(caseId, event)));
    all.sort((a, b) => a.position - b.position);
    const inPeriod = all.filter(
      (e) =>
        (period.from === undefined || e.at >= period.from) &&
        (period.to === undefined || e.at < period.to) &&
        (query.cursor === undefined || e.position > query.cursor),
    );
    const entries = inPeriod.slice(0, query.limit);
    const last = entries[entries.length - 1];
    await this.audit.accessed(request, { view: 'consent-history', subjectId, caseIds, categories: [] });
    return {
      subjectId,
      caseIds,
      entries,
      ...(inPeriod.length > query.limit && last ? { next: { cursor: last.position } } : {}),
    };
  }

  /**
   * Records the oversight body's finding on a break-glass access, once: on its
   * own stream, first write wins; a second review (also a concurrent one) is a 409.
   */
  async review(
    context: CommandContext,
    accessEventId: string,
    input: { finding: ReviewFinding; note?: string },
    options: CommandOptions = {},
  ): Promise<{ accessEventId: string; finding: ReviewFinding } & CommandResult> {
    const actor = context.actor;
    if (!actor) throw new Error('a review needs an authenticated actor');
    await this.requireOversight(
      { actor, purpose: undefined, requestId: context.requestId, now: context.now },
      { view: 'break-glass-review' },
    );
    const result = await this.executor.execute<AccessReviewed, ReviewState>({
      stream: accessReviewStream(accessEventId),
      evolve: (state, event) => breakGlassDecider.evolve(state, event),
      initialState: () => breakGlassDecider.initialState(),
      decide: async (state) => {
        const access = await this.breakGlassAccess(accessEventId);
        // The note is sealed under the subject's key, as the justification it reviews: a code can spell a name.
        const sealedNote =
          input.note !== undefined && access !== undefined && state.status === 'unreviewed'
            ? await sealTextFor(this.keys, access.subjectId, input.note)
            : undefined;
        return breakGlassDecider.decide(
          {
            type: 'ReviewAccess',
            data: {
              accessEventId,
              access,
              finding: input.finding,
              ...(sealedNote !== undefined ? { sealedNote } : {}),
            },
            metadata: { actor, now: context.now, requestId: context.requestId },
          },
          state,
        );
      },
      context,
      ids: new RequestIds(context, options.idempotency),
    });
    return { accessEventId, finding: input.finding, ...result };
  }

  private async logView(
    request: ReadRequest,
    view: 'access-log' | 'access-attempts' | 'denials' | 'break-glass-queue',
    query: PageRequest,
    filter: {
      types: readonly AccessLogEventType[];
      subjectId?: string;
      caseId?: string;
      agencyId?: string;
      reviewStatus?: ReviewStatus;
    },
  ): Promise<Page<OpenedAccessLogEntry>> {
    await this.requireOversight(request, { view });
    const period = periodOf(query);
    await awaitReadModel(this.store, this.readModel);
    const page = await accessLogPage(
      this.readModel.store,
      { ...filter, ...period },
      {
        limit: query.limit,
        order: 'newest-first',
        ...(query.cursor !== undefined ? { cursor: query.cursor } : {}),
      },
    );
    // A read of the audit log is audited too; what was asked is kept as the filter, not as a read of case data.
    await this.audit.append({
      type: 'RecordAccessed',
      schemaVersion: 1,
      data: {
        principalId: request.actor.principalId,
        agencyId: request.actor.agencyId,
        agencyKind: request.actor.agencyKind,
        view,
        categories: [],
        filter: { ...filter, ...period, limit: query.limit, cursor: query.cursor ?? null },
        requestId: request.requestId,
        accessedAt: request.now,
      },
    });
    return {
      entries: await openJustifications(this.keys, page.entries),
      ...(page.nextCursor !== undefined ? { next: { cursor: page.nextCursor } } : {}),
    };
  }

  private async requireOversight(
    request: ReadRequest,
    denial: { view: string; subjectId?: string },
  ): Promise<void> {
    const decision = mayOverseeAccess(request.actor);
    if (!decision.allowed) await refuse(this.audit, request, decision, denial);
  }

  /** The break-glass access with this event id, read from its own stream, or undefined. */
  private async breakGlassAccess(eventId: string): Promise<BreakGlassAccessUsed['data'] | undefined> {
    for await (const event of this.store.readStream(accessStream(eventId), { maxCount: 1 }))
      if (event.type === 'BreakGlassAccessUsed' && event.id === eventId)
        return event.data as unknown as BreakGlassAccessUsed['data'];
    return undefined;
  }
}

/** A lawful basis's justification, a guardian's reference, opened with the subject's key, or the erased mark. */
async function opened(
  keys: Pick<SubjectKeyStore, 'existingKey'>,
  entry: RecordedHistoryEntry,
): Promise<ConsentHistoryEntry> {
  const { justification, capture, ...rest } = entry;
  return {
    ...rest,
    ...(justification !== undefined ? { justification: await openTextFor(keys, justification) } : {}),
    ...(capture !== undefined ? { capture: await openedCapture(keys, capture) } : {}),
  };
}

async function openedCapture(
  keys: Pick<SubjectKeyStore, 'existingKey'>,
  capture: RecordedHistoryCapture,
): Promise<HistoryCapture> {
  const { guardianReference, ...rest } = capture;
  return guardianReference === undefined
    ? rest
    : { ...rest, guardianReference: await openTextFor(keys, guardianReference) };
}

/**
 * A history entry as recorded: a lawful basis's justification, a guardian's reference, in clear
 * (schema 1) or sealed (schema 2).
 */
type RecordedHistoryEntry = Omit<ConsentHistoryEntry, 'justification' | 'capture'> & {
  readonly justification?: string | SealedText | null;
  readonly capture?: RecordedHistoryCapture;
};
type RecordedHistoryCapture = Omit<HistoryCapture, 'guardianReference'> & {
  readonly guardianReference?: string | SealedText | null;
};

/** The capture as recorded: the guardian's reference sealed (schema 2) or in clear (schema 1). */
function recordedCapture(capture: ConsentGranted['data']['capture']): RecordedHistoryCapture {
  const { guardianReference, sealedGuardianReference, ...rest } = capture;
  return {
    ...rest,
    ...(sealedGuardianReference !== undefined
      ? { guardianReference: sealedGuardianReference }
      : guardianReference !== undefined
        ? { guardianReference }
        : {}),
  };
}

function historyEntry(caseId: string, recorded: RecordedEvent): RecordedHistoryEntry {
  const event = { type: recorded.type, data: recorded.data } as unknown as ConsentEvent;
  const base = {
    position: recorded.position,
    caseId,
    type: event.type,
    at: utcInstant(recorded.metadata.occurredAt),
    ...(recorded.metadata.principalId !== undefined
      ? { recordedByPrincipalId: recorded.metadata.principalId }
      : {}),
  };
  const scope = (d: {
    agencyIds?: readonly string[];
    categories?: readonly string[];
    purposes?: readonly string[];
  }) => ({
    ...(d.agencyIds ? { agencyIds: d.agencyIds } : {}),
    ...(d.categories ? { categories: d.categories } : {}),
    ...(d.purposes ? { purposes: d.purposes } : {}),
  });
  switch (event.type) {
    case 'ConsentGranted':
      return {
        ...base,
        recordedByAgencyId: event.data.recordedByAgencyId,
        consentId: event.data.consentId,
        scope: scope(event.data),
        expiresAt: event.data.expiresAt,
        capture: recordedCapture(event.data.capture),
      };
    case 'ConsentWithdrawn':
      return {
        ...base,
        recordedByAgencyId: event.data.withdrawnByAgencyId,
        consentId: event.data.consentId,
        whole: event.data.whole,
        scope: scope(event.data),
      };
    case 'ConsentRefused':
      return { ...base, recordedByAgencyId: event.data.recordedByAgencyId, scope: scope(event.data) };
    case 'LawfulBasisRecorded':
      return {
        ...base,
        recordedByAgencyId: event.data.recordedByAgencyId,
        lawfulBasisId: event.data.lawfulBasisId,
        basis: event.data.basis,
        justification:
          event.data.sealedJustification !== undefined
            ? event.data.sealedJustification
            : (event.data.justification ?? ''),
        scope: scope(event.data),
        ...(event.data.expiresAt !== undefined ? { expiresAt: event.data.expiresAt } : {}),
      };
    default:
      return base;
  }
}
