import type { IdentificationEvent } from '@nrm/identification';
import { receiverStanding, statusAfter, type ReferralEvent } from '@nrm/referral';
import type { SupportEvent } from '@nrm/support';
import type {
  AgencyKind,
  SealedIdentity,
  DataCategory,
  ExploitationForm,
  Purpose,
  SupportServiceType,
} from '@nrm/shared-kernel';
import type { RecordedEvent } from '@nrm/event-store';
import type { Projection } from '../projection';
import type { SqlRunner, SqlValue } from '../store/read-model-store';

/** What the ledger knows of one case, as a read model: codes and dates, never identity data. */
export interface CaseDoc {
  caseId: string;
  subjectId: string;
  reportedByAgencyId: string;
  reportedAt: string;
  region: string;
  minor: boolean;
  /** Identity data, sealed under the subject's key: opened at read time, for those it is covered for. */
  identity?: SealedIdentity;
  /** The subject was erased: its sealed identity is gone from here, and its key destroyed. */
  erased?: boolean;
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
  // The referral lifecycle table guards the step and names the status after it (libs/referral):
  // an event the table does not allow leaves the document as it is, as in the decider's evolve.
  const next = statusAfter(doc.status, event.type);
  if (next === undefined || next === 'none') return;
  doc.status = next;
  switch (event.type) {
    case 'ReferralAcknowledged':
      doc.acknowledgedAt = event.data.acknowledgedAt;
      return;
    case 'ReferralAccepted':
      doc.acceptedAt = event.data.acceptedAt;
      return;
    case 'ReferralDeclined':
      doc.declinedAt = event.data.declinedAt;
      doc.declineReason = event.data.reason;
      return;
    case 'HandoffCompleted':
      doc.completedAt = event.data.completedAt;
      return;
    case 'ReferralWithdrawn':
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
  | 'reporter'
  | 'referral-sender'
  | 'referral-receiver'
  | 'support-provider'
  | 'decision-maker'
  | 'designated-authority';

type CaseEvent = IdentificationEvent | ReferralEvent | SupportEvent;

export const CASE_DIRECTORY_EVENT_TYPES = [
  'PotentialVictimReported',
  'IndicatorsAssessed',
  'ReasonableGroundsDecided',
  'ConclusiveGroundsDecided',
  'IdentificationReconsidered',
  'CompetentAuthorityDesignated',
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
  'SubjectErased',
] as const satisfies readonly (CaseEvent['type'] | 'SubjectErased')[];

/**
 * The case directory: one document per case and per referral, and who is party
 * to which case. Queries filter it by consent at read time; it holds no identity data.
 */
export const caseDirectory: Projection = {
  name: 'case-directory',
  // 3: a grounds decision no longer makes its decision-maker party to the case.
  // 4: a competent authority designated by the national coordinator is party to the case.
  // 5: rowid tables with unique UUID keys; indexes by referral sender and receiver.
  // 6: each party row holds its case's reported_at, indexed by agency: GET /cases reads a range, no sort.
  // 7: a referral declined, or withdrawn before it was accepted, leaves its receiver no
  //    `referral-receiver` row (unless another referral to it still gives standing: `receiverStanding`).
  version: 7,
  eventTypes: CASE_DIRECTORY_EVENT_TYPES,

  async setUp(tx) {
    // Rowid tables (SQLite numbers rows in insertion order, so a replay appends to their B-trees)
    // with the random UUID keys as unique constraints beside them, rather than WITHOUT ROWID tables
    // keyed by UUID, in which every insert lands at a random place among whole documents.
    await tx.exec(`
      CREATE TABLE case_docs (
        case_id TEXT NOT NULL UNIQUE, subject_id TEXT NOT NULL, doc TEXT NOT NULL, reported_at TEXT NOT NULL);
      CREATE TABLE case_parties (
        case_id TEXT NOT NULL, agency_id TEXT NOT NULL, relation TEXT NOT NULL, since TEXT NOT NULL,
        reported_at TEXT NOT NULL DEFAULT '', PRIMARY KEY (agency_id, case_id, relation)) WITHOUT ROWID;
      CREATE TABLE referral_docs (
        referral_id TEXT NOT NULL UNIQUE, case_id TEXT NOT NULL, from_agency TEXT NOT NULL, to_agency TEXT NOT NULL,
        status TEXT NOT NULL, made_at TEXT NOT NULL, doc TEXT NOT NULL);
    `);
  },

  async createIndexes(tx) {
    // Built after a rebuild's bulk load; `apply` needs none of them (it reads by the unique keys).
    // The referral indexes answer GET /referrals?direction=in|out in their order, newest first;
    // case_parties_by_agency answers GET /cases the same way (newest reported first, then by id).
    await tx.exec(`
      CREATE INDEX IF NOT EXISTS case_docs_by_subject ON case_docs (subject_id);
      CREATE INDEX IF NOT EXISTS case_parties_by_case ON case_parties (case_id);
      CREATE INDEX IF NOT EXISTS case_parties_by_agency ON case_parties (agency_id, reported_at DESC, case_id);
      CREATE INDEX IF NOT EXISTS referral_docs_by_case ON referral_docs (case_id);
      CREATE INDEX IF NOT EXISTS referral_docs_by_receiver ON referral_docs (to_agency, made_at DESC, referral_id);
      CREATE INDEX IF NOT EXISTS referral_docs_by_sender ON referral_docs (from_agency, made_at DESC, referral_id);
    `);
  },

  async tearDown(tx) {
    await tx.exec(
      'DROP TABLE IF EXISTS case_docs; DROP TABLE IF EXISTS case_parties; DROP TABLE IF EXISTS referral_docs;',
    );
  },

  apply(tx, recorded) {
    return applyTo(directWriter(tx), recorded);
  },

  async applyBatch(tx, events) {
    const writer = batchWriter(tx);
    for (const event of events) await applyTo(writer, event);
    await writer.flush();
  },
};

/** The directory's reaction to one event, written through `w` (row by row, or cached for a batch). */
async function applyTo(w: DirectoryWriter, recorded: RecordedEvent): Promise<void> {
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
        ...(d.identity !== undefined ? { identity: d.identity } : {}),
      };
      await w.putCase(doc);
      await w.party(d.caseId, d.reportedByAgencyId, 'reporter', at);
      return;
    }
    case 'IndicatorsAssessed':
      return await w.updateCase(event.data.caseId, (doc) => {
        doc.identification.status = 'indicators-assessed';
        doc.identification.indicatorsOutcome = event.data.outcome;
        doc.identification.exploitationForms = [...event.data.exploitationForms];
      });
    case 'ReasonableGroundsDecided':
      await w.alsoAs(event.data.caseId, event.data.decidedByAgencyId, 'decision-maker', at);
      return await w.updateCase(event.data.caseId, (doc) => {
        doc.identification.status = `reasonable-grounds-${event.data.outcome}`;
        doc.identification.reasonableGrounds = {
          outcome: event.data.outcome,
          decidedAt: event.data.decidedAt,
          decidedByAgencyId: event.data.decidedByAgencyId,
        };
      });
    case 'ConclusiveGroundsDecided':
      await w.alsoAs(event.data.caseId, event.data.decidedByAgencyId, 'decision-maker', at);
      return await w.updateCase(event.data.caseId, (doc) => {
        doc.identification.status = `conclusive-grounds-${event.data.outcome}`;
        doc.identification.conclusiveGrounds = {
          outcome: event.data.outcome,
          decidedAt: event.data.decidedAt,
          decidedByAgencyId: event.data.decidedByAgencyId,
        };
      });
    case 'IdentificationReconsidered':
      return await w.updateCase(event.data.caseId, (doc) => {
        doc.identification.status = 'indicators-assessed';
        doc.identification.reconsideredAt = event.data.reconsideredAt;
        delete doc.identification.reasonableGrounds;
        delete doc.identification.conclusiveGrounds;
      });
    case 'CompetentAuthorityDesignated':
      // Seized of the case by the coordinator's designation, and party to it as a referral's receiver is.
      return await w.party(event.data.caseId, event.data.authorityId, 'designated-authority', at);
    case 'ReferralMade': {
      const d = event.data;
      const doc = referralDocOf(event);
      await w.putReferral(doc);
      await w.party(d.caseId, d.fromAgencyId, 'referral-sender', at);
      await w.party(d.caseId, d.toAgencyId, 'referral-receiver', at);
      return;
    }
    case 'ReferralAcknowledged':
    case 'ReferralAccepted':
    case 'HandoffCompleted':
    case 'ReferralEscalated':
      return void (await w.updateReferral(event.data.referralId, (r) => evolveReferralDoc(r, event)));
    case 'ReferralDeclined':
    case 'ReferralWithdrawn': {
      const doc = await w.updateReferral(event.data.referralId, (r) => evolveReferralDoc(r, event));
      if (!doc || receiverStanding(doc) !== 'none') return;
      // The receiver stays party as such only while one of the case's referrals to it gives standing.
      const referrals = await w.referralsTo(doc.caseId, doc.toAgencyId);
      if (!referrals.some((r) => receiverStanding(r) !== 'none'))
        await w.dropParty(doc.caseId, doc.toAgencyId, 'referral-receiver');
      return;
    }
    case 'ReflectionPeriodStarted':
      await w.party(event.data.caseId, event.data.startedByAgencyId, 'support-provider', at);
      return await w.updateCase(event.data.caseId, (doc) => {
        doc.support.reflection = {
          status: 'active',
          startsOn: event.data.startsOn,
          endsOn: event.data.endsOn,
          days: event.data.days,
        };
      });
    case 'ReflectionPeriodExtended':
      return await w.updateCase(event.data.caseId, (doc) => {
        if (!doc.support.reflection) return;
        doc.support.reflection.endsOn = event.data.endsOn;
        doc.support.reflection.days += event.data.additionalDays;
      });
    case 'ReflectionPeriodEnded':
      return await w.updateCase(event.data.caseId, (doc) => {
        if (!doc.support.reflection) return;
        doc.support.reflection.status = 'ended';
        doc.support.reflection.endedOn = event.data.endedOn;
        doc.support.reflection.endReason = event.data.reason;
      });
    case 'SupportPlanAgreed':
      await w.party(event.data.caseId, event.data.agreedByAgencyId, 'support-provider', at);
      return await w.updateCase(event.data.caseId, (doc) => {
        doc.support.plan = {
          planId: event.data.planId,
          services: [...event.data.services],
          reviewOn: event.data.reviewOn,
          agreedAt: event.data.agreedAt,
        };
      });
    case 'SupportServiceProvided':
      await w.party(event.data.caseId, event.data.providedByAgencyId, 'support-provider', at);
      return await w.updateCase(event.data.caseId, (doc) => {
        doc.support.servicesProvided.push({
          serviceType: event.data.serviceType,
          providedOn: event.data.providedOn,
          providedByAgencyId: event.data.providedByAgencyId,
        });
      });
    case 'SupportCaseClosed':
      return await w.updateCase(event.data.caseId, (doc) => {
        doc.support.status = 'closed';
        doc.support.outcome = event.data.outcome;
      });
    default:
      if (recorded.type === 'SubjectErased') {
        const { subjectId } = recorded.data as { subjectId: string };
        for (const caseId of await w.casesOfSubject(subjectId))
          await w.updateCase(caseId, (doc) => {
            delete doc.identity;
            doc.erased = true;
          });
      }
      return;
  }
}

