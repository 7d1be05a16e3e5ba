import { consentCovers, NO_CONTACT_KINDS, type ConsentState, type CoverageQuery } from '@nrm/consent';
import {
  DATA_CATEGORIES,
  basisAllowsSharing,
  type AgencyKind,
  type DataCategory,
  type Purpose,
  type Role,
} from '@nrm/shared-kernel';
import { mayBreakGlass, mayRequestAccessReport } from './who-may';

/**
 * The one read decision: which of a case's data categories a reader may have, and why, for a
 * purpose, at an instant. Case reads, reads as of a past instant, break-glass reads and the relay's
 * routing all ask it; none of them decides coverage itself. The subject access report asks its
 * sibling `decideSubjectReport`. Pure: the caller loads the context
 * (party or not, the consent stream folded at its latest revision) and states the instant.
 *
 * The rules, in the order they apply:
 * 1. who: a principal reads case data with the caseworker or decision-maker role; break-glass needs
 *    the break-glass role and an agency of a kind that may break the glass (`mayBreakGlass`); the
 *    relay pushes to an agency, no principal, so no role applies;
 * 2. party: the reader's agency is party to the case, else the case does not exist for it;
 * 3. per category: break-glass covers every category. Otherwise the person's consent, or a recorded
 *    lawful basis, must name the agency, the category and the purpose at `at` (`consentCovers`: a
 *    withdrawn grant never covers, nor an expired one, and a record never covers the agency that
 *    recorded it; consent is preferred over a lawful basis);
 * 4. abroad (a foreign contact point, or an agency whose kind is not known): on the person's
 *    consent only, never on a lawful basis (`basisAllowsSharing`). Special categories
 *    (`SENSITIVE_CATEGORIES`) go abroad only on consent given in writing or through a guardian: a
 *    consent that names a foreign agency for them was refused when recorded unless it was
 *    (CONSENT.FOREIGN_NEEDS_WRITTEN), and a lawful basis never covers abroad, so no other consent
 *    reaches this rule (read-decision.unit.spec.ts holds the two together).
 */

/** Who reads: a principal through the API, or an agency the relay pushes a case's events to. */
export type Reader =
  | {
      readonly via: 'principal';
      readonly agencyId: string;
      readonly agencyKind: AgencyKind;
      readonly roles: readonly Role[];
    }
  | {
      readonly via: 'relay';
      readonly agencyId: string;
      /** Undefined while the relay has not seen the agency's kind: treated as abroad. */
      readonly agencyKind: AgencyKind | undefined;
    };

export interface ReadQuestion {
  readonly reader: Reader;
  /** `consent` (the default): the categories consent or a lawful basis covers; `break-glass`: all, beyond consent. */
  readonly mode?: 'consent' | 'break-glass';
  readonly purpose: Purpose;
  /** Whether the reader's agency is party to the case, in any relation. */
  readonly party: boolean;
  /** The case's consent stream, folded at its latest revision. */
  readonly consent: ConsentState;
  /** ISO-8601 instant of the read (an unreadable one covers nothing). */
  readonly at: string;
  /** Only these categories are weighed (the relay's candidates); all by default. */
  readonly categories?: Iterable<DataCategory>;
}

/** Why one category is not allowed. */
export type CategoryRefusal =
  /** No consent or lawful basis names this agency, category and purpose at this instant. */
  | 'not-covered'
  /** Only records the reader's own agency made would cover it: a record never covers its recorder. */
  | 'own-record'
  /** Only a lawful basis covers it, and the reader is abroad (or of a kind not known). */
  | 'lawful-basis-not-abroad';

/** Why one category is allowed, or why not. */
export type CategoryGround =
  | {
      readonly category: DataCategory;
      readonly allowed: true;
      readonly basis: 'consent';
      readonly consentId: string;
    }
  | {
      readonly category: DataCategory;
      readonly allowed: true;
      readonly basis: 'lawful-basis';
      readonly lawfulBasisId: string;
    }
  | { readonly category: DataCategory; readonly allowed: true; readonly basis: 'break-glass' }
  | { readonly category: DataCategory; readonly allowed: false; readonly refusal: CategoryRefusal };

export type AllowedGround = Extract<CategoryGround, { allowed: true }>;

/** Why the whole read is refused (the reason its `AccessDenied` records). */
export type ReadRefusal =
  | 'role-not-allowed'
  | 'break-glass-role-required'
  | 'break-glass-not-for-agency-kind'
  | 'not-a-party-or-unknown-case'
  | 'no-consent-or-lawful-basis';

export type ReadDecision =
  | {
      readonly allowed: true;
      /** The allowed categories, in `DATA_CATEGORIES` order, each with its ground. */
      readonly allowedGrounds: readonly AllowedGround[];
      /** Every category weighed, allowed or not. */
      readonly grounds: readonly CategoryGround[];
    }
  | {
      readonly allowed: false;
      readonly refusal: ReadRefusal;
      /** The categories weighed before the refusal (none when it came before coverage). */
      readonly grounds: readonly CategoryGround[];
    };

/** Whose principals read case data on consent: those who work cases (break-glass has its own role). */
export const CASE_READER_ROLES: readonly Role[] = ['caseworker', 'decision-maker'];

/**
 * The first rule alone (who), for a pipeline that refuses before it loads anything: the same
 * answer `decideRead` gives for this reader, whatever the case.
 */
