import { consentStream } from '@nrm/consent';
import { decideSubjectReport, mayRequestAccessReport } from '@nrm/access';
import type { EventStore } from '@nrm/event-store';
import { accessLogPage, casesOfSubject, isInContact } from '@nrm/projections';
import type { SubjectKeyStore } from '@nrm/privacy';
import { AuditTrail, type ReadRequest } from '../access/audit-trail';
import { awaitReadModel, type ReadModel } from '@nrm/runtime';
import { ProblemException } from '../http/problem';
import { reportEntry, type AccessReport, type AgencyNames } from './access-report';
import { periodOf, recordDenial, refuse } from './audited-read';
import { openJustifications } from './opened-text';

const VIEW = 'subject-access-report';

/** The agencies as the registry knows them now (names may change; ids do not). */
export interface AgencyDirectory {
  /** Brings the registry up to date first: an agency registered a moment ago has a name too. */
  refresh(): Promise<void>;
  readonly names: AgencyNames;
}

/**
 * The subject access report (Victims' Rights Directive; rule 6): who accessed
 * one person's data and when, on which basis, break-glass accesses with their
 * review included, requested by a caseworker of an agency assisting the person.
 * The request itself is audited; an agency that does not assist the person
 * gets the same 404 as for an unknown subject.
 */
export class AccessReports {
  private readonly audit: AuditTrail;

  constructor(
    private readonly store: EventStore,
    private readonly readModel: ReadModel,
    private readonly agencies: AgencyDirectory,
    /** Opens the break-glass justifications, sealed under the subject's key. */
    private readonly keys: SubjectKeyStore,
  ) {
    this.audit = new AuditTrail(store);
  }

  async report(
    request: ReadRequest,
    subjectId: string,
    query: { limit: number; cursor?: number; from?: string; to?: string },
  ): Promise<AccessReport> {
    // Who may ask is the decision's first rule, asked before anything is loaded.
    const gate = mayRequestAccessReport(request.actor);
    if (!gate.allowed) await refuse(this.audit, request, gate, { view: VIEW, subjectId });
    const period = periodOf(query);
    await awaitReadModel(this.store, this.readModel);
    const caseIds = await casesOfSubject(this.readModel.store, subjectId);
    const decision = decideSubjectReport({
      reader: { via: 'principal', ...request.actor },
      inContact: await this.inContactInAny(caseIds, request.actor.agencyId),
    });
    if (!decision.allowed) {
      await recordDenial(this.audit, request, {
        view: VIEW,
        reason: decision.refusal,
        subjectId,
      });
      throw new ProblemException({
        status: 404,
        title: 'Not Found',
        code: 'SUBJECT.NOT_FOUND',
        field: 'subjectId',
        detail: 'No person with this id is assisted by your agency.',
      });
    }
    const page = await accessLogPage(
      this.readModel.store,
      { types: ['RecordAccessed', 'BreakGlassAccessUsed'], subjectId, ...period },
      {
        limit: query.limit,
        order: 'oldest-first',
        ...(query.cursor !== undefined ? { cursor: query.cursor } : {}),
      },
    );
    await this.agencies.refresh();
    const names = this.agencies.names;
    const report: AccessReport = {
      subjectId,
      generatedAt: request.now,
      requestedBy: {
        agencyId: request.actor.agencyId,
        agencyName: names(request.actor.agencyId)?.name ?? null,
      },
      period,
      caseIds,
      ...(await this.consentLanguage(caseIds)),
      accesses: (await openJustifications(this.keys, page.entries)).map((e) => reportEntry(e, names)),
      ...(page.nextCursor !== undefined ? { next: { cursor: page.nextCursor } } : {}),
    };
    await this.audit.accessed(request, { view: VIEW, subjectId, caseIds, categories: [] });
    return report;
  }

  /** The capture language of the person's latest consent, read from the consent streams. */
  private async consentLanguage(caseIds: readonly string[]): Promise<{ consentLanguage?: string }> {
    let latest: { at: string; language: string } | undefined;
    for (const caseId of caseIds)
      for await (const e of this.store.readStream(consentStream(caseId))) {
        if (e.type !== 'ConsentGranted') continue;
        const language = (e.data.capture as { language?: unknown } | undefined)?.language;
        if (typeof language === 'string' && (!latest || e.recordedAt >= latest.at))
          latest = { at: e.recordedAt, language };
      }
    return latest ? { consentLanguage: latest.language } : {};
  }

  private async inContactInAny(caseIds: readonly string[], agencyId: string): Promise<boolean> {
    for (const caseId of caseIds) if (await isInContact(this.readModel.store, caseId, agencyId)) return true;
    return false;
  }
}