/** How the directory writes: row by row (`apply`), or through a cache flushed once per batch (`applyBatch`). */
interface DirectoryWriter {
  putCase(doc: CaseDoc): Promise<void>;
  casesOfSubject(subjectId: string): Promise<string[]>;
  updateCase(caseId: string, change: (doc: CaseDoc) => void): Promise<void>;
  putReferral(doc: ReferralDoc): Promise<void>;
  /** The referral after `change`, or undefined for a referral never made. */
  updateReferral(referralId: string, change: (doc: ReferralDoc) => void): Promise<ReferralDoc | undefined>;
  /** A case's referrals addressed to an agency, as they stand now. */
  referralsTo(caseId: string, agencyId: string): Promise<ReferralDoc[]>;
  party(caseId: string, agencyId: string, relation: CaseRelation, since: string): Promise<void>;
  /** Removes one relation of an agency to a case (a receiver left with no standing). */
  dropParty(caseId: string, agencyId: string, relation: CaseRelation): Promise<void>;
  /**
   * Adds a relation only for an agency already party to the case: a grounds decision names its
   * decision-maker, but never makes an agency party by itself (rule 7).
   */
  alsoAs(caseId: string, agencyId: string, relation: CaseRelation, since: string): Promise<void>;
}

const CASE_RELATIONS: readonly CaseRelation[] = [
  'reporter',
  'referral-sender',
  'referral-receiver',
  'support-provider',
  'decision-maker',
  'designated-authority',
];

