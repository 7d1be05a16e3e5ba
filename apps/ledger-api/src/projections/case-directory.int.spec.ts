import { SqliteEventStore } from '@nrm/event-store';
import { caseDirectory, Projector, type ReadModelStore } from '@nrm/projections';
import { READ_MODEL_BACKENDS } from '../../../../libs/projections/test/read-model-backends';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { seedDemo } from '../../../ledger-cli/src/demo';

async function snapshot(projector: Projector) {
  const db: ReadModelStore = projector.readModelStore;
  return {
    cases: await db.all('SELECT case_id, doc FROM case_docs ORDER BY case_id'),
    parties: await db.all(
      'SELECT case_id, agency_id, relation FROM case_parties ORDER BY case_id, agency_id, relation',
    ),
    referrals: await db.all('SELECT referral_id, status, doc FROM referral_docs ORDER BY referral_id'),
  };
}

describe.each(READ_MODEL_BACKENDS)('case directory projection on the demo scenario, $name', (backend) => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'nrm-proj-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('projects the demo live, and a rebuild from zero gives exactly the same tables', async () => {
    const store = new SqliteEventStore({ filename: join(dir, 'events.sqlite') });
    const liveAt = backend.location();
    const freshAt = backend.location();
    const rowAt = backend.location();
    const live = new Projector({ store, readModels: liveAt.open(), projections: [caseDirectory] });
    const fresh = new Projector({ store, readModels: freshAt.open(), projections: [caseDirectory] });
    try {
      await live.start();
      const demo = await seedDemo(store, ['law-enforcement', 'asylum-authority', 'national-coordinator']);
      expect(await live.waitFor(await store.headPosition(), 5000)).toBe(true);
      const projected = await snapshot(live);

      expect(projected.cases).toHaveLength(1);
      const doc = JSON.parse((projected.cases[0] as { doc: string }).doc) as Record<string, unknown>;
      expect(doc).toMatchObject({ caseId: demo.caseId, reportedByAgencyId: 'clinic-harbour', minor: false });
      expect(doc.identification).toMatchObject({ status: 'reasonable-grounds-positive' });
      expect(doc.support).toMatchObject({ status: 'open', reflection: { status: 'active', days: 30 } });
      const parties = (projected.parties as Array<{ agency_id: string; relation: string }>).map(
        (p) => `${p.agency_id}:${p.relation}`,
      );
      expect(parties).toEqual(
        expect.arrayContaining([
          'clinic-harbour:reporter',
          'police-west:referral-receiver',
          'police-west:decision-maker',
          'ngo-lighthouse:referral-receiver',
          'ngo-lighthouse:support-provider',
          'shelter-dune:referral-receiver',
          'nrm-romania:referral-receiver',
        ]),
      );
      expect(parties).not.toContain('labour-inspectorate:referral-receiver'); // that referral was refused
      expect((projected.referrals as Array<{ status: string }>).map((r) => r.status).sort()).toEqual([
        'accepted',
        'acknowledged',
        'completed',
        'made',
      ]);

      const result = await live.rebuild('case-directory');
      expect(result.events).toBeGreaterThan(0);
      expect(await snapshot(live)).toEqual(projected);

      await fresh.rebuild('case-directory');
      expect(await snapshot(fresh)).toEqual(projected);

      // Row by row (no batch cache) gives the same tables as batches do.
      const rowByRow = new Projector({
        store,
        readModels: rowAt.open(),
        projections: [{ ...caseDirectory, applyBatch: undefined }],
      });
      await rowByRow.rebuild('case-directory');
      expect(await snapshot(rowByRow)).toEqual(projected);
      await rowByRow.close();
    } finally {
      await fresh.close();
      await live.close();
      await liveAt.dispose();
      await freshAt.dispose();
      await rowAt.dispose();
      await store.close();
    }
  });

  it('never makes an agency party by a grounds decision alone, live, rebuilt, row by row', async () => {
    const store = new SqliteEventStore({ filename: join(dir, 'events.sqlite') });
    const liveAt = backend.location();
    const rowAt = backend.location();
    const live = new Projector({ store, readModels: liveAt.open(), projections: [caseDirectory] });
    const rowByRow = new Projector({
      store,
      readModels: rowAt.open(),
      projections: [{ ...caseDirectory, applyBatch: undefined }],
    });
    try {
      const demo = await seedDemo(store, ['law-enforcement', 'asylum-authority', 'national-coordinator']);
      // A decision recorded without the API's seizure check (the console, or before the rule).
      const at = new Date().toISOString();
      await store.append(
        `identification-${demo.caseId}`,
        [
          {
            id: randomUUID(),
            type: 'ConclusiveGroundsDecided',
            schemaVersion: 1,
            data: {
              caseId: demo.caseId,
              outcome: 'negative',
              decidedByAgencyId: 'police-elsewhere',
              decidedAt: at,
            },
            metadata: { correlationId: randomUUID(), agencyId: 'police-elsewhere', occurredAt: at },
          },
          // Designated by the coordinator, then deciding: party as designated authority and decision-maker.
          {
            id: randomUUID(),
            type: 'CompetentAuthorityDesignated',
            schemaVersion: 1,
            data: {
              caseId: demo.caseId,
              authorityId: 'asylum-north',
              authorityKind: 'asylum-authority',
              designatedByAgencyId: 'coordinator',
              designatedByPrincipalId: 'p-coordinator',
              designatedAt: at,
            },
            metadata: { correlationId: randomUUID(), agencyId: 'coordinator', occurredAt: at },
          },
          {
            id: randomUUID(),
            type: 'ConclusiveGroundsDecided',
            schemaVersion: 1,
            data: {
              caseId: demo.caseId,
              outcome: 'positive',
              decidedByAgencyId: 'asylum-north',
              decidedAt: at,
            },
            metadata: { correlationId: randomUUID(), agencyId: 'asylum-north', occurredAt: at },
          },
        ],
        { expectedRevision: 'stream-exists' },
      );
      await live.start();
      expect(await live.waitFor(await store.headPosition(), 5000)).toBe(true);
      await rowByRow.rebuild('case-directory');
      for (const projector of [live, rowByRow]) {
        const { parties } = await snapshot(projector);
        const agencies = (parties as Array<{ agency_id: string; relation: string }>).map(
          (p) => `${p.agency_id}:${p.relation}`,
        );
        expect(agencies.filter((p) => p.startsWith('police-elsewhere'))).toEqual([]);
        // An authority that is party (the police, referred the case) is named as decision-maker.
        expect(agencies).toContain('police-west:decision-maker');
        expect(agencies.filter((p) => p.startsWith('asylum-north'))).toEqual([
          'asylum-north:decision-maker',
          'asylum-north:designated-authority',
        ]);
      }
    } finally {
      await rowByRow.close();
      await live.close();
      await liveAt.dispose();
      await rowAt.dispose();
      await store.close();
    }
  });
});
