/**
 * The authorization matrix of case reads: every agency kind × role set × consent
 * state × purpose × own/other case, checked against a model written here, apart
 * from the code under test. Counts are printed.
 */
import { AGENCY_KINDS, type AgencyKind, type DataCategory, type Role } from '@nrm/shared-kernel';
import { Ledger, type Principal } from './harness';

type ConsentState = 'granted' | 'partial' | 'withdrawn' | 'expired' | 'lawful-basis' | 'none';
const STATES: readonly ConsentState[] = [
  'granted',
  'partial',
  'withdrawn',
  'expired',
  'lawful-basis',
  'none',
];
const ROLE_SETS: ReadonlyArray<readonly Role[]> = [
  ['caseworker'],
  ['decision-maker'],
  ['oversight'],
  ['coordinator', 'registry-admin'],
];
const PURPOSES = ['assistance', 'investigation'] as const;

/** The reporter and the referral receiver are the parties; each records consent naming the other. */
const REPORTER: AgencyKind = 'health';
const RECEIVER: AgencyKind = 'ngo';
const agencyId = (kind: AgencyKind) => `matrix-${kind}`;

/** What a state's consent or lawful basis covers, for the two parties, for purpose 'assistance' only. */
function modelCovered(state: ConsentState, purpose: string): DataCategory[] {
  if (purpose !== 'assistance') return [];
  switch (state) {
    case 'granted':
      return ['case-status', 'exploitation', 'support-needs'];
    case 'partial':
      return ['case-status'];
    case 'lawful-basis':
      return ['case-status', 'exploitation'];
    default:
      return [];
  }
}

function modelOutcome(kind: AgencyKind, roles: readonly Role[], state: ConsentState, purpose: string) {
  if (!roles.includes('caseworker') && !roles.includes('decision-maker'))
    return { status: 403, categories: [] as DataCategory[] };
  if (kind !== REPORTER && kind !== RECEIVER) return { status: 404, categories: [] as DataCategory[] };
  const covered = modelCovered(state, purpose);
  return covered.length === 0 ? { status: 403, categories: covered } : { status: 200, categories: covered };
}

