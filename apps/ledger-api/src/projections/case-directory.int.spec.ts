import { SqliteEventStore, type JsonObject } from '@nrm/event-store';
import { caseDirectory, Projector, type ReadModelStore } from '@nrm/projections';
import { referralStream } from '@nrm/referral';
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

  it('drops a receiver whose referrals all ended without acceptance, the same live, rebuilt and row by row', async () => {
    const store = new SqliteEventStore({ filename: join(dir, 'events.sqlite') });
    const liveAt = backend.location();
    const batchAt = backend.location();
    const rowAt = backend.location();
    const live = new Projector({ store, readModels: liveAt.open(), projections: [caseDirectory] });
    const batched = new Projector({ store, readModels: batchAt.open(), projections: [caseDirectory] });
    const rowByRow = new Projector({
      store,
      readModels: rowAt.open(),
      projections: [{ ...caseDirectory, applyBatch: undefined }],
    });
    const withSince = async (projector: Projector) => ({
      ...(await snapshot(projector)),
      since: await projector.readModelStore.all(
        'SELECT case_id, agency_id, relation, since, reported_at FROM case_parties ORDER BY agency_id, relation',
      ),
    });
    try {
      await live.start();
      const demo = await seedDemo(store, ['law-enforcement', 'asylum-authority', 'national-coordinator']);
      let tick = Date.parse('2026-11-01T08:00:00Z');
      const event = (type: string, data: JsonObject) => {
        const at = new Date((tick += 60_000)).toISOString();
        return {
          id: randomUUID(),
          type,
          schemaVersion: 1,
          data,
          metadata: { correlationId: randomUUID(), agencyId: 'clinic-harbour', occurredAt: at },
        };
      };
      const made = (referralId: string, toAgencyId: string) =>
        event('ReferralMade', {
          referralId,
          caseId: demo.caseId,
          fromAgencyId: 'clinic-harbour',
          fromAgencyKind: 'health',
          toAgencyId,
          toAgencyKind: 'shelter',
          transnational: false,
          purpose: 'assistance',
          servicesRequested: ['accommodation'],
          urgency: 'routine',
          respondBy: '2026-11-09T08:00:00.000Z',
          sharedCategories: [],
          madeByPrincipalId: 'p-clinic',
          madeAt: new Date(tick + 60_000).toISOString(),
        });
      // One referral's steps, each appended apart (the live projector applies them one by one).
      const steps = async (referralId: string, toAgencyId: string, after: string[]) => {
        await store.append(referralStream(referralId), [made(referralId, toAgencyId)], {
          expectedRevision: 'no-stream',
        });
        for (const type of after) {
          const at = new Date(tick + 60_000).toISOString();
          const data: JsonObject = { referralId, caseId: demo.caseId };
          if (type === 'ReferralAcknowledged') data.acknowledgedAt = at;
          if (type === 'ReferralAccepted')
            Object.assign(data, { acceptedAt: at, acceptedByAgencyId: toAgencyId });
          if (type === 'ReferralDeclined') Object.assign(data, { declinedAt: at, reason: 'out-of-area' });
          if (type === 'ReferralWithdrawn') Object.assign(data, { withdrawnAt: at, reason: 'sent-in-error' });
          await store.append(referralStream(referralId), [event(type, data)], {
            expectedRevision: 'stream-exists',
          });
        }
      };
      const [r1, r2, r3, r4, r5] = [randomUUID(), randomUUID(), randomUUID(), randomUUID(), randomUUID()];
      await steps(r1, 'shelter-x', ['ReferralAcknowledged', 'ReferralDeclined']); // no standing
      await steps(r2, 'shelter-x', []); // referred again: party again, since this referral
      await steps(r3, 'ngo-y', ['ReferralWithdrawn']); // sent in error: no standing
      await steps(r4, 'police-z', ['ReferralAcknowledged', 'ReferralAccepted', 'ReferralWithdrawn']); // keeps
      await steps(r5, 'ngo-w', []); // two to one agency: one withdrawn, one live
      await steps(randomUUID(), 'ngo-w', ['ReferralWithdrawn']);
      expect(await live.waitFor(await store.headPosition(), 5000)).toBe(true);
      await batched.rebuild('case-directory');
      await rowByRow.rebuild('case-directory');
      const projected = await withSince(live);
      const receivers = (projected.parties as Array<{ agency_id: string; relation: string }>)
        .filter((p) => ['shelter-x', 'ngo-y', 'police-z', 'ngo-w'].includes(p.agency_id))
        .map((p) => `${p.agency_id}:${p.relation}`);
      expect(receivers.sort()).toEqual([
        'ngo-w:referral-receiver',
        'police-z:referral-receiver',
        'shelter-x:referral-receiver',
      ]);
      const shelterSince = (projected.since as Array<{ agency_id: string; since: string }>).find(
        (p) => p.agency_id === 'shelter-x',
      )?.since;
      const r2Made = (projected.referrals as Array<{ referral_id: string; doc: string }>).find(
        (r) => r.referral_id === r2,
      );
      expect(shelterSince).toBe((JSON.parse(r2Made!.doc) as { madeAt: string }).madeAt);
      expect(await withSince(batched)).toEqual(projected);
      expect(await withSince(rowByRow)).toEqual(projected);
    } finally {
      await rowByRow.close();
      await batched.close();
      await live.close();
      await liveAt.dispose();
      await batchAt.dispose();
      await rowAt.dispose();
      await store.close();
    }
  });
});
