import type { IdentificationEvent } from '@nrm/identification';
import type { ReferralEvent } from '@nrm/referral';
import type { SupportEvent } from '@nrm/support';
import type {
  AgencyKind,
  DataCategory,
  ExploitationForm,
  Purpose,
  SupportServiceType,
} from '@nrm/shared-kernel';
import type { Projection } from '../projection';
import type { SqlRunner } from '../store/read-model-store';

/** What the ledger knows of one case, as a read model: codes and dates, never identity data. */
export interface CaseDoc {
  caseId: string;
  subjectId: string;
  reportedByAgencyId: string;
  reportedAt: string;
  region: string;
  minor: boolean;
  identification: {
    status: string;
    indicators: string[];
    exploitationForms: ExploitationForm[];
    indicatorsOutcome?: string;
    reasonableGrounds?: { outcome: string; decidedAt: string; decidedByAgencyId: string };
    conclusiveGrounds?: { outcome: string; decidedAt: string; decidedByAgencyId: string };
    reconsideredAt?: string;
  };
  support: {
    status: 'open' | 'closed';
    outcome?: string;
    reflection?: {
      status: 'active' | 'ended';
      startsOn: string;
      endsOn: string;
      days: number;
      endedOn?: string;
      endReason?: string;
    };
    plan?: { planId: string; services: SupportServiceType[]; reviewOn: string; agreedAt: string };
    servicesProvided: Array<{
      serviceType: SupportServiceType;
      providedOn: string;
      providedByAgencyId: string;
    }>;
  };
}

export interface ReferralDoc {
  referralId: string;
  caseId: string;
  fromAgencyId: string;
  toAgencyId: string;
  toAgencyKind: AgencyKind;
  transnational: boolean;
  purpose: Purpose;
  urgency: string;
  respondBy: string;
  servicesRequested: SupportServiceType[];
  sharedCategories: DataCategory[];
  status: 'made' | 'acknowledged' | 'accepted' | 'declined' | 'completed' | 'withdrawn';
  escalated: boolean;
  madeAt: string;
  acknowledgedAt?: string;
  acceptedAt?: string;
  declinedAt?: string;
  declineReason?: string;
  completedAt?: string;
  withdrawnAt?: string;
  withdrawReason?: string;
  escalatedAt?: string;
}

/** A referral's document as made. */
export function referralDocOf(event: Extract<ReferralEvent, { type: 'ReferralMade' }>): ReferralDoc {
  const d = event.data;
  return {
    referralId: d.referralId,
    caseId: d.caseId,
    fromAgencyId: d.fromAgencyId,
    toAgencyId: d.toAgencyId,
    toAgencyKind: d.toAgencyKind,
    transnational: d.transnational,
    purpose: d.purpose,
    urgency: d.urgency,
    respondBy: d.respondBy,
    servicesRequested: [...d.servicesRequested],
    sharedCategories: [...d.sharedCategories],
    status: 'made',
    escalated: false,
    madeAt: d.madeAt,
  };
}

/**
 * Applies a later referral event to its document, in place. One function for the
 * case directory and for folds of the past (the coordinator's `?asOf=` board).
 */
export function evolveReferralDoc(
  doc: ReferralDoc,
  event: Exclude<ReferralEvent, { type: 'ReferralMade' }>,
): void {
  switch (event.type) {
    case 'ReferralAcknowledged':
      doc.status = 'acknowledged';
      doc.acknowledgedAt = event.data.acknowledgedAt;
      return;
    case 'ReferralAccepted':
      doc.status = 'accepted';
      doc.acceptedAt = event.data.acceptedAt;
      return;
    case 'ReferralDeclined':
      doc.status = 'declined';
      doc.declinedAt = event.data.declinedAt;
      doc.declineReason = event.data.reason;
      return;
    case 'HandoffCompleted':
      doc.status = 'completed';
      doc.completedAt = event.data.completedAt;
      return;
    case 'ReferralWithdrawn':
      doc.status = 'withdrawn';
      doc.withdrawnAt = event.data.withdrawnAt;
      doc.withdrawReason = event.data.reason;
      return;
    case 'ReferralEscalated':
      doc.escalated = true;
      doc.escalatedAt = event.data.escalatedAt;
      return;
  }
}

/** How an agency is party to a case: the only way it may see the case at all. */
export type CaseRelation =
  'reporter' | 'referral-sender' | 'referral-receiver' | 'support-provider' | 'decision-maker';

type CaseEvent = IdentificationEvent | ReferralEvent | SupportEvent;

