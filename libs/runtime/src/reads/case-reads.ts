import {
  AuditTrail,
  decideRead,
  readerRefusal,
  type AllowedGround,
  type DenialReason,
  type ReadBasis,
  type ReadDecision,
  type ReadRequest,
  type Reader,
} from '@nrm/access';
import { consentDecider, type ConsentState } from '@nrm/consent';
import type { EventStore } from '@nrm/event-store';
import {
  caseAsOf,
  caseDocOf,
  caseView,
  casesOfAgency,
  pageCursor,
  parsePageCursor,
  referralIdsOfCase,
  referralsOfAgency,
  referralsOfCase,
  referralSummary,
  type CaseAsOf,
  type CaseDoc,
} from '@nrm/projections';
import {
  PURPOSES,
  caseNotFound,
  forbidden,
  instantMessage,
  invalid,
  notFound,
  parseInstant,
  type Actor,
  type DataCategory,
  type Purpose,
} from '@nrm/shared-kernel';
import { identityOf, type SubjectKeyStore } from '@nrm/privacy';
import { receiverStanding } from '@nrm/referral';
import { CaseRecords } from '../case-records';
import { ConsentStateCache } from '../consent-state-cache';
import { awaitReadModel, CASE_DIRECTORY_USED, isParty, type ReadModel } from './read-model';

/** What a case read decides on, loaded once: the read model's position, the case, party or not, its consent. */
interface CaseReadContext {
  /** The store position the read model covers. */
  readonly head: number;
  readonly doc: CaseDoc | undefined;
  readonly party: boolean;
  /** The consent stream at its latest revision (so a withdrawal counts on the very next read); empty for a non-party. */
  readonly consent: ConsentState;
}

/**
 * Reads of case data. The read decision (`decideRead`, libs/access) decides: the
 * agency must be party to the case, and each data category must be covered, for
 * that agency and the declared purpose, by a consent or lawful basis. Every read
 * and every denial is appended as an audit event before the answer leaves; if
 * that append fails, so does the read.
 */
export class CaseReads {
  private readonly records: CaseRecords;
  private readonly audit: AuditTrail;

  constructor(
    private readonly store: EventStore,
    private readonly readModel: ReadModel,
    private readonly keys: SubjectKeyStore,
  ) {
    this.records = new CaseRecords(store, new ConsentStateCache(store));
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
    const context = await this.context(caseId, request.actor);
    const decision = decideRead({
      reader: readerOf(request.actor),
      purpose,
      party: context.party,
      consent: context.consent,
      at: request.now,
    });
    const grounds = await this.requireAllowed(request, view, purpose, caseId, decision);
    const shown = await this.view(caseId, request, purpose, context, grounds, instant);
    const returned = grounds.filter((g) => g.category in shown.categories).map(readBasis);
    await this.audit.accessed(request, {
      view,
      purpose,
      caseId,
      subjectId: context.doc!.subjectId,
      categories: returned,
      ...(instant !== undefined ? { asOf: instant } : {}),
    });
    return {
      ...shown,
      purpose,
      ...(instant !== undefined ? { asOf: instant } : {}),
      // Only the categories returned: a covered category with nothing recorded is not named.
      basis: Object.fromEntries(returned.map((b) => [b.category, b.basis])) as Partial<
        Record<DataCategory, string>
      >,
    };
  }

  /** Loads what the read decision needs, once, after the read model has caught up. */
  private async context(caseId: string, actor: Actor): Promise<CaseReadContext> {
    const head = await awaitReadModel(this.store, this.readModel, CASE_DIRECTORY_USED);
    const doc = await caseDocOf(this.readModel.store, caseId);
    const party = doc !== undefined && (await isParty(this.readModel, caseId, actor.agencyId));
    // The consent stream is read only for a party: a non-party learns nothing, not even by timing a store read.
    const consent = party ? await this.records.consent(caseId) : consentDecider.initialState();
    return { head, doc, party, consent };
  }

  /** The allowed categories with their grounds, or the decision's refusal, audited, as the answer. */
  private async requireAllowed(
    request: ReadRequest,
    view: string,
    purpose: Purpose,
    caseId: string,
    decision: ReadDecision,
  ): Promise<readonly AllowedGround[]> {
    if (decision.allowed) return decision.allowedGrounds;
    await this.deny(request, view, decision.refusal, purpose, caseId);
    if (decision.refusal === 'no-consent-or-lawful-basis')
      throw forbidden(
        'ACCESS.NOT_COVERED',
        'No consent or recorded lawful basis currently covers any of this case’s data for your agency and this purpose.',
        undefined,
        { title: 'Not covered by consent' },
      );
    // The same answer as for a case that does not exist: no agency learns of cases it has no part in.
    throw caseNotFound();
  }