export function readerRefusal(
  reader: Reader,
  mode: ReadQuestion['mode'] = 'consent',
):
  | Extract<ReadRefusal, 'role-not-allowed' | 'break-glass-role-required' | 'break-glass-not-for-agency-kind'>
  | undefined {
  if (mode === 'break-glass') {
    if (reader.via !== 'principal') return 'break-glass-role-required';
    const gate = mayBreakGlass(reader);
    return gate.allowed
      ? undefined
      : (gate.reason as 'break-glass-role-required' | 'break-glass-not-for-agency-kind');
  }
  if (reader.via === 'principal' && !reader.roles.some((r) => CASE_READER_ROLES.includes(r)))
    return 'role-not-allowed';
  return undefined;
}

export function decideRead(question: ReadQuestion): ReadDecision {
  const mode = question.mode ?? 'consent';
  const who = readerRefusal(question.reader, mode);
  if (who !== undefined) return { allowed: false, refusal: who, grounds: [] };
  if (!question.party) return { allowed: false, refusal: 'not-a-party-or-unknown-case', grounds: [] };
  const weighed = question.categories === undefined ? DATA_CATEGORIES : inOrder(question.categories);
  const grounds = weighed.map((category) =>
    mode === 'break-glass'
      ? ({ category, allowed: true, basis: 'break-glass' } as const)
      : categoryGround(question, category),
  );
  const allowedGrounds = grounds.filter((g): g is AllowedGround => g.allowed);
  if (allowedGrounds.length === 0 && weighed.length > 0)
    return { allowed: false, refusal: 'no-consent-or-lawful-basis', grounds };
  return { allowed: true, allowedGrounds, grounds };
}

/** Why a subject access report is refused (the reason its `AccessDenied` records). */
export type ReportRefusal = 'access-report-not-for-role-or-kind' | 'not-a-party-or-unknown-subject';

/**
 * The subject access report (who read the person's data), decided in the order of a case read: who
 * (a caseworker of an agency that assists people, `mayRequestAccessReport`), then standing: the
 * reader's agency is in direct contact with the person in one of the subject's cases (it reported
 * it, supports the person, or received them through a completed handoff), the standing that
 * records their consent, so never an agency of a kind that records none (`NO_CONTACT_KINDS`).
 * Being party is not enough: a contact point abroad merely addressed by a referral would learn
 * which shelter holds the person. It returns no case data, so no category is
 * weighed.
 */
export function decideSubjectReport(question: {
  readonly reader: Extract<Reader, { via: 'principal' }>;
  /** Whether the reader's agency is in direct contact with the person in one of the subject's cases. */
  readonly inContact: boolean;
}): { readonly allowed: true } | { readonly allowed: false; readonly refusal: ReportRefusal } {
  const who = mayRequestAccessReport(question.reader);
  if (!who.allowed) return { allowed: false, refusal: 'access-report-not-for-role-or-kind' };
  // The report's standing is the consent's (rule 7): an agency that never records the person's
  // consent (a contact point abroad, even one that received them through a handoff) asks through
  // the domestic agency in contact, and learns no more than of an unknown subject.
  if (!question.inContact || NO_CONTACT_KINDS.includes(question.reader.agencyKind))
    return { allowed: false, refusal: 'not-a-party-or-unknown-subject' };
  return { allowed: true };
}

function categoryGround(question: ReadQuestion, category: DataCategory): CategoryGround {
  const query: CoverageQuery = {
    agencyId: question.reader.agencyId,
    category,
    purpose: question.purpose,
    at: question.at,
  };
  const coverage = consentCovers(question.consent, query);
  if (coverage === undefined)
    return {
      category,
      allowed: false,
      refusal: coveredByOwnRecord(question.consent, query) ? 'own-record' : 'not-covered',
    };
  if (!basisAllowsSharing(coverage.basis, question.reader.agencyKind))
    return { category, allowed: false, refusal: 'lawful-basis-not-abroad' };
  return coverage.basis === 'consent'
    ? { category, allowed: true, basis: 'consent', consentId: coverage.consentId }
    : { category, allowed: true, basis: 'lawful-basis', lawfulBasisId: coverage.lawfulBasisId };
}

/**
 * Whether the agency's own records would cover the query, were a record to cover its recorder: only
 * to say why a category is refused, never to allow one.
 */
function coveredByOwnRecord(consent: ConsentState, query: CoverageQuery): boolean {
  if (consent.status !== 'recorded') return false;
  const own = <R extends { readonly recordedByAgencyId: string }>(records: Readonly<Record<string, R>>) =>
    Object.fromEntries(
      Object.entries(records)
        .filter(([, r]) => r.recordedByAgencyId === query.agencyId)
        // Named as recorded by no agency, so that the coverage rule weighs them.
        .map(([id, r]) => [id, { ...r, recordedByAgencyId: '' }]),
    );
  const consents = own(consent.consents);
  const lawfulBases = own(consent.lawfulBases);
  if (Object.keys(consents).length === 0 && Object.keys(lawfulBases).length === 0) return false;
  return consentCovers({ ...consent, consents, lawfulBases }, query) !== undefined;
}

function inOrder(categories: Iterable<DataCategory>): DataCategory[] {
  const wanted = new Set(categories);
  return DATA_CATEGORIES.filter((c) => wanted.has(c));
}
