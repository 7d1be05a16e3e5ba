import type { Actor, AgencyKind } from '@nrm/shared-kernel';

/**
 * Who may use the oversight views, break-glass and the subject access report:
 * decided here, and only here, by agency kind and role.
 */

/** Why a request is refused, as recorded in its `AccessDenied` event. */
export const OVERSIGHT_DENIAL_REASONS = [
  'oversight-only',
  'break-glass-role-required',
  'break-glass-not-for-agency-kind',
  'break-glass-request-invalid',
  'access-report-not-for-role-or-kind',
  'not-a-party-or-unknown-subject',
  'unknown-subject',
] as const;
export type OversightDenialReason = (typeof OVERSIGHT_DENIAL_REASONS)[number];

export type AccessDecision =
  | { readonly allowed: true }
  | {
      readonly allowed: false;
      /** The stable code of the 403 answer. */
      readonly code: string;
      readonly reason: OversightDenialReason;
      readonly detail: string;
    };

type Who = Pick<Actor, 'agencyKind' | 'roles'>;

const ALLOWED: AccessDecision = { allowed: true };

/** The access log, denials, break-glass queue and reviews, consent histories: the oversight body's principals with role `oversight`. */
export function mayOverseeAccess(actor: Who): AccessDecision {
  if (actor.agencyKind === 'oversight-body' && actor.roles.includes('oversight')) return ALLOWED;
  return {
    allowed: false,
    code: 'OVERSIGHT.ONLY',
    reason: 'oversight-only',
    detail: 'Only a principal with the oversight role in the oversight body may use this view.',
  };
}

/**
 * The agencies whose principals may break the glass on a case they are party
 * to. Not a foreign contact point (data leaves the country on consent only,
 * never beyond it), not the coordinator (no case data at all), not the oversight
 * body (it reviews break-glass accesses; it does not make them).
 */
export const BREAK_GLASS_AGENCY_KINDS: readonly AgencyKind[] = [
  'law-enforcement',
  'health',
  'ngo',
  'shelter',
  'asylum-authority',
  'labour-inspectorate',
  'social-services',
];

/**
 * Break-glass lifts the consent gate only: the principal needs the `break-glass`
 * role, an agency of a kind in `BREAK_GLASS_AGENCY_KINDS`, and (checked against
 * the case directory by the caller) its agency must be party to the case. An
 * agency with no part in a case gets the same 404 as for a missing case.
 */
export function mayBreakGlass(actor: Who): AccessDecision {
  if (!actor.roles.includes('break-glass'))
    return {
      allowed: false,
      code: 'ACCESS.BREAK_GLASS_ROLE_REQUIRED',
      reason: 'break-glass-role-required',
      detail: 'Reading beyond consent needs the break-glass role.',
    };
  if (!BREAK_GLASS_AGENCY_KINDS.includes(actor.agencyKind))
    return {
      allowed: false,
      code: 'ACCESS.BREAK_GLASS_NOT_FOR_AGENCY_KIND',
      reason: 'break-glass-not-for-agency-kind',
      detail: `Break-glass reads are open to agencies of kind ${BREAK_GLASS_AGENCY_KINDS.join(', ')} only.`,
    };
  return ALLOWED;
}

/** Agencies that never assist a person directly, so never request a report for one. */
const NOT_ASSISTING_KINDS: readonly AgencyKind[] = ['national-coordinator', 'oversight-body'];

/**
 * A subject access report is requested through an assisting agency by a
 * caseworker; whether that agency is in contact with this subject is `decideSubjectReport`'s.
 */
export function mayRequestAccessReport(actor: Who): AccessDecision {
  if (actor.roles.includes('caseworker') && !NOT_ASSISTING_KINDS.includes(actor.agencyKind)) return ALLOWED;
  return {
    allowed: false,
    code: 'ACCESS.REPORT_CASEWORKER_ONLY',
    reason: 'access-report-not-for-role-or-kind',
    detail: 'A subject access report is requested by a caseworker of an agency assisting the person.',
  };
}

/**
 * The one place that decides who sees the coordinator's views: a principal with
 * the `coordinator` role, acting for the national coordinator. Either alone is
 * not enough (a caseworker of the coordinator's office, or a `coordinator` role
 * given by mistake to a principal of another agency).
 */
export function mayCoordinate(actor: Who): boolean {
  return actor.agencyKind === 'national-coordinator' && actor.roles.includes('coordinator');
}