async function storedParty(tx: SqlRunner, caseId: string, agencyId: string): Promise<boolean> {
  const row = await tx.get(
    'SELECT 1 AS party FROM case_parties WHERE case_id = ? AND agency_id = ? LIMIT 1',
    [caseId, agencyId],
  );
  return row !== undefined;
}

async function storedRelations(tx: SqlRunner, caseId: string, agencyId: string): Promise<CaseRelation[]> {
  const rows = await tx.all<{ relation: CaseRelation }>(
    'SELECT relation FROM case_parties WHERE case_id = ? AND agency_id = ?',
    [caseId, agencyId],
  );
  return rows.map((r) => r.relation);
}

async function storedReferralsTo(tx: SqlRunner, caseId: string, agencyId: string): Promise<ReferralDoc[]> {
  const rows = await tx.all<{ doc: string }>(
    'SELECT doc FROM referral_docs WHERE case_id = ? AND to_agency = ?',
    [caseId, agencyId],
  );
  return rows.map((r) => JSON.parse(r.doc) as ReferralDoc);
}

const UPSERT_CASE = `INSERT INTO case_docs (case_id, subject_id, doc, reported_at) VALUES (?, ?, ?, ?)
  ON CONFLICT (case_id) DO UPDATE SET subject_id = excluded.subject_id, doc = excluded.doc,
    reported_at = excluded.reported_at`;
