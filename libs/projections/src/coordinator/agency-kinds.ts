import type { AgencyRegistered } from '@nrm/access';
import type { SqliteProjection } from '../projection';

/**
 * The kind of every registered agency, so that the coordinator's statistics can
 * count cases by the kind of agency that reported them. The case directory keeps
 * the reporting agency's id only; an agency's kind never changes once registered.
 */
export const coordinatorAgencyKinds: SqliteProjection = {
  name: 'coordinator-agency-kinds',
  version: 1,
  eventTypes: ['AgencyRegistered'],

  setUp(db) {
    db.exec(
      'CREATE TABLE coordinator_agency_kinds (agency_id TEXT PRIMARY KEY, kind TEXT NOT NULL) WITHOUT ROWID;',
    );
  },

  tearDown(db) {
    db.exec('DROP TABLE IF EXISTS coordinator_agency_kinds;');
  },

  apply(db, recorded) {
    if (recorded.type !== 'AgencyRegistered') return;
    const { agencyId, kind } = recorded.data as unknown as AgencyRegistered['data'];
    db.prepare('INSERT OR REPLACE INTO coordinator_agency_kinds (agency_id, kind) VALUES (?, ?)').run(
      agencyId,
      kind,
    );
  },
};
