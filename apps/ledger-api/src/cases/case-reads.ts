import type { DenialReason, ReadBasis } from '@nrm/access';
import { AuditTrail, type ReadRequest } from '../access/audit-trail';
import { consentCovers } from '@nrm/consent';
import type { EventStore } from '@nrm/event-store';
import {
  caseAsOf,
  caseDocOf,
  caseView,
  referralIdsOfCase,
  referralsOfCase,
  type CaseAsOf,
  type ReferralDoc,
} from '@nrm/projections';
import {
  DATA_CATEGORIES,
  PURPOSES,
  basisAllowsSharing,
  instantMessage,
  parseInstant,
  type DataCategory,
  type Purpose,
  type Role,
} from '@nrm/shared-kernel';
import { ProblemException } from '../http/problem';
import { identityOf } from '../privacy/identity';
import type { SubjectKeyStore } from '@nrm/privacy';
import { CaseRecords } from '@nrm/runtime';
import { caseNotFound } from './case-parties';
import { awaitReadModel, isParty, type ReadModel } from './read-model';

const CASE_READER_ROLES: readonly Role[] = ['caseworker', 'decision-maker'];

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
  private readonly audit: AuditTrail;

  constructor(
    private readonly store: EventStore,
    private readonly readModel: ReadModel,
    private readonly keys: SubjectKeyStore,
  ) {
    this.records = new CaseRecords(store);
    this.audit = new AuditTrail(store);
  }

  /**
   * One case. With `asOf`, the case as it stood at that instant, rebuilt from
   * its events; who may see it, and which categories, is still decided now
   * (party now, consent now): a withdrawal also hides the past.
   */
  async caseView(caseId: string, request: ReadRequest, asOf?: string) {
    const view = asOf === undefined ? 'case' : 'case-as-of';
    await this.requireCaseRole(request, view, caseId);
    const purpose = await this.requirePurpose(request, view, caseId);
    const instant = asOf === undefined ? undefined : await this.requireAsOf(request, asOf, purpose, caseId);
    const head = await awaitReadModel(this.store, this.readModel);
    const current = await caseDocOf(this.readModel.store, caseId);
    if (!current || !(await isParty(this.readModel, caseId, request.actor.agencyId))) {
      await this.deny(request, view, 'not-a-party-or-unknown-case', purpose, caseId);
      // The same answer as for a case that does not exist: no agency learns of cases it has no part in.
      throw caseNotFound();
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
      // Data goes abroad on the person's consent only, never on a lawful basis alone.
      if (coverage === undefined || !basisAllowsSharing(coverage.basis, request.actor.agencyKind)) continue;
      if (coverage.basis === 'consent')
        bases.push({ category, basis: 'consent', consentId: coverage.consentId });
      else bases.push({ category, basis: 'lawful-basis', lawfulBasisId: coverage.lawfulBasisId });
    }
    if (bases.length === 0) {
      await this.deny(request, view, 'no-consent-or-lawful-basis', purpose, caseId);
      throw new ProblemException({
        status: 403,
        title: 'Not covered by consent',
        code: 'ACCESS.NOT_COVERED',
        detail:
          'No consent or recorded lawful basis currently covers any of this case’s data for your agency and this purpose.',
      });
    }
    let past: CaseAsOf | undefined;
    if (instant !== undefined) {
      const referralIds = await referralIdsOfCase(this.readModel.store, caseId);
      past = await caseAsOf(this.store, caseId, referralIds, instant, head);
      if (!past) {
        await this.deny(request, view, 'case-not-reported-as-of', purpose, caseId);
        throw new ProblemException({
          status: 404,
          title: 'Not Found',
          code: 'CASE.NOT_REPORTED_AS_OF',
          field: 'asOf',
          detail: 'The case had not been reported at asOf.',
        });
      }
    }
    const covered = bases.map((b) => b.category);
    const shownDoc = past?.doc ?? current;
    const identity =
      covered.includes('identity') || covered.includes('contact')
        ? await identityOf(this.keys, current, shownDoc)
        : undefined;
    const shown = caseView(
      shownDoc,
      past?.referrals ?? (await referralsOfCase(this.readModel.store, caseId)),
      covered,
      identity,
    );
    await this.audit.accessed(request, {
      view,
      purpose,
      caseId,
      subjectId: current.subjectId,
      categories: bases.filter((b) => b.category in shown.categories),
      ...(instant !== undefined ? { asOf: instant } : {}),
    });
    return {
      ...shown,
      purpose,
      ...(instant !== undefined ? { asOf: instant } : {}),
      // Only the categories returned: a covered category with nothing recorded is not named.
      basis: Object.fromEntries(
        bases.filter((b) => b.category in shown.categories).map((b) => [b.category, b.basis]),
      ) as Partial<Record<DataCategory, string>>,
    };
  }

  /** The cases the agency is party to, newest first, with its relation to each: no case data. */
  async myCases(request: ReadRequest, page: { limit: number; cursor?: string }) {
    const after = parseCursor(page.cursor);
    await this.requireCaseRole(request, 'my-cases');
    await awaitReadModel(this.store, this.readModel);
    const db = this.readModel.store;
    const relations = db.dialect === 'postgres' ? "string_agg(p.relation, ',')" : 'group_concat(p.relation)';
    const rows = await db.all<{ caseId: string; relations: string; reportedAt: string }>(
      `SELECT p.case_id AS "caseId", ${relations} AS relations, d.reported_at AS "reportedAt"
         FROM case_parties p JOIN case_docs d ON d.case_id = p.case_id
        WHERE p.agency_id = ? ${after ? 'AND (d.reported_at < ? OR (d.reported_at = ? AND p.case_id > ?))' : ''}
        GROUP BY p.case_id, d.reported_at ORDER BY d.reported_at DESC, p.case_id LIMIT ?`,
      [request.actor.agencyId, ...(after ? [after.time, after.time, after.id] : []), page.limit],
    );
    const cases = rows.map((r) => ({
      caseId: r.caseId,
      relations: [...new Set(r.relations.split(','))].sort(),
    }));
    await this.audit.accessed(request, {
      view: 'my-cases',
      categories: [],
      caseIds: cases.map((c) => c.caseId),
    });
    const last = rows[rows.length - 1];
    return {
      cases,
      ...(rows.length === page.limit && last
        ? { next: { cursor: `${last.reportedAt}~${last.caseId}` } }
        : {}),
    };
  }

  /**
   * The referrals the agency sends or receives, newest first: the handoff itself
   * (parties, status, times), not the case's data (no services or categories).
   */
  async myReferrals(
    request: ReadRequest,
    query: { direction: 'in' | 'out'; pending: boolean; limit: number; cursor?: string },
  ) {
    await this.requireCaseRole(request, `my-referrals-${query.direction}`);
    const after = parseCursor(query.cursor);
    await awaitReadModel(this.store, this.readModel);
    const column = query.direction === 'in' ? 'to_agency' : 'from_agency';
    const rows = await this.readModel.store.all<{ doc: string; madeAt: string }>(
      `SELECT doc, made_at AS "madeAt" FROM referral_docs
        WHERE ${column} = ?
          ${query.pending ? "AND status IN ('made', 'acknowledged', 'accepted')" : ''}
          ${after ? 'AND (made_at < ? OR (made_at = ? AND referral_id > ?))' : ''}
        ORDER BY made_at DESC, referral_id LIMIT ?`,
      [request.actor.agencyId, ...(after ? [after.time, after.time, after.id] : []), query.limit],
    );
    const referrals = rows.map((row) => {
      const r = JSON.parse(row.doc) as ReferralDoc;
      return {
        referralId: r.referralId,
        caseId: r.caseId,
        fromAgencyId: r.fromAgencyId,
        toAgencyId: r.toAgencyId,
        transnational: r.transnational,
        purpose: r.purpose,
        urgency: r.urgency,
        status: r.status,
        escalated: r.escalated,
        respondBy: r.respondBy,
        overdue:
          (r.status === 'made' || r.status === 'acknowledged') &&
          Date.parse(r.respondBy) < Date.parse(request.now),
        madeAt: r.madeAt,
        ...(r.acknowledgedAt ? { acknowledgedAt: r.acknowledgedAt } : {}),
        ...(r.acceptedAt ? { acceptedAt: r.acceptedAt } : {}),
      };
    });
    await this.audit.accessed(request, {
      view: `my-referrals-${query.direction}`,
      categories: [],
      caseIds: [...new Set(referrals.map((r) => r.caseId))],
    });
    const last = rows[rows.length - 1];
    return {
      referrals,
      ...(rows.length === query.limit && last
        ? { next: { cursor: `${last.madeAt}~${(JSON.parse(last.doc) as ReferralDoc).referralId}` } }
        : {}),
    };
  }

  /** Case data is read by those who work cases: caseworkers and decision-makers (break-glass has its own route). */
  private async requireCaseRole(request: ReadRequest, view: string, caseId?: string): Promise<void> {
    if (request.actor.roles.some((r) => CASE_READER_ROLES.includes(r))) return;
    await this.deny(request, view, 'role-not-allowed', undefined, caseId);
    throw new ProblemException({
      status: 403,
      title: 'Not allowed for your role',
      code: 'ACCESS.ROLE_NOT_ALLOWED',
      detail: 'Reading case data needs the caseworker or decision-maker role.',
    });
  }

  /** A past instant, in the form stored (UTC), or a 400 that is audited as a denial. */
  private async requireAsOf(
    request: ReadRequest,
    asOf: string,
    purpose: Purpose,
    caseId: string,
  ): Promise<string> {
    const ms = parseInstant(asOf);
    if (ms !== undefined && ms <= Date.parse(request.now)) return new Date(ms).toISOString();
    await this.deny(request, 'case-as-of', 'as-of-invalid', purpose, caseId);
    throw new ProblemException({
      status: 400,
      title: 'Invalid request',
      code: 'REQUEST.INVALID',
      field: 'asOf',
      detail: `${instantMessage('asOf')}, not later than now.`,
    });
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

  private deny(
    request: ReadRequest,
    view: string,
    reason: DenialReason,
    purpose?: Purpose,
    caseId?: string,
  ): Promise<void> {
    return this.audit.denied(request, {
      view,
      reason,
      ...(purpose ? { purpose } : {}),
      ...(caseId ? { caseId } : {}),
    });
  }
}

/** A page cursor is `<time>~<id>` of the last row: rows that share a time are neither skipped nor repeated. */
export const CURSOR_PATTERN =
  /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z~[A-Za-z0-9][A-Za-z0-9._-]{0,79}$/;

function parseCursor(cursor: string | undefined): { time: string; id: string } | undefined {
  if (cursor === undefined) return undefined;
  const at = cursor.indexOf('~');
  return { time: cursor.slice(0, at), id: cursor.slice(at + 1) };
}
