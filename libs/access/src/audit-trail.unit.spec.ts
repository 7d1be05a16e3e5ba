import type { AppendOptions, EventStore, NewEvent } from '../../event-store/src/event-store';
import { AuditTrail, inRefusalScope, type ReadRequest } from './audit-trail';

/** The one port method the audit uses, recorded; every other method is not the audit's business. */
function storeAppending(outcome: 'ok' | 'fail') {
  const appended: Array<{ stream: string; events: readonly NewEvent[]; options: AppendOptions }> = [];
  const store = {
    append: (stream: string, events: readonly NewEvent[], options: AppendOptions) => {
      if (outcome === 'fail') return Promise.reject(new Error('disk full'));
      appended.push({ stream, events, options });
      return Promise.resolve({ nextRevision: 0, position: appended.length });
    },
  } as unknown as EventStore;
  return { store, appended };
}

const request: ReadRequest = {
  actor: { principalId: 'p-1', agencyId: 'ngo-1', agencyKind: 'ngo', roles: ['caseworker'] },
  purpose: 'assistance',
  requestId: 'req-1',
  now: '2026-06-01T12:00:00.000Z',
};

class Unavailable extends Error {}

describe('the audit trail of reads', () => {
  it('appends each read on its own new stream, with who, when and the request as metadata', async () => {
    const { store, appended } = storeAppending('ok');
    const trail = new AuditTrail(store, () => new Unavailable());
    await trail.accessed(request, {
      view: 'case',
      purpose: 'assistance',
      caseId: 'case-1',
      categories: [{ category: 'case-status', basis: 'consent', consentId: 'c-1' }],
    });
    await trail.denied(request, { view: 'case', reason: 'not-a-party-or-unknown-case', caseId: 'case-2' });
    expect(appended).toHaveLength(2);
    const [read, denial] = appended;
    expect(read!.stream).toBe(`access-${read!.events[0]!.id}`);
    expect(read!.options).toEqual({ expectedRevision: 'no-stream' });
    expect(read!.events[0]).toMatchObject({
      type: 'RecordAccessed',
      schemaVersion: 1,
      data: { principalId: 'p-1', agencyId: 'ngo-1', agencyKind: 'ngo', view: 'case', caseId: 'case-1' },
      metadata: { correlationId: 'req-1', principalId: 'p-1', agencyId: 'ngo-1', occurredAt: request.now },
    });
    expect(denial!.events[0]).toMatchObject({
      type: 'AccessDenied',
      data: { reason: 'not-a-party-or-unknown-case', deniedAt: request.now },
    });
    expect(denial!.stream).not.toBe(read!.stream);
  });

  it('fails closed with the caller’s error when the append fails', async () => {
    const { store } = storeAppending('fail');
    const trail = new AuditTrail(store, () => new Unavailable('audit down'));
    await expect(trail.accessed(request, { view: 'my-cases', categories: [] })).rejects.toBeInstanceOf(
      Unavailable,
    );
  });

  it('fails closed with AUDIT.UNAVAILABLE (unavailable, retry after 1 s) when the caller gives no error', async () => {
    const trail = new AuditTrail(storeAppending('fail').store);
    await expect(trail.denied(request, { view: 'case', reason: 'role-not-allowed' })).rejects.toMatchObject({
      kind: 'unavailable',
      code: 'AUDIT.UNAVAILABLE',
      options: { title: 'Audit unavailable', retryAfterSeconds: 1 },
    });
  });

  it('notes a recorded denial in the request’s refusal scope, and only a denial', async () => {
    const { store } = storeAppending('ok');
    const trail = new AuditTrail(store, () => new Unavailable());
    const scope = { denied: false };
    await inRefusalScope(scope, () => trail.accessed(request, { view: 'case', categories: [] }));
    expect(scope.denied).toBe(false);
    await inRefusalScope(scope, () => trail.denied(request, { view: 'case', reason: 'role-not-allowed' }));
    expect(scope.denied).toBe(true);
    const failing = new AuditTrail(storeAppending('fail').store, () => new Unavailable());
    const other = { denied: false };
    await inRefusalScope(other, () =>
      failing.denied(request, { view: 'case', reason: 'role-not-allowed' }).catch(() => undefined),
    );
    expect(other.denied).toBe(false);
  });
});