export const CASE_DIRECTORY_EVENT_TYPES = [
  'PotentialVictimReported',
  'IndicatorsAssessed',
  'ReasonableGroundsDecided',
  'ConclusiveGroundsDecided',
  'IdentificationReconsidered',
  'ReferralMade',
  'ReferralAcknowledged',
  'ReferralAccepted',
  'ReferralDeclined',
  'HandoffCompleted',
  'ReferralWithdrawn',
  'ReferralEscalated',
  'ReflectionPeriodStarted',
  'ReflectionPeriodExtended',
  'ReflectionPeriodEnded',
  'SupportPlanAgreed',
  'SupportServiceProvided',
  'SupportCaseClosed',
] as const satisfies readonly CaseEvent['type'][];

/**
 * The case directory: one document per case and per referral, and who is party
 * to which case. Queries filter it by consent at read time; it holds no identity data.
 */
export const caseDirectory: Projection = {
  name: 'case-directory',
  version: 1,
  eventTypes: CASE_DIRECTORY_EVENT_TYPES,

  async setUp(tx) {
    await tx.exec(`
      CREATE TABLE case_docs (case_id TEXT PRIMARY KEY, doc TEXT NOT NULL, reported_at TEXT NOT NULL) WITHOUT ROWID;
      CREATE TABLE case_parties (
        case_id TEXT NOT NULL, agency_id TEXT NOT NULL, relation TEXT NOT NULL, since TEXT NOT NULL,
        PRIMARY KEY (agency_id, case_id, relation)) WITHOUT ROWID;
      CREATE INDEX case_parties_by_case ON case_parties (case_id);
      CREATE TABLE referral_docs (
        referral_id TEXT PRIMARY KEY, case_id TEXT NOT NULL, from_agency TEXT NOT NULL, to_agency TEXT NOT NULL,
        status TEXT NOT NULL, made_at TEXT NOT NULL, doc TEXT NOT NULL) WITHOUT ROWID;
      CREATE INDEX referral_docs_by_case ON referral_docs (case_id);
    `);
  },

  async tearDown(tx) {
    await tx.exec(
      'DROP TABLE IF EXISTS case_docs; DROP TABLE IF EXISTS case_parties; DROP TABLE IF EXISTS referral_docs;',
    );
  },

  async apply(db, recorded) {
    const event = { type: recorded.type, data: recorded.data } as unknown as CaseEvent;
    const at = recorded.metadata.occurredAt;
    switch (event.type) {
      case 'PotentialVictimReported': {
        const d = event.data;
        const doc: CaseDoc = {
          caseId: d.caseId,
          subjectId: d.subjectId,
          reportedByAgencyId: d.reportedByAgencyId,
          reportedAt: d.reportedAt,
          region: d.region,
          minor: d.minor,
          identification: {
            status: 'reported',
            indicators: [...d.indicators],
            exploitationForms: [...d.exploitationForms],
          },
          support: { status: 'open', servicesProvided: [] },
        };
        await db.run(
          `INSERT INTO case_docs (case_id, doc, reported_at) VALUES (?, ?, ?)
           ON CONFLICT (case_id) DO UPDATE SET doc = excluded.doc, reported_at = excluded.reported_at`,
          [d.caseId, JSON.stringify(doc), d.reportedAt],
        );
        await party(db, d.caseId, d.reportedByAgencyId, 'reporter', at);
        return;
      }
      case 'IndicatorsAssessed':
        return await updateCase(db, event.data.caseId, (doc) => {
          doc.identification.status = 'indicators-assessed';
          doc.identification.indicatorsOutcome = event.data.outcome;
          doc.identification.exploitationForms = [...event.data.exploitationForms];
        });
      case 'ReasonableGroundsDecided':
        await party(db, event.data.caseId, event.data.decidedByAgencyId, 'decision-maker', at);
        return await updateCase(db, event.data.caseId, (doc) => {
          doc.identification.status = `reasonable-grounds-${event.data.outcome}`;
          doc.identification.reasonableGrounds = {
            outcome: event.data.outcome,
            decidedAt: event.data.decidedAt,
            decidedByAgencyId: event.data.decidedByAgencyId,
          };
        });
      case 'ConclusiveGroundsDecided':
        await party(db, event.data.caseId, event.data.decidedByAgencyId, 'decision-maker', at);
        return await updateCase(db, event.data.caseId, (doc) => {
          doc.identification.status = `conclusive-grounds-${event.data.outcome}`;
          doc.identification.conclusiveGrounds = {
            outcome: event.data.outcome,
            decidedAt: event.data.decidedAt,
            decidedByAgencyId: event.data.decidedByAgencyId,
          };
        });
      case 'IdentificationReconsidered':
        return await updateCase(db, event.data.caseId, (doc) => {
          doc.identification.status = 'indicators-assessed';
          doc.identification.reconsideredAt = event.data.reconsideredAt;
          delete doc.identification.reasonableGrounds;
          delete doc.identification.conclusiveGrounds;
        });
      case 'ReferralMade': {
        const d = event.data;
        const doc = referralDocOf(event);
        await db.run(
          `INSERT INTO referral_docs (referral_id, case_id, from_agency, to_agency, status, made_at, doc)
           VALUES (?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (referral_id) DO UPDATE SET case_id = excluded.case_id, from_agency = excluded.from_agency,
             to_agency = excluded.to_agency, status = excluded.status, made_at = excluded.made_at, doc = excluded.doc`,
          [d.referralId, d.caseId, d.fromAgencyId, d.toAgencyId, 'made', d.madeAt, JSON.stringify(doc)],
        );
        await party(db, d.caseId, d.fromAgencyId, 'referral-sender', at);
        await party(db, d.caseId, d.toAgencyId, 'referral-receiver', at);
        return;
      }
      case 'ReferralAcknowledged':
      case 'ReferralAccepted':
      case 'ReferralDeclined':
      case 'HandoffCompleted':
      case 'ReferralWithdrawn':
      case 'ReferralEscalated':
        return await updateReferral(db, event.data.referralId, (r) => evolveReferralDoc(r, event));
      case 'ReflectionPeriodStarted':
        await party(db, event.data.caseId, event.data.startedByAgencyId, 'support-provider', at);
        return await updateCase(db, event.data.caseId, (doc) => {
          doc.support.reflection = {
            status: 'active',
            startsOn: event.data.startsOn,
            endsOn: event.data.endsOn,
            days: event.data.days,
          };
        });
      case 'ReflectionPeriodExtended':
        return await updateCase(db, event.data.caseId, (doc) => {
          if (!doc.support.reflection) return;
          doc.support.reflection.endsOn = event.data.endsOn;
          doc.support.reflection.days += event.data.additionalDays;
        });
      case 'ReflectionPeriodEnded':
        return await updateCase(db, event.data.caseId, (doc) => {
          if (!doc.support.reflection) return;
          doc.support.reflection.status = 'ended';
          doc.support.reflection.endedOn = event.data.endedOn;
          doc.support.reflection.endReason = event.data.reason;
        });
      case 'SupportPlanAgreed':
        await party(db, event.data.caseId, event.data.agreedByAgencyId, 'support-provider', at);
        return await updateCase(db, event.data.caseId, (doc) => {
          doc.support.plan = {
            planId: event.data.planId,
            services: [...event.data.services],
            reviewOn: event.data.reviewOn,
            agreedAt: event.data.agreedAt,
          };
        });
      case 'SupportServiceProvided':
        await party(db, event.data.caseId, event.data.providedByAgencyId, 'support-provider', at);
        return await updateCase(db, event.data.caseId, (doc) => {
          doc.support.servicesProvided.push({
            serviceType: event.data.serviceType,
            providedOn: event.data.providedOn,
            providedByAgencyId: event.data.providedByAgencyId,
          });
        });
      case 'SupportCaseClosed':
        return await updateCase(db, event.data.caseId, (doc) => {
          doc.support.status = 'closed';
          doc.support.outcome = event.data.outcome;
        });
      default:
        return;
    }
  },
};