describe('authorization matrix of case reads (e2e)', () => {
  let ledger: Ledger;
  const principals: Array<{ kind: AgencyKind; roles: readonly Role[]; principal: Principal }> = [];
  const cases = new Map<ConsentState, string>();

  beforeAll(async () => {
    ledger = await Ledger.boot();
    for (const kind of AGENCY_KINDS) {
      for (const roles of ROLE_SETS) {
        principals.push({ kind, roles, principal: await ledger.principal(kind, [...roles], agencyId(kind)) });
      }
    }
    const reporter = principals.find((p) => p.kind === REPORTER && p.roles.includes('caseworker'))!.principal;
    const receiver = principals.find((p) => p.kind === RECEIVER && p.roles.includes('caseworker'))!.principal;
    const respondBy = new Date(Date.now() + 86_400_000).toISOString();
    const capture = { method: 'written', language: 'en', interpreterUsed: false };
    // No record covers the agency that makes it (rule 7): each party in contact with the person
    // records what the person consented to for the other one.
    const recorders = [
      [reporter, agencyId(RECEIVER)],
      [receiver, agencyId(REPORTER)],
    ] as const;
    const grantBoth = async (caseId: string, categories: string[], expiresAt: string) => {
      const ids: Array<readonly [Principal, string]> = [];
      for (const [who, named] of recorders) {
        const g = await who.post<{ consentId: string }>(`/cases/${caseId}/consents`, {
          agencyIds: [named],
          purposes: ['assistance'],
          categories,
          expiresAt,
          capture,
        });
        expect(g.status).toBe(201);
        ids.push([who, g.body.consentId]);
      }
      return ids;
    };
    for (const state of STATES) {
      const created = await reporter.post<{ caseId: string }>('/cases', {
        indicators: ['debt-bondage', 'withheld-documents'],
        exploitationForms: ['labour'],
        minor: false,
        region: 'NL-ZH',
      });
      const caseId = created.body.caseId;
      cases.set(state, caseId);
      const referral = await reporter.post<{ referralId: string }>(`/cases/${caseId}/referrals`, {
        toAgencyId: agencyId(RECEIVER),
        purpose: 'assistance',
        servicesRequested: ['accommodation'],
        urgency: 'routine',
        respondBy,
        sharedCategories: [],
      });
      // The person reaches the receiver: it is in contact with them from then on.
      for (const step of ['acknowledgement', 'acceptance', 'handoff'])
        expect((await receiver.post(`/referrals/${referral.body.referralId}/${step}`)).status).toBe(200);
      const all = ['case-status', 'exploitation', 'support-needs'];
      const far = '2030-01-01T00:00:00Z';
      if (state === 'granted') {
        await grantBoth(caseId, all, far);
      } else if (state === 'withdrawn') {
        for (const [who, consentId] of await grantBoth(caseId, all, far))
          await who.post(`/cases/${caseId}/consents/${consentId}/withdrawal`, {});
      } else if (state === 'partial') {
        for (const [who, consentId] of await grantBoth(caseId, all, far))
          await who.post(`/cases/${caseId}/consents/${consentId}/withdrawal`, {
            categories: ['exploitation', 'support-needs'],
          });
      } else if (state === 'expired') {
        await grantBoth(caseId, all, new Date(Date.now() + 2500).toISOString());
      } else if (state === 'lawful-basis') {
        for (const [who, named] of recorders) {
          const b = await who.post(`/cases/${caseId}/lawful-bases`, {
            agencyIds: [named],
            purposes: ['assistance'],
            categories: ['case-status', 'exploitation'],
            basis: 'vital-interests',
            justification: 'Imminent risk to life documented in protection assessment 2026-117.',
          });
          expect(b.status).toBe(201);
        }
      }
    }
    await new Promise((r) => setTimeout(r, 2600)); // let the 'expired' consents expire
  });
  afterAll(() => ledger.close());

  it('0 unauthorized 2xx, 0 categories outside consent, 0 false denials, exactly one audit event per request', async () => {
    const counts = {
      requests: 0,
      allowed: 0,
      denied403: 0,
      hidden404: 0,
      unauthorized2xx: 0,
      foreignFields: 0,
      falseDenials: 0,
      wrongStatus: 0,
      auditMismatches: 0,
    };
    const mismatches: string[] = [];
    const auditCount = async () => {
      let n = 0;
      for await (const _ of ledger.store.readAll({
        filter: { eventTypes: ['RecordAccessed', 'AccessDenied'] },
      }))
        n++;
      return n;
    };
    let audited = await auditCount();
    // The past view is decided like the live one (party and consent now): the same outcomes are expected.
    const asOf = encodeURIComponent(new Date().toISOString());
    const VIEWS = [
      { name: 'case', query: '' },
      { name: 'case-as-of', query: `?asOf=${asOf}` },
    ];
    for (const { kind, roles, principal } of principals) {
      for (const state of STATES) {
        for (const purpose of PURPOSES) {
          for (const view of VIEWS) {
            const expected = modelOutcome(kind, roles, state, purpose);
            const answer = await principal.call<{ categories?: Record<string, unknown> }>(
              'GET',
              `/cases/${cases.get(state)!}${view.query}`,
              undefined,
              { 'x-purpose': purpose },
            );
            counts.requests++;
            const label = `${kind} ${roles.join('+')} ${state} ${purpose} ${view.name}`;
            if (answer.status === 200) counts.allowed++;
            if (answer.status === 403) counts.denied403++;
            if (answer.status === 404) counts.hidden404++;
            if (answer.status >= 200 && answer.status < 300 && expected.status !== 200)
              counts.unauthorized2xx++;
            if (expected.status === 200 && answer.status !== 200) counts.falseDenials++;
            if (answer.status !== expected.status) {
              counts.wrongStatus++;
              mismatches.push(`${label}: ${answer.status} (expected ${expected.status})`);
            }
            if (answer.status === 200) {
              const returned = Object.keys(answer.body.categories ?? {}).sort();
              const foreign = returned.filter((c) => !expected.categories.includes(c as DataCategory));
              const text = JSON.stringify(answer.body);
              if (
                foreign.length > 0 ||
                (!expected.categories.includes('exploitation') && text.includes('debt-bondage'))
              ) {
                counts.foreignFields++;
                mismatches.push(`${label}: foreign categories ${foreign.join(',')}`);
              }
              if (returned.join() !== [...expected.categories].sort().join())
                mismatches.push(`${label}: categories ${returned.join()}`);
            }
            const now = await auditCount();
            if (now !== audited + 1) {
              counts.auditMismatches++;
              mismatches.push(`${label}: ${now - audited} audit events`);
            }
            audited = now;
          }
        }
      }
    }
    console.log(
      `authorization matrix: ${AGENCY_KINDS.length} agency kinds × ${ROLE_SETS.length} role sets × ${STATES.length} consent states × ${PURPOSES.length} purposes × 2 views (live, as of) = ${counts.requests} requests; ` +
        `allowed ${counts.allowed}, denied 403 ${counts.denied403}, hidden 404 ${counts.hidden404}; ` +
        `unauthorized 2xx ${counts.unauthorized2xx}, foreign fields ${counts.foreignFields}, false denials ${counts.falseDenials}, audit mismatches ${counts.auditMismatches}`,
    );
    expect(mismatches).toEqual([]);
    expect(counts).toMatchObject({
      unauthorized2xx: 0,
      foreignFields: 0,
      falseDenials: 0,
      wrongStatus: 0,
      auditMismatches: 0,
    });
    expect(counts.requests).toBe(
      AGENCY_KINDS.length * ROLE_SETS.length * STATES.length * PURPOSES.length * 2,
    );
    expect(counts.allowed).toBeGreaterThan(0);
  });
});
