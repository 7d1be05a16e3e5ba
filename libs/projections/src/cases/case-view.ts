import type { DataCategory } from '@nrm/shared-kernel';
import type { CaseDoc, ReferralDoc } from './case-directory';

/** Opened identity data, as the reader may see it (libs/privacy opens it), or the mark of an erased subject. */
export interface OpenedIdentity {
  readonly fullName?: string;
  readonly birthDate?: string;
  readonly nationality?: string;
  readonly contact?: string;
  readonly notes?: string;
}
export type IdentityPart = OpenedIdentity | 'erased';

function identityParts(identity: IdentityPart | undefined): Partial<Record<DataCategory, unknown>> {
  if (identity === undefined) return {};
  if (identity === 'erased') return { identity: { erased: true }, contact: { erased: true } };
  const { contact, ...who } = identity;
  return {
    ...(Object.keys(who).length > 0 ? { identity: who } : {}),
    ...(contact !== undefined ? { contact: { contact } } : {}),
  };
}

/** The parts of a case each data category covers. Categories with nothing recorded yet have no part. */
export function caseDataByCategory(
  doc: CaseDoc,
  referrals: readonly ReferralDoc[],
  identity?: IdentityPart,
): Partial<Record<DataCategory, unknown>> {
  return {
    ...identityParts(identity),
    'case-status': {
      reportedAt: doc.reportedAt,
      reportedByAgencyId: doc.reportedByAgencyId,
      region: doc.region,
      minor: doc.minor,
      identificationStatus: doc.identification.status,
      ...(doc.identification.reasonableGrounds
        ? { reasonableGrounds: doc.identification.reasonableGrounds }
        : {}),
      ...(doc.identification.conclusiveGrounds
        ? { conclusiveGrounds: doc.identification.conclusiveGrounds }
        : {}),
      supportStatus: doc.support.status,
      ...(doc.support.outcome ? { supportOutcome: doc.support.outcome } : {}),
      ...(doc.support.reflection ? { reflectionPeriod: doc.support.reflection } : {}),
      referrals: referrals.map((r) => ({
        ...referralSummary(r),
        ...(r.declinedAt ? { declinedAt: r.declinedAt, declineReason: r.declineReason } : {}),
        ...(r.completedAt ? { completedAt: r.completedAt } : {}),
        ...(r.withdrawnAt ? { withdrawnAt: r.withdrawnAt } : {}),
      })),
    },
    exploitation: {
      indicators: doc.identification.indicators,
      exploitationForms: doc.identification.exploitationForms,
      ...(doc.identification.indicatorsOutcome
        ? { indicatorsOutcome: doc.identification.indicatorsOutcome }
        : {}),
    },
    'support-needs': {
      ...(doc.support.plan ? { supportPlan: doc.support.plan } : {}),
      servicesProvided: doc.support.servicesProvided,
      servicesRequested: referrals.map((r) => ({ referralId: r.referralId, services: r.servicesRequested })),
    },
  };
}

/** Only the covered categories' parts: an uncovered category is absent, not null. */
/** What every list of referrals shows of one: who to whom, for what, how urgent, where it stands. */
export function referralSummary(r: ReferralDoc) {
  return {
    referralId: r.referralId,
    fromAgencyId: r.fromAgencyId,
    toAgencyId: r.toAgencyId,
    transnational: r.transnational,
    purpose: r.purpose,
    urgency: r.urgency,
    status: r.status,
    escalated: r.escalated,
    respondBy: r.respondBy,
    madeAt: r.madeAt,
    ...(r.acknowledgedAt ? { acknowledgedAt: r.acknowledgedAt } : {}),
    ...(r.acceptedAt ? { acceptedAt: r.acceptedAt } : {}),
  };
}

export function caseView(
  doc: CaseDoc,
  referrals: readonly ReferralDoc[],
  covered: readonly DataCategory[],
  identity?: IdentityPart,
): { caseId: string; categories: Partial<Record<DataCategory, unknown>> } {
  const all = caseDataByCategory(doc, referrals, identity);
  const categories: Partial<Record<DataCategory, unknown>> = {};
  for (const category of covered) {
    const part = all[category];
    if (part !== undefined) categories[category] = part;
  }
  return { caseId: doc.caseId, categories };
}
