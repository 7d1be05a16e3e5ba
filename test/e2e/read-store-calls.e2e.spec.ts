import type { EventStore } from '@nrm/event-store';
import { Ledger, type Principal } from './harness';

/**
 * Event-store calls per read (issue #13: the closing note gives them, before and after the read
 * side became "load context, decide, view, audit"). A counting wrapper is put around the ledger's
 * event-store port: each method of the port counts its calls, then does what it did. Read-model
 * queries are not store calls and are not counted. The figures are printed and pinned: a change
 * that adds a store call to a read fails here and has to say why. Case reads ask for the position of
 * the last event of the case directory's types (`lastPositionOf`, issue #16 item 2) in place of the
 * head: one call either way.
 */
const PORT_METHODS = [
  'append',
  'readStream',
  'readAll',
  'subscribe',
  'headPosition',
  'lastPositionOf',
  'health',
] as const;
type Counts = Partial<Record<(typeof PORT_METHODS)[number], number>>;

const BACKGROUND =
  /audit\/src\/integrity\.ts|catch-up-subscription|projections\/src\/projector\.ts|checkpoint-follower/;

function countCalls(store: EventStore): { take(): Counts } {
  let counts: Counts = {};
  const target = store as unknown as Record<string, (...args: unknown[]) => unknown>;
  for (const method of PORT_METHODS) {
    const original = target[method]!.bind(store);
    target[method] = (...args: unknown[]) => {
      // The embedded projector, the registry and the audit log's integrity watch follow the store on
      // their own, polling it: those calls are no request's, so they are left out.
      if (!BACKGROUND.test(new Error().stack ?? '')) counts[method] = (counts[method] ?? 0) + 1;
      return original(...args);
    };
  }
  return {
    take() {
      const taken = counts;
      counts = {};
      return taken;
    },
  };
}

describe('event-store calls per read (e2e)', () => {
  let ledger: Ledger;
  let clinic: Principal;
  let ngo: Principal;
  let caseId: string;
  let counter: { take(): Counts };
  const figures: Record<string, Counts> = {};

  beforeAll(async () => {
    ledger = await Ledger.boot();
    clinic = await ledger.principal('health', ['caseworker', 'break-glass'], 'clinic-calls');
    ngo = await ledger.principal('ngo', ['caseworker'], 'ngo-calls');
    const reported = await clinic.post<{ caseId: string }>('/cases', {
      indicators: ['debt-bondage'],
      exploitationForms: ['labour'],
      minor: false,
      region: 'NL-ZH',
    });
    caseId = reported.body.caseId;
    const granted = await clinic.post(`/cases/${caseId}/consents`, {
      agencyIds: ['ngo-calls'],
      categories: ['case-status', 'support-needs'],
      purposes: ['assistance'],
      expiresAt: '2030-01-01T00:00:00Z',
      capture: { method: 'written', language: 'en', interpreterUsed: false },
    });
    expect(granted.status).toBe(201);
    const made = await clinic.post(`/cases/${caseId}/referrals`, {
      toAgencyId: 'ngo-calls',
      purpose: 'assistance',
      servicesRequested: ['accommodation'],
      urgency: 'urgent',
      respondBy: new Date(Date.now() + 86_400_000).toISOString(),
      sharedCategories: ['case-status'],
    });
    expect(made.status).toBe(201);
    counter = countCalls(ledger.store);
  });
  afterAll(async () => {
    console.log(`event-store calls per read: ${JSON.stringify(figures)}`);
    await ledger.close();
  });

  async function measure(name: string, call: () => Promise<{ status: number }>, status: number) {
    counter.take();
    const answer = await call();
    expect(answer.status).toBe(status);
    figures[name] = counter.take();
    return figures[name];
  }

  it('a case read: the head, the consent stream, the audit append', async () => {
    const counts = await measure(
      'case',
      () => ngo.call('GET', `/cases/${caseId}`, undefined, { 'x-purpose': 'assistance' }),
      200,
    );
    expect(counts).toEqual({ lastPositionOf: 1, readStream: 1, append: 1 });
  });

  it('a case read as of now: the same, plus its identification, support and referral streams', async () => {
    const asOf = encodeURIComponent(new Date().toISOString());
    const counts = await measure(
      'case-as-of',
      () => ngo.call('GET', `/cases/${caseId}?asOf=${asOf}`, undefined, { 'x-purpose': 'assistance' }),
      200,
    );
    expect(counts).toEqual({ lastPositionOf: 1, readStream: 1 + 2 + 1, append: 1 });
  });

  it('a refused case read (no party): the head and the denial', async () => {
    const outsider = await ledger.principal('shelter', ['caseworker'], 'shelter-calls');
    const counts = await measure(
      'case-not-a-party',
      () => outsider.call('GET', `/cases/${caseId}`, undefined, { 'x-purpose': 'assistance' }),
      404,
    );
    expect(counts).toEqual({ lastPositionOf: 1, append: 1 });
  });

  it('a break-glass read: the head and the BreakGlassAccessUsed append', async () => {
    const counts = await measure(
      'case-break-glass',
      () =>
        clinic.post(`/cases/${caseId}/break-glass-reads`, {
          purpose: 'protection',
          justification:
            'Person admitted unconscious to emergency care; treating physician needs the case status now.',
        }),
      200,
    );
    expect(counts).toEqual({ lastPositionOf: 1, append: 1 });
  });

  it('a subject access report: the head, the registry brought up to date, the consent stream of its one case (its language), the audit append', async () => {
    const read = await ngo.call<{ categories: { identity?: { subjectId?: string } } }>(
      'GET',
      `/cases/${caseId}`,
      undefined,
      { 'x-purpose': 'assistance' },
    );
    expect(read.status).toBe(200);
    const subjectId = await subjectOf(ledger, caseId);
    const counts = await measure(
      'subject-access-report',
      () => clinic.get(`/subjects/${subjectId}/access-report`),
      200,
    );
    expect(counts).toEqual({ headPosition: 1, readAll: 1, readStream: 1, append: 1 });
  });
});

async function subjectOf(ledger: Ledger, caseId: string): Promise<string> {
  for await (const e of ledger.store.readAll({ filter: { eventTypes: ['PotentialVictimReported'] } }))
    if (e.data.caseId === caseId) return e.data.subjectId as string;
  throw new Error('case not found');
}