async function party(
  db: SqlRunner,
  caseId: string,
  agencyId: string,
  relation: CaseRelation,
  since: string,
): Promise<void> {
  await db.run(
    `INSERT INTO case_parties (case_id, agency_id, relation, since) VALUES (?, ?, ?, ?)
     ON CONFLICT (agency_id, case_id, relation) DO NOTHING`,
    [caseId, agencyId, relation, since],
  );
}

async function updateCase(db: SqlRunner, caseId: string, change: (doc: CaseDoc) => void): Promise<void> {
  const row = await db.get<{ doc: string }>('SELECT doc FROM case_docs WHERE case_id = ?', [caseId]);
  if (!row) return; // a support or identification event of a case never reported: nothing to show
  const doc = JSON.parse(row.doc) as CaseDoc;
  change(doc);
  await db.run('UPDATE case_docs SET doc = ? WHERE case_id = ?', [JSON.stringify(doc), caseId]);
}

async function updateReferral(
  db: SqlRunner,
  referralId: string,
  change: (doc: ReferralDoc) => void,
): Promise<void> {
  const row = await db.get<{ doc: string }>('SELECT doc FROM referral_docs WHERE referral_id = ?', [
    referralId,
  ]);
  if (!row) return;
  const doc = JSON.parse(row.doc) as ReferralDoc;
  change(doc);
  await db.run('UPDATE referral_docs SET doc = ?, status = ? WHERE referral_id = ?', [
    JSON.stringify(doc),
    doc.status,
    referralId,
  ]);
}
