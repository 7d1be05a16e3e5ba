import { accessStream, type AccessAuditEvent, type DenialReason, type ReadBasis } from '@nrm/access';
import { consentCovers } from '@nrm/consent';
import type { EventStore, NewEvent } from '@nrm/event-store';
import { caseView, type CaseDoc, type ReferralDoc } from '@nrm/projections';
import { DATA_CATEGORIES, PURPOSES, type Actor, type DataCategory, type Purpose } from '@nrm/shared-kernel';
import type Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { ProblemException } from '../http/problem';
import { CaseRecords } from './case-records';

/** What queries need of the projector: its tables, and proof that it has caught up. */
export interface ReadModel {
  readonly db: Database.Database;
  waitFor(position: number, timeoutMs: number): Promise<boolean>;
}

export interface ReadRequest {
  readonly actor: Actor;
  readonly purpose: string | undefined;
  readonly requestId: string;
  readonly now: string;
}

const CAUGHT_UP_TIMEOUT_MS = 2000;

/**
 * Reads of case data. One place decides: the agency must be party to the case,
 * and each data category must be covered, for that agency and the declared
 * purpose, by a consent or lawful basis read from the consent stream at its
 * latest revision (so a withdrawal counts on the very next read). Every read and
 * every denial is appended as an audit event before the answer leaves; if that
 * append fails, so does the read.
 */
export class CaseReads {
  private readonly records: CaseRecords;

  constructor(
    private readonly store: EventStore,
    private readonly readModel: ReadModel,
  ) {
    this.records = new CaseRecords(store);
  }

  async caseView(caseId: string, request: ReadRequest) {
    const purpose = await this.requirePurpose(request, 'case', caseId);
    await this.caughtUp();
    const doc = this.caseDoc(caseId);
    if (!doc || !this.isParty(caseId, request.actor.agencyId)) {
      await this.deny(request, 'case', 'not-a-party-or-unknown-case', purpose, caseId);
      // The same answer as for a case that does not exist: no agency learns of cases it has no part in.
      throw notFound();
    }
    const consent = await this.records.consent(caseId);
    const bases: ReadBasis[] = [];
    for (const category of DATA_CATEGORIES) {
      const coverage = consentCovers(consent, {
        agencyId: request.actor.agencyId,
        category,
        purpose,
        at: request.now,
      });
      if (coverage?.basis === 'consent')
        bases.push({ category, basis: 'consent', consentId: coverage.consentId });
      else if (coverage?.basis === 'lawful-basis')
        bases.push({ category, basis: 'lawful-basis', lawfulBasisId: coverage.lawfulBasisId });
    }
    if (bases.length === 0) {
      await this.deny(request, 'case', 'no-consent-or-lawful-basis', purpose, caseId);
      throw new ProblemException({
        status: 403,
        title: 'Not covered by consent',
        code: 'ACCESS.NOT_COVERED',
        detail:
          'No consent or recorded lawful basis currently covers any of this case’s data for your agency and this purpose.',
      });
    }
    const view = caseView(
      doc,
      this.referralsOf(caseId),
      bases.map((b) => b.category),
    );
    await this.audit({
      type: 'RecordAccessed',
      schemaVersion: 1,
      data: {
        ...who(request),
        caseId,
        subjectId: doc.subjectId,
        view: 'case',
        purpose,
        categories: bases.filter((b) => b.category in view.categories),
        requestId: request.requestId,
        accessedAt: request.now,
      },
    });
    return {
      ...view,
      purpose,
      basis: Object.fromEntries(bases.map((b) => [b.category, b.basis])) as Partial<
        Record<DataCategory, string>
      >,
    };
  }

  /** The cases the agency is party to, newest first, with its relation to each: no case data. */
  async myCases(request: ReadRequest, page: { limit: number; before?: string }) {
    await this.caughtUp();
    const rows = this.readModel.db
      .prepare(
        `SELECT p.case_id AS caseId, group_concat(p.relation) AS relations, d.reported_at AS reportedAt
           FROM case_parties p JOIN case_docs d ON d.case_id = p.case_id
          WHERE p.agency_id = ? AND (? IS NULL OR d.reported_at < ?)
          GROUP BY p.case_id ORDER BY d.reported_at DESC, p.case_id LIMIT ?`,
      )
      .all(request.actor.agencyId, page.before ?? null, page.before ?? null, page.limit) as Array<{
      caseId: string;
      relations: string;
      reportedAt: string;
    }>;
    const cases = rows.map((r) => ({
      caseId: r.caseId,
      relations: [...new Set(r.relations.split(','))].sort(),
    }));
    await this.audit({
      type: 'RecordAccessed',
      schemaVersion: 1,
      data: {
        ...who(request),
        view: 'my-cases',
        categories: [],
        caseIds: cases.map((c) => c.caseId),
        requestId: request.requestId,
        accessedAt: request.now,
      },
    });
    const last = rows[rows.length - 1];
    return { cases, ...(rows.length === page.limit && last ? { next: { before: last.reportedAt } } : {}) };
  }