const UPSERT_REFERRAL = `INSERT INTO referral_docs (referral_id, case_id, from_agency, to_agency, status, made_at, doc)
  VALUES (?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT (referral_id) DO UPDATE SET case_id = excluded.case_id, from_agency = excluded.from_agency,
    to_agency = excluded.to_agency, status = excluded.status, made_at = excluded.made_at, doc = excluded.doc`;
const INSERT_PARTY = `INSERT INTO case_parties (case_id, agency_id, relation, since, reported_at)
  VALUES (?, ?, ?, ?, ?) ON CONFLICT (agency_id, case_id, relation) DO NOTHING`;
const DELETE_PARTY = 'DELETE FROM case_parties WHERE agency_id = ? AND case_id = ? AND relation = ?';

const caseRow = (doc: CaseDoc): SqlValue[] => [
  doc.caseId,
  doc.subjectId,
  JSON.stringify(doc),
  doc.reportedAt,
];
const writeCase = (tx: SqlRunner, doc: CaseDoc) => tx.run(UPSERT_CASE, caseRow(doc));

/** Rows per multi-row statement in a batch's flush. */
const ROWS_PER_STATEMENT = 64;

/**
 * Runs `statement` (an `INSERT ... VALUES (?, ...) ON CONFLICT ...` of one row) for every row, in
 * statements of `ROWS_PER_STATEMENT` rows and then one by one for the rest: two prepared
 * statements per table, whatever the number of rows. The rows' keys must be distinct.
 */
async function writeRows(
  tx: SqlRunner,
  statement: string,
  rows: readonly (readonly SqlValue[])[],
): Promise<void> {
  let i = 0;
  if (rows.length >= ROWS_PER_STATEMENT) {
    const many = multiRow(statement, ROWS_PER_STATEMENT);
    for (; i + ROWS_PER_STATEMENT <= rows.length; i += ROWS_PER_STATEMENT)
      await tx.run(many, rows.slice(i, i + ROWS_PER_STATEMENT).flat());
  }
  for (; i < rows.length; i++) await tx.run(statement, rows[i]);
}

const multiRowCache = new Map<string, string>();
/** The same statement with `count` rows of placeholders after VALUES. */
function multiRow(statement: string, count: number): string {
  const key = `${count}\u0000${statement}`;
  let sql = multiRowCache.get(key);
  if (sql === undefined) {
    const match = /VALUES\s*(\([?,\s]+\))/.exec(statement);
    if (!match) throw new Error('a multi-row statement needs one VALUES (?, ...) row');
    const rows = Array.from({ length: count }, () => match[1]).join(', ');
    sql = statement.replace(match[0], `VALUES ${rows}`);
    multiRowCache.set(key, sql);
  }
  return sql;
}

