import type { AgencyRegistered } from '@nrm/access';
import type { Projection } from '../projection';

/**
 * The kind of every registered agency, so that the coordinator's statistics can
 * count cases by the kind of agency that reported them. The case directory keeps
 * the reporting agency's id only; an agency's kind never changes once registered.
 */
export const coordinatorAgencyKinds: Projection = {
  name: 'coordinator-agency-kinds',
  version: 1,
  eventTypes: ['AgencyRegistered'],

  async setUp(tx) {
    await tx.exec(
      'CREATE TABLE coordinator_agency_kinds (agency_id TEXT PRIMARY KEY, kind TEXT NOT NULL) WITHOUT ROWID;',
    );
  },

  async tearDown(tx) {
    await tx.exec('DROP TABLE IF EXISTS coordinator_agency_kinds;');
  },

  async apply(tx, recorded) {
    if (recorded.type !== 'AgencyRegistered') return;
    const { agencyId, kind } = recorded.data as unknown as AgencyRegistered['data'];
    await tx.run(
      `INSERT INTO coordinator_agency_kinds (agency_id, kind) VALUES (?, ?)
       ON CONFLICT (agency_id) DO UPDATE SET kind = excluded.kind`,
      [agencyId, kind],
    );
  },
};
