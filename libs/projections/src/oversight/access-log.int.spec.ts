import { SqliteEventStore, type NewEvent } from '@nrm/event-store';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { READ_MODEL_BACKENDS, type ReadModelLocation } from '../../test/read-model-backends';
import { Projector } from '../projector';
import { accessLog, accessLogPage, breakGlassAccess, casesOfSubject } from './access-log';

const who = { principalId: 'p-ngo', agencyId: 'ngo-a', agencyKind: 'ngo' };

function event(type: string, data: Record<string, unknown>, occurredAt: string, id = randomUUID()): NewEvent {
  return {
    id,
    type,
    schemaVersion: 1,
    data: data as NewEvent['data'],
    metadata: { correlationId: 'req', occurredAt },
  };
}

describe.each(READ_MODEL_BACKENDS)('access-log projection on $name', (backend) => {
  let dir: string;
  let store: SqliteEventStore;
  let projector: Projector;
  let location: ReadModelLocation;
  const breakGlassId = randomUUID();

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'nrm-access-log-'));
    store = new SqliteEventStore({ filename: join(dir, 'events.sqlite') });
    location = backend.location();
    projector = new Projector({ store, readModels: location.open(), projections: [accessLog] });
    await projector.start();
    const put = (stream: string, e: NewEvent) => store.append(stream, [e], { expectedRevision: 'no-stream' });
    await put(
      'identification-case-1',
      event(
        'PotentialVictimReported',
        { caseId: 'case-1', subjectId: 'subj-1', reportedByAgencyId: 'clinic-a' },
        '2026-03-01T09:00:00Z',
      ),
    );
    await put(
      'access-1',
      event(
        'RecordAccessed',
        {
          ...who,
          caseId: 'case-1',
          subjectId: 'subj-1',
          view: 'case',
          purpose: 'assistance',
          categories: [{ category: 'case-status', basis: 'consent', consentId: 'c-1' }],
          requestId: 'r-1',
          accessedAt: '2026-03-01T10:00:00Z',
        },
        '2026-03-01T10:00:00Z',
      ),
    );
    // A denial names only the case; the access log finds its subject through the report.
    await put(
      'access-2',
      event(
        'AccessDenied',
        {
          ...who,
          agencyId: 'shelter-b',
          caseId: 'case-1',
          view: 'case',
          purpose: 'investigation',
          reason: 'no-consent-or-lawful-basis',
          requestId: 'r-2',
          deniedAt: '2026-03-01T11:00:00+01:00',
        },
        '2026-03-01T11:00:00+01:00',
      ),
    );
    await put(
      `access-${breakGlassId}`,
      event(
        'BreakGlassAccessUsed',
        {
          principalId: 'p-police',
          agencyId: 'police-c',
          agencyKind: 'law-enforcement',
          caseId: 'case-1',
          subjectId: 'subj-1',
          view: 'case-break-glass',
          purpose: 'protection',
          justification: 'Imminent danger reported by the person; location of shelter needed now.',
          categories: ['case-status', 'exploitation'],
          requestId: 'r-3',
          accessedAt: '2026-03-02T08:00:00Z',
        },
        '2026-03-02T08:00:00Z',
        breakGlassId,
      ),
    );
  });

  afterAll(async () => {
    await projector.close();
    await location.dispose();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const caughtUp = async () => expect(await projector.waitFor(await store.headPosition(), 5000)).toBe(true);

  it('keeps one row per audit event, newest first, with the basis and the subject of a denial', async () => {
    await caughtUp();
    const page = await accessLogPage(
      projector.readModelStore,
      { types: ['RecordAccessed', 'AccessDenied', 'BreakGlassAccessUsed', 'AccessReviewed'] },
      { limit: 10, order: 'newest-first' },
    );
    expect(page.entries.map((e) => e.type)).toEqual([
      'BreakGlassAccessUsed',
      'AccessDenied',
      'RecordAccessed',
    ]);
    expect(page.nextCursor).toBeUndefined();
    const [breakGlass, denial, read] = page.entries;
    expect(read).toMatchObject({
      agencyId: 'ngo-a',
      subjectId: 'subj-1',
      basis: [{ category: 'case-status', basis: 'consent', consentId: 'c-1' }],
    });
    expect(denial).toMatchObject({ subjectId: 'subj-1', reason: 'no-consent-or-lawful-basis' });
    expect(denial!.at).toBe('2026-03-01T10:00:00.000Z'); // stored in UTC
    expect(breakGlass).toMatchObject({
      eventId: breakGlassId,
      basis: [
        { category: 'case-status', basis: 'break-glass' },
        { category: 'exploitation', basis: 'break-glass' },
      ],
      review: { status: 'pending' },
    });
    expect(await casesOfSubject(projector.readModelStore, 'subj-1')).toEqual(['case-1']);
  });

  it('pages by cursor in either order and filters by period, subject and agency', async () => {
    await caughtUp();
    const all = ['RecordAccessed', 'AccessDenied', 'BreakGlassAccessUsed'] as const;
    const first = await accessLogPage(
      projector.readModelStore,
      { types: all },
      { limit: 2, order: 'oldest-first' },
    );
    expect(first.entries.map((e) => e.type)).toEqual(['RecordAccessed', 'AccessDenied']);
    const second = await accessLogPage(
      projector.readModelStore,
      { types: all },
      { limit: 2, order: 'oldest-first', cursor: first.nextCursor! },
    );
    expect(second.entries.map((e) => e.type)).toEqual(['BreakGlassAccessUsed']);
    expect(second.nextCursor).toBeUndefined();

    const day = await accessLogPage(
      projector.readModelStore,
      { types: all, from: '2026-03-01T00:00:00.000Z', to: '2026-03-01T10:00:00.000Z' },
      { limit: 10, order: 'newest-first' },
    );
    expect(day.entries).toEqual([]); // `to` is exclusive: both rows of that day are at 10:00 UTC
    const byAgency = await accessLogPage(
      projector.readModelStore,
      { types: all, agencyId: 'shelter-b' },
      { limit: 10, order: 'newest-first' },
    );
    expect(byAgency.entries.map((e) => e.reason)).toEqual(['no-consent-or-lawful-basis']);
    const otherSubject = await accessLogPage(
      projector.readModelStore,
      { types: all, subjectId: 'subj-2' },
      { limit: 10, order: 'newest-first' },
    );
    expect(otherSubject.entries).toEqual([]);
  });

  it('marks a break-glass access reviewed once an AccessReviewed names it, and a rebuild gives the same rows', async () => {
    await store.append(
      `access-review-${breakGlassId}`,
      [
        event(
          'AccessReviewed',
          {
            accessEventId: breakGlassId,
            caseId: 'case-1',
            subjectId: 'subj-1',
            finding: 'justified',
            note: 'DPA-2026-7',
            principalId: 'p-dpa',
            agencyId: 'dpa',
            agencyKind: 'oversight-body',
            requestId: 'r-4',
            reviewedAt: '2026-03-03T12:00:00Z',
          },
          '2026-03-03T12:00:00Z',
        ),
      ],
      { expectedRevision: 'no-stream' },
    );
    await caughtUp();
    expect((await breakGlassAccess(projector.readModelStore, breakGlassId))?.review).toEqual({
      status: 'reviewed',
      finding: 'justified',
      note: 'DPA-2026-7',
      reviewedAt: '2026-03-03T12:00:00.000Z',
      reviewedByPrincipalId: 'p-dpa',
      reviewedByAgencyId: 'dpa',
    });
    const pending = await accessLogPage(
      projector.readModelStore,
      { types: ['BreakGlassAccessUsed'], reviewStatus: 'pending' },
      { limit: 10, order: 'newest-first' },
    );
    expect(pending.entries).toEqual([]);

    const snapshot = () => projector.readModelStore.all('SELECT * FROM access_log ORDER BY position');
    const live = await snapshot();
    await projector.rebuild('access-log');
    expect(await snapshot()).toEqual(live);
    expect(live).toHaveLength(4); // the report is not an audit event: it only ties the case to its subject
  });

  it('keeps a sealed justification (schema 2) sealed, and one recorded after the erasure as null', async () => {
    const sealed = { alg: 'A256GCM', keyId: 'subj-2', iv: 'aXY=', data: 'c2VhbGVk', tag: 'dGFn' };
    const ids = [randomUUID(), randomUUID()];
    for (const [i, sealedJustification] of [sealed, null].entries())
      await store.append(
        `access-${ids[i]!}`,
        [
          {
            ...event(
              'BreakGlassAccessUsed',
              {
                principalId: 'p-police',
                agencyId: 'police-c',
                agencyKind: 'law-enforcement',
                caseId: 'case-2',
                subjectId: 'subj-2',
                view: 'case-break-glass',
                purpose: 'protection',
                sealedJustification,
                categories: ['case-status'],
                requestId: `r-sealed-${i}`,
                accessedAt: '2026-03-04T08:00:00Z',
              },
              '2026-03-04T08:00:00Z',
              ids[i],
            ),
            schemaVersion: 2,
          },
        ],
        { expectedRevision: 'no-stream' },
      );
    await caughtUp();
    expect((await breakGlassAccess(projector.readModelStore, ids[0]!))?.justification).toEqual(sealed);
    expect((await breakGlassAccess(projector.readModelStore, ids[1]!))?.justification).toBeNull();
    // Schema 1 stays readable as it was recorded, in clear.
    expect((await breakGlassAccess(projector.readModelStore, breakGlassId))?.justification).toBe(
      'Imminent danger reported by the person; location of shelter needed now.',
    );
    const rows = await projector.readModelStore.all<{ justification: string | null }>(
      `SELECT justification FROM access_log WHERE subject_id = 'subj-2'`,
    );
    expect(rows).toEqual([{ justification: null }, { justification: null }]);
  });
});