  private async requirePurpose(request: ReadRequest, view: string, caseId?: string): Promise<Purpose> {
    if (request.purpose !== undefined && (PURPOSES as readonly string[]).includes(request.purpose))
      return request.purpose as Purpose;
    await this.deny(request, view, 'purpose-missing-or-unknown', undefined, caseId);
    throw new ProblemException({
      status: 400,
      title: 'Invalid request',
      code: 'REQUEST.PURPOSE_REQUIRED',
      field: 'X-Purpose',
      detail: `Declare why you read this case: X-Purpose must be one of ${PURPOSES.join(', ')}.`,
    });
  }

  /** Queries answer only once the read model has applied everything stored before the request. */
  private async caughtUp(): Promise<void> {
    const head = await this.store.headPosition();
    if (await this.readModel.waitFor(head, CAUGHT_UP_TIMEOUT_MS)) return;
    throw new ProblemException({
      status: 503,
      title: 'Read model behind',
      code: 'READ_MODEL.BEHIND',
      detail: 'The read model has not caught up with the latest records; try again shortly.',
      retryAfterSeconds: 1,
    });
  }

  private caseDoc(caseId: string): CaseDoc | undefined {
    const row = this.readModel.db.prepare('SELECT doc FROM case_docs WHERE case_id = ?').get(caseId) as
      { doc: string } | undefined;
    return row ? (JSON.parse(row.doc) as CaseDoc) : undefined;
  }

  private isParty(caseId: string, agencyId: string): boolean {
    return (
      this.readModel.db
        .prepare('SELECT 1 FROM case_parties WHERE case_id = ? AND agency_id = ? LIMIT 1')
        .get(caseId, agencyId) !== undefined
    );
  }

  private referralsOf(caseId: string): ReferralDoc[] {
    const rows = this.readModel.db
      .prepare('SELECT doc FROM referral_docs WHERE case_id = ? ORDER BY made_at, referral_id')
      .all(caseId) as Array<{ doc: string }>;
    return rows.map((r) => JSON.parse(r.doc) as ReferralDoc);
  }

  private async deny(
    request: ReadRequest,
    view: string,
    reason: DenialReason,
    purpose?: Purpose,
    caseId?: string,
  ): Promise<void> {
    await this.audit({
      type: 'AccessDenied',
      schemaVersion: 1,
      data: {
        ...who(request),
        ...(caseId ? { caseId } : {}),
        view,
        ...(purpose ? { purpose } : {}),
        reason,
        requestId: request.requestId,
        deniedAt: request.now,
      },
    });
  }

  /** Appends the audit event; an audit that cannot be stored fails the read (fail closed). */
  private async audit(event: AccessAuditEvent): Promise<void> {
    const id = randomUUID();
    const record: NewEvent = {
      id,
      type: event.type,
      schemaVersion: event.schemaVersion,
      data: JSON.parse(JSON.stringify(event.data)) as NewEvent['data'],
      metadata: {
        correlationId: event.data.requestId,
        principalId: event.data.principalId,
        agencyId: event.data.agencyId,
        occurredAt: 'accessedAt' in event.data ? event.data.accessedAt : event.data.deniedAt,
      },
    };
    try {
      await this.store.append(accessStream(id), [record], { expectedRevision: 'no-stream' });
    } catch {
      throw new ProblemException({
        status: 503,
        title: 'Audit unavailable',
        code: 'AUDIT.UNAVAILABLE',
        detail: 'The read could not be recorded in the audit trail, so it was not served.',
        retryAfterSeconds: 1,
      });
    }
  }
}

function who(request: ReadRequest) {
  return {
    principalId: request.actor.principalId,
    agencyId: request.actor.agencyId,
    agencyKind: request.actor.agencyKind,
  };
}

function notFound(): ProblemException {
  return new ProblemException({
    status: 404,
    title: 'Not Found',
    code: 'CASE.NOT_FOUND',
    field: 'caseId',
    detail: 'No case with this id is known to your agency.',
  });
}