async function storedCasesOf(tx: SqlRunner, subjectId: string): Promise<string[]> {
  const rows = await tx.all<{ case_id: string }>('SELECT case_id FROM case_docs WHERE subject_id = ?', [
    subjectId,
  ]);
  return rows.map((r) => r.case_id);
}
const referralRow = (doc: ReferralDoc): SqlValue[] => [
  doc.referralId,
  doc.caseId,
  doc.fromAgencyId,
  doc.toAgencyId,
  doc.status,
  doc.madeAt,
  JSON.stringify(doc),
];
const writeReferral = (tx: SqlRunner, doc: ReferralDoc) => tx.run(UPSERT_REFERRAL, referralRow(doc));

async function loadCase(tx: SqlRunner, caseId: string): Promise<CaseDoc | undefined> {
  const row = await tx.get<{ doc: string }>('SELECT doc FROM case_docs WHERE case_id = ?', [caseId]);
  return row ? (JSON.parse(row.doc) as CaseDoc) : undefined;
}

/** When a case was reported, as its party rows hold it: '' for a case never reported (not listed). */
async function reportedAtOf(tx: SqlRunner, caseId: string): Promise<string> {
  const row = await tx.get<{ reportedAt: string }>(
    'SELECT reported_at AS "reportedAt" FROM case_docs WHERE case_id = ?',
    [caseId],
  );
  return row?.reportedAt ?? '';
}

async function loadReferral(tx: SqlRunner, referralId: string): Promise<ReferralDoc | undefined> {
  const row = await tx.get<{ doc: string }>('SELECT doc FROM referral_docs WHERE referral_id = ?', [
    referralId,
  ]);
  return row ? (JSON.parse(row.doc) as ReferralDoc) : undefined;
}

function directWriter(tx: SqlRunner): DirectoryWriter {
  return {
    putCase: async (doc) => void (await writeCase(tx, doc)),
    casesOfSubject: (subjectId) => storedCasesOf(tx, subjectId),
    putReferral: async (doc) => void (await writeReferral(tx, doc)),
    async updateCase(caseId, change) {
      const doc = await loadCase(tx, caseId);
      if (!doc) return; // a support or identification event of a case never reported: nothing to show
      change(doc);
      await writeCase(tx, doc);
    },
    async updateReferral(referralId, change) {
      const doc = await loadReferral(tx, referralId);
      if (!doc) return undefined;
      change(doc);
      await writeReferral(tx, doc);
      return doc;
    },
    referralsTo: (caseId, agencyId) => storedReferralsTo(tx, caseId, agencyId),
    party: async (caseId, agencyId, relation, since) =>
      void (await tx.run(INSERT_PARTY, [caseId, agencyId, relation, since, await reportedAtOf(tx, caseId)])),
    dropParty: async (caseId, agencyId, relation) =>
      void (await tx.run(DELETE_PARTY, [agencyId, caseId, relation])),
    async alsoAs(caseId, agencyId, relation, since) {
      if (await storedParty(tx, caseId, agencyId))
        await tx.run(INSERT_PARTY, [caseId, agencyId, relation, since, await reportedAtOf(tx, caseId)]);
    },
  };
}

/**
 * Documents read at most once and written at most once per batch, whatever
 * the number of events that change them: a rebuild replays many events per
 * case. The cache lives for one call, inside the projector's transaction, so a
 * rolled-back batch leaves nothing behind.
 */
