import Database from 'better-sqlite3';
import { SqliteEventStore, type NewEvent } from '@nrm/event-store';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Projector } from '../projector';
import { caseDirectory } from '../cases';
import { accessLog } from '../oversight';
import { SqliteReadModelStore } from '../store/sqlite-read-model-store';
import { describeDivergences, verifyReadModels } from './read-model-verification';

const PROJECTIONS = [caseDirectory, accessLog];

function event(type: string, data: Record<string, unknown>): NewEvent {
  return {
    id: randomUUID(),
    type,
    schemaVersion: 1,
    data: data as NewEvent['data'],
    metadata: { correlationId: 'req', occurredAt: '2026-03-01T09:00:00Z' },
  };
}

const reported = (caseId: string) =>
  event('PotentialVictimReported', {
    caseId,
    subjectId: `subj-${caseId}`,
    reportedByAgencyId: 'clinic-a',
    reportedAt: '2026-03-01T09:00:00Z',
    region: 'NL-ZH',
    minor: false,
    indicators: ['debt-bondage'],
    exploitationForms: ['labour'],
  });

const accessed = (caseId: string) =>
  event('RecordAccessed', {
    principalId: 'p-ngo',
    agencyId: 'ngo-a',
    agencyKind: 'ngo',
    caseId,
    subjectId: `subj-${caseId}`,
    view: 'case',
    purpose: 'assistance',
    categories: [{ category: 'case-status', basis: 'consent', consentId: 'c-1' }],
    requestId: randomUUID(),
    accessedAt: '2026-03-01T10:00:00Z',
  });

/** SQL on the live read-model file, as an operator with file access would run it. */
function tamper(file: string, sql: string): void {
  const db = new Database(file);
  db.exec(sql);
  db.close();
}

describe('read-model verification against a rebuild from the events', () => {
  let dir: string;
  let store: SqliteEventStore;
  let file: string;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'nrm-verify-rm-'));
    store = new SqliteEventStore({ filename: join(dir, 'events.sqlite') });
    file = join(dir, 'read-models.sqlite');
    for (const caseId of ['case-1', 'case-2', 'case-3']) {
      await store.append(`identification-${caseId}`, [reported(caseId)], { expectedRevision: 'no-stream' });
      await store.append(`access-${caseId}`, [accessed(caseId), accessed(caseId)], {
        expectedRevision: 'no-stream',
      });
    }
    const readModels = new SqliteReadModelStore(file);
    const projector = new Projector({ store, readModels, projections: PROJECTIONS });
    await projector.start();
    expect(await projector.waitFor(await store.headPosition(), 10_000)).toBe(true);
    await projector.close();
    await readModels.close();
  });

  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const verify = () =>
    verifyReadModels({ store, readModelFile: file, projections: PROJECTIONS, batchSize: 2 });

  it('finds an untouched read model equal to its rebuild, also when the store has moved past its checkpoint', async () => {
    await store.append('identification-case-4', [reported('case-4')], { expectedRevision: 'no-stream' });
    const result = await verify();
    expect(result.divergences).toEqual([]);
    expect(result.ok).toBe(true);
    expect(result.positions).toEqual({ 'case-directory': 9, 'access-log': 9 });
    expect(result.tables).toBeGreaterThanOrEqual(4);
    expect(result.rows).toBeGreaterThan(9);
  });

  it('reports a deleted row by table, with counts and no content', async () => {
    tamper(file, `DELETE FROM access_log WHERE position = (SELECT max(position) FROM access_log)`);
    const result = await verify();
    expect(result.ok).toBe(false);
    expect(result.divergences).toEqual([
      {
        table: 'access_log',
        projection: 'access-log',
        liveRows: 5,
        rebuiltRows: 6,
        missing: 1,
        unjustified: 0,
      },
    ]);
    expect(describeDivergences(result.divergences)).toBe(
      'access_log: 1 missing, 0 unjustified (5 rows, 6 justified)',
    );
    expect(JSON.stringify(result)).not.toMatch(/subj-|case-\d|p-ngo/);
  });

  it('reports an added party row, a changed row and a dropped table', async () => {
    tamper(
      file,
      `INSERT INTO case_parties (case_id, agency_id, relation, since) VALUES ('case-1', 'police-a', 'referral-receiver', '2026-03-01T09:00:00Z');
       UPDATE case_docs SET doc = replace(doc, 'NL-ZH', 'NL-NH') WHERE case_id = 'case-2';
       DROP TABLE access_log_subject_cases;`,
    );
    const result = await verify();
    const byTable = Object.fromEntries(result.divergences.map((d) => [d.table, d]));
    expect(byTable.case_parties).toMatchObject({ missing: 0, unjustified: 1 });
    expect(byTable.case_docs).toMatchObject({ missing: 1, unjustified: 1 });
    expect(byTable.access_log_subject_cases).toMatchObject({ schema: 'table-missing' });
    expect(result.divergences).toHaveLength(3);
  });
});
