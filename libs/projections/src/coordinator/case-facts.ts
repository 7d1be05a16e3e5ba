import type { PotentialVictimReported } from '@nrm/identification';
import type { Projection } from '../projection';

/** What the coordinator's statistics count of one case, as reported. */
export interface CaseFactsRow {
  /** YYYY-MM of `reportedAt`, in UTC. */
  readonly month: string;
  readonly region: string;
  readonly agencyKind: string;
  /** The exploitation forms suspected at the report, as a JSON array. */
  readonly forms: string;
}

/**
 * The facts of every reported case that the coordinator's statistics count, as
 * they stood at the report: month, region, kind of reporting agency, forms
 * suspected. Nothing here changes after the report, so a completed month's
 * figures never change either (the case directory's forms follow later
 * assessments, and two reads of a month could then differ by one case). No
 * case id or subject id leaves this table: the key is only for idempotence.
 */
export const coordinatorCaseFacts: Projection = {
  name: 'coordinator-case-facts',
  version: 1,
  eventTypes: ['PotentialVictimReported'],

  async setUp(tx) {
    await tx.exec(`
      CREATE TABLE coordinator_case_facts (
        case_id TEXT PRIMARY KEY, month TEXT NOT NULL, region TEXT NOT NULL, agency_kind TEXT NOT NULL,
        forms TEXT NOT NULL) WITHOUT ROWID;
      CREATE INDEX coordinator_case_facts_by_month ON coordinator_case_facts (month);
    `);
  },

  async tearDown(tx) {
    await tx.exec('DROP TABLE IF EXISTS coordinator_case_facts;');
  },

  async apply(tx, recorded) {
    if (recorded.type !== 'PotentialVictimReported') return;
    const d = recorded.data as unknown as PotentialVictimReported['data'];
    await tx.run(
      `INSERT INTO coordinator_case_facts (case_id, month, region, agency_kind, forms) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (case_id) DO NOTHING`,
      [
        d.caseId,
        new Date(d.reportedAt).toISOString().slice(0, 7),
        d.region,
        d.reportedByAgencyKind,
        JSON.stringify(d.exploitationForms),
      ],
    );
  },
};