  /** The case (now, or as it stood at `instant`) cut to the allowed categories. */
  private async view(
    caseId: string,
    request: ReadRequest,
    purpose: Purpose,
    context: CaseReadContext,
    grounds: readonly AllowedGround[],
    instant: string | undefined,
  ) {
    const current = context.doc!;
    let past: CaseAsOf | undefined;
    if (instant !== undefined) {
      const referralIds = await referralIdsOfCase(this.readModel.store, caseId);
      past = await caseAsOf(this.store, caseId, referralIds, instant, context.head);
      if (!past) {
        await this.deny(request, 'case-as-of', 'case-not-reported-as-of', purpose, caseId);
        throw notFound('CASE.NOT_REPORTED_AS_OF', 'The case had not been reported at asOf.', 'asOf');
      }
    }
    const covered = grounds.map((g) => g.category);
    const shownDoc = past?.doc ?? current;
    const identity =
      covered.includes('identity') || covered.includes('contact')
        ? await identityOf(this.keys, current, shownDoc)
        : undefined;
    return caseView(
      shownDoc,
      past?.referrals ?? (await referralsOfCase(this.readModel.store, caseId)),
      covered,
      identity,
    );
  }

  /** The cases the agency is party to, newest first, with its relation to each: no case data. */
  async myCases(request: ReadRequest, page: { limit: number; cursor?: string }) {
    const after = parseCursor(page.cursor);
    await this.requireCaseRole(request, 'my-cases');
    await awaitReadModel(this.store, this.readModel);
    const rows = await casesOfAgency(this.readModel.store, request.actor.agencyId, {
      limit: page.limit,
      ...(after ? { after } : {}),
    });
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
        ? { next: { cursor: pageCursor({ time: last.reportedAt, id: last.caseId }) } }
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
    await awaitReadModel(this.store, this.readModel, CASE_DIRECTORY_USED);
    const rows = await referralsOfAgency(this.readModel.store, request.actor.agencyId, {
      direction: query.direction,
      pending: query.pending,
      limit: query.limit,
      ...(after ? { after } : {}),
    });
    const referrals = rows.map((row) => {
      const r = row.doc;
      // A referral declined, or withdrawn before it was accepted, gave its receiver no standing: the
      // receiver learns that it ended, never which case it was about (that case answers it as unknown).
      const standing = query.direction === 'out' || receiverStanding(r) !== 'none';
      return {
        ...referralSummary(r),
        ...(standing ? { caseId: r.caseId } : {}),
        overdue:
          (r.status === 'made' || r.status === 'acknowledged') &&
          Date.parse(r.respondBy) < Date.parse(request.now),
      };
    });
    await this.audit.accessed(request, {
      view: `my-referrals-${query.direction}`,
      categories: [],
      caseIds: [...new Set(referrals.flatMap((r) => (r.caseId !== undefined ? [r.caseId] : [])))],
    });
    const last = rows[rows.length - 1];
    return {
      referrals,
      ...(rows.length === query.limit && last
        ? { next: { cursor: pageCursor({ time: last.madeAt, id: last.doc.referralId }) } }
        : {}),
    };
  }

  /** Case data is read by those who work cases: caseworkers and decision-makers (break-glass has its own route). */
  private async requireCaseRole(request: ReadRequest, view: string, caseId?: string): Promise<void> {
    const refusal = readerRefusal(readerOf(request.actor));
    if (refusal === undefined) return;
    await this.deny(request, view, refusal, undefined, caseId);
    throw forbidden(
      'ACCESS.ROLE_NOT_ALLOWED',
      'Reading case data needs the caseworker or decision-maker role.',
      undefined,
      { title: 'Not allowed for your role' },
    );
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
    throw invalid('REQUEST.INVALID', `${instantMessage('asOf')}, not later than now.`, 'asOf');
  }

  private async requirePurpose(request: ReadRequest, view: string, caseId?: string): Promise<Purpose> {
    if (request.purpose !== undefined && (PURPOSES as readonly string[]).includes(request.purpose))
      return request.purpose as Purpose;
    await this.deny(request, view, 'purpose-missing-or-unknown', undefined, caseId);
    throw invalid(
      'REQUEST.PURPOSE_REQUIRED',
      `Declare why you read this case: X-Purpose must be one of ${PURPOSES.join(', ')}.`,
      'X-Purpose',
    );
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

/** A principal reading through the API, as the read decision sees it. */
function readerOf(actor: Actor): Reader {
  return { via: 'principal', agencyId: actor.agencyId, agencyKind: actor.agencyKind, roles: actor.roles };
}

/** An allowed ground as the audit records it: the category and its basis (break-glass is recorded apart). */
function readBasis(ground: AllowedGround): ReadBasis {
  if (ground.basis === 'consent')
    return { category: ground.category, basis: 'consent', consentId: ground.consentId };
  if (ground.basis === 'lawful-basis')
    return { category: ground.category, basis: 'lawful-basis', lawfulBasisId: ground.lawfulBasisId };
  throw new Error('a break-glass ground is recorded as BreakGlassAccessUsed, not as a consent read');
}

/** The position of a cursor a previous page gave (opaque, libs/projections), or a 400 naming the field. */
function parseCursor(cursor: string | undefined): { time: string; id: string } | undefined {
  if (cursor === undefined) return undefined;
  const after = parsePageCursor(cursor);
  if (after) return after;
  throw invalid('REQUEST.INVALID', 'cursor must be the next.cursor of a previous page', 'cursor');
}