function batchWriter(tx: SqlRunner): DirectoryWriter & { flush(): Promise<void> } {
  /** `null`: known not to exist. */
  const cases = new Map<string, CaseDoc | null>();
  const referrals = new Map<string, ReferralDoc | null>();
  const dirtyCases = new Set<string>();
  const dirtyReferrals = new Set<string>();
  /** Party rows to write (`null`: dropped in this batch, and not added back since). */
  const parties = new Map<string, [string, string, CaseRelation, string, string] | null>();
  /** Keys of party rows dropped in this batch: deleted before the flush's inserts. */
  const dropped = new Map<string, [string, string, CaseRelation]>();
  const caseOf = async (caseId: string): Promise<CaseDoc | null> => {
    let doc = cases.get(caseId);
    if (doc === undefined) cases.set(caseId, (doc = (await loadCase(tx, caseId)) ?? null));
    return doc;
  };
  const referralOf = async (referralId: string): Promise<ReferralDoc | null> => {
    let doc = referrals.get(referralId);
    if (doc === undefined) referrals.set(referralId, (doc = (await loadReferral(tx, referralId)) ?? null));
    return doc;
  };
  const partyKey = (caseId: string, agencyId: string, relation: CaseRelation) =>
    `${agencyId}\u0000${caseId}\u0000${relation}`;
  const party = async (caseId: string, agencyId: string, relation: CaseRelation, since: string) => {
    // The first time in the batch wins, as ON CONFLICT DO NOTHING does row by row (after a drop,
    // the row added back is a new one, as a DELETE then INSERT row by row makes it).
    const key = partyKey(caseId, agencyId, relation);
    if (parties.get(key)) return;
    const reportedAt = (await caseOf(caseId))?.reportedAt ?? '';
    if (!parties.get(key)) parties.set(key, [caseId, agencyId, relation, since, reportedAt]);
  };
  return {
    async casesOfSubject(subjectId) {
      const found = new Set(await storedCasesOf(tx, subjectId));
      for (const [caseId, doc] of cases) if (doc?.subjectId === subjectId) found.add(caseId);
      return [...found];
    },
    putCase(doc) {
      cases.set(doc.caseId, doc);
      dirtyCases.add(doc.caseId);
      return Promise.resolve();
    },
    putReferral(doc) {
      referrals.set(doc.referralId, doc);
      dirtyReferrals.add(doc.referralId);
      return Promise.resolve();
    },
    async updateCase(caseId, change) {
      const doc = await caseOf(caseId);
      if (!doc) return;
      change(doc);
      dirtyCases.add(caseId);
    },
    async updateReferral(referralId, change) {
      const doc = await referralOf(referralId);
      if (!doc) return undefined;
      change(doc);
      dirtyReferrals.add(referralId);
      return doc;
    },
    async referralsTo(caseId, agencyId) {
      // The stored ones as this batch has them, and those the batch made.
      const found = new Map<string, ReferralDoc>();
      for (const stored of await storedReferralsTo(tx, caseId, agencyId)) {
        const cached = referrals.get(stored.referralId);
        found.set(stored.referralId, cached ?? stored);
      }
      for (const [id, doc] of referrals)
        if (doc && doc.caseId === caseId && doc.toAgencyId === agencyId) found.set(id, doc);
      return [...found.values()];
    },
    party,
    dropParty(caseId, agencyId, relation) {
      const key = partyKey(caseId, agencyId, relation);
      parties.set(key, null);
      dropped.set(key, [agencyId, caseId, relation]);
      return Promise.resolve();
    },
    async alsoAs(caseId, agencyId, relation, since) {
      const inBatch = CASE_RELATIONS.some((r) => parties.get(partyKey(caseId, agencyId, r)));
      const stored = inBatch
        ? []
        : (await storedRelations(tx, caseId, agencyId)).filter(
            (r) => !dropped.has(partyKey(caseId, agencyId, r)),
          );
      if (inBatch || stored.length > 0) await party(caseId, agencyId, relation, since);
    },
    async flush() {
      // Many rows per statement: a rebuild's batch writes tens of thousands of rows, and each
      // statement has a cost of its own. The keys are distinct within a batch (one row each).
      await writeRows(
        tx,
        UPSERT_CASE,
        [...dirtyCases].map((id) => caseRow(cases.get(id)!)),
      );
      await writeRows(
        tx,
        UPSERT_REFERRAL,
        [...dirtyReferrals].map((id) => referralRow(referrals.get(id)!)),
      );
      // Rows dropped in the batch go first: a row added back after its drop is then a new one.
      for (const [, row] of [...dropped].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
        await tx.run(DELETE_PARTY, row);
      // In key order: the inserts walk the (agency, case, relation) B-tree from one end to the other.
      const rows = [...parties.entries()]
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .flatMap(([, row]) => (row ? [row] : []));
      await writeRows(tx, INSERT_PARTY, rows);
    },
  };
}
