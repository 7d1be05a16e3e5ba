import { DATA_CATEGORIES, fold } from '@nrm/shared-kernel';
import {
  consentCovers,
  consentDecider,
  coveredCategories,
  type ConsentEvent,
  type ConsentGranted,
  type ConsentState,
  type ConsentWithdrawn,
  type LawfulBasisRecorded,
} from './index';

const CASE = 'case-7f3a';
const GRANTED_AT = '2025-03-01T10:00:00.000Z';
const EXPIRES = '2025-09-01T00:00:00.000Z';
const AT = '2025-05-01T12:00:00.000Z';

const granted = (data: Partial<ConsentGranted['data']> = {}): ConsentGranted => ({
  type: 'ConsentGranted',
  schemaVersion: 1,
  data: {
    caseId: CASE,
    consentId: 'cons-1',
    recordedByAgencyId: 'ag-clinic-1',
    recordedByPrincipalId: 'pr-cw-1',
    agencyIds: ['ag-ngo-1', 'ag-shelter-1'],
    categories: ['support-needs', 'case-status'],
    purposes: ['assistance', 'referral'],
    expiresAt: EXPIRES,
    capture: { method: 'written', language: 'en', interpreterUsed: false },
    grantedAt: GRANTED_AT,
    ...data,
  },
});

const basis = (data: Partial<LawfulBasisRecorded['data']> = {}): LawfulBasisRecorded => ({
  type: 'LawfulBasisRecorded',
  schemaVersion: 1,
  data: {
    caseId: CASE,
    lawfulBasisId: 'lb-1',
    basis: 'child-protection',
    justification: 'Child protection order CP-77 requires sharing with the shelter.',
    agencyIds: ['ag-shelter-1'],
    categories: ['health', 'case-status'],
    purposes: ['protection', 'assistance'],
    recordedByAgencyId: 'ag-social-1',
    recordedByPrincipalId: 'pr-dm-1',
    recordedAt: GRANTED_AT,
    ...data,
  },
});

const withdrawn = (data: Partial<ConsentWithdrawn['data']> = {}): ConsentWithdrawn => ({
  type: 'ConsentWithdrawn',
  schemaVersion: 1,
  data: {
    caseId: CASE,
    consentId: 'cons-1',
    whole: true,
    withdrawnByAgencyId: 'ag-ngo-1',
    withdrawnAt: '2025-04-01T00:00:00Z',
    ...data,
  },
});

const state = (...events: ConsentEvent[]): ConsentState => fold(consentDecider, events);
const q = (
  agencyId: string,
  category: (typeof DATA_CATEGORIES)[number],
  purpose: 'assistance' | 'referral' | 'protection' | 'investigation' | 'statistics',
  at = AT,
) => ({ agencyId, category, purpose, at });

describe('consentCovers', () => {
  it('covers nothing before anything is recorded', () => {
    expect(consentCovers(state(), q('ag-ngo-1', 'case-status', 'assistance'))).toBeUndefined();
  });

  it('covers every combination of the granted agencies, categories and purposes', () => {
    const s = state(granted());
    for (const agencyId of ['ag-ngo-1', 'ag-shelter-1']) {
      for (const category of ['support-needs', 'case-status'] as const) {
        for (const purpose of ['assistance', 'referral'] as const) {
          expect(consentCovers(s, q(agencyId, category, purpose))).toEqual({
            basis: 'consent',
            consentId: 'cons-1',
          });
        }
      }
    }
  });

  it('covers nothing outside the grant', () => {
    const s = state(granted());
    expect(consentCovers(s, q('ag-police-1', 'case-status', 'assistance'))).toBeUndefined();
    expect(consentCovers(s, q('ag-ngo-1', 'health', 'assistance'))).toBeUndefined();
    expect(consentCovers(s, q('ag-ngo-1', 'case-status', 'investigation'))).toBeUndefined();
  });

  it('covers up to, but not at, the moment of expiry', () => {
    const s = state(granted());
    expect(
      consentCovers(s, q('ag-ngo-1', 'case-status', 'assistance', '2025-08-31T23:59:59.999Z')),
    ).toBeDefined();
    expect(consentCovers(s, q('ag-ngo-1', 'case-status', 'assistance', EXPIRES))).toBeUndefined();
    expect(
      consentCovers(s, q('ag-ngo-1', 'case-status', 'assistance', '2026-01-01T00:00:00Z')),
    ).toBeUndefined();
  });

  it('covers from the moment of the grant, not before', () => {
    const s = state(granted());
    expect(consentCovers(s, q('ag-ngo-1', 'case-status', 'assistance', GRANTED_AT))).toBeDefined();
    expect(
      consentCovers(s, q('ag-ngo-1', 'case-status', 'assistance', '2025-03-01T09:59:59.999Z')),
    ).toBeUndefined();
  });

  it('compares instants, not their text', () => {
    const s = state(granted());
    // 01:00+02:00 on 1 September is 23:00Z on 31 August: still before expiry.
    expect(consentCovers(s, q('ag-ngo-1', 'case-status', 'assistance', '2025-09-01T01:00:00+02:00'))).toEqual(
      {
        basis: 'consent',
        consentId: 'cons-1',
      },
    );
    // 23:00-02:00 on 31 August is 01:00Z on 1 September: expired.
    expect(
      consentCovers(s, q('ag-ngo-1', 'case-status', 'assistance', '2025-08-31T23:00:00-02:00')),
    ).toBeUndefined();
  });

  it('covers nothing at an unreadable instant', () => {
    const s = state(granted(), basis());
    expect(consentCovers(s, q('ag-ngo-1', 'case-status', 'assistance', 'now'))).toBeUndefined();
    expect(consentCovers(s, q('ag-shelter-1', 'health', 'protection', ''))).toBeUndefined();
  });

  it('covers nothing of a consent withdrawn in full, from then on', () => {
    const s = state(granted(), withdrawn());
    for (const agencyId of ['ag-ngo-1', 'ag-shelter-1']) {
      expect(consentCovers(s, q(agencyId, 'case-status', 'assistance'))).toBeUndefined();
      expect(coveredCategories(s, { agencyId, purpose: 'referral', at: AT })).toEqual([]);
    }
  });

  it('stops covering exactly the (agency, purpose) pairs a partial withdrawal names', () => {
    const s = state(
      granted(),
      withdrawn({ whole: false, agencyIds: ['ag-shelter-1'], purposes: ['referral'] }),
    );
    expect(consentCovers(s, q('ag-ngo-1', 'support-needs', 'assistance'))).toEqual({
      basis: 'consent',
      consentId: 'cons-1',
    });
    expect(consentCovers(s, q('ag-ngo-1', 'case-status', 'referral'))).toBeDefined();
    expect(consentCovers(s, q('ag-shelter-1', 'case-status', 'assistance'))).toBeDefined();
    expect(consentCovers(s, q('ag-shelter-1', 'case-status', 'referral'))).toBeUndefined();
    expect(consentCovers(s, q('ag-shelter-1', 'support-needs', 'referral'))).toBeUndefined();
  });

  it('withdraws (ngo, exploitation) from [ngo, shelter] × 4 categories and nothing else', () => {
    const categories = ['identity', 'health', 'exploitation', 'case-status'] as const;
    const s = state(
      granted({ categories: [...categories], purposes: ['assistance'] }),
      withdrawn({ whole: false, agencyIds: ['ag-ngo-1'], categories: ['exploitation'] }),
    );
    const seen = (agencyId: string) =>
      coveredCategories(s, { agencyId, purpose: 'assistance', at: AT }).map((c) => c.category);
    expect(seen('ag-ngo-1')).toEqual(['identity', 'health', 'case-status']);
    expect(seen('ag-shelter-1')).toEqual(['identity', 'health', 'exploitation', 'case-status']);
  });

  it('never covers the agency that made the record', () => {
    const s = state(
      granted({ recordedByAgencyId: 'ag-ngo-1' }),
      basis({ recordedByAgencyId: 'ag-shelter-1', categories: ['case-status'], purposes: ['assistance'] }),
    );
    expect(consentCovers(s, q('ag-ngo-1', 'case-status', 'assistance'))).toBeUndefined();
    // The shelter is covered by the consent the NGO recorded, not by its own basis.
    expect(consentCovers(s, q('ag-shelter-1', 'case-status', 'assistance'))).toEqual({
      basis: 'consent',
      consentId: 'cons-1',
    });
  });

  it('falls back on a lawful basis only where no consent covers', () => {
    const s = state(granted(), basis());
    // Both cover: the person's consent is named.
    expect(consentCovers(s, q('ag-shelter-1', 'case-status', 'assistance'))).toEqual({
      basis: 'consent',
      consentId: 'cons-1',
    });
    expect(consentCovers(s, q('ag-shelter-1', 'health', 'protection'))).toEqual({
      basis: 'lawful-basis',
      lawfulBasisId: 'lb-1',
    });
    expect(consentCovers(s, q('ag-shelter-1', 'case-status', 'protection'))).toEqual({
      basis: 'lawful-basis',
      lawfulBasisId: 'lb-1',
    });
    expect(consentCovers(s, q('ag-ngo-1', 'health', 'protection'))).toBeUndefined();
  });

  it('names the lawful basis once the consent is withdrawn', () => {
    const s = state(granted(), basis(), withdrawn());
    expect(consentCovers(s, q('ag-shelter-1', 'case-status', 'assistance'))).toEqual({
      basis: 'lawful-basis',
      lawfulBasisId: 'lb-1',
    });
  });

  it('keeps a lawful basis without expiry, and ends one with expiry', () => {
    const far = '2040-01-01T00:00:00Z';
    expect(consentCovers(state(basis()), q('ag-shelter-1', 'health', 'protection', far))).toBeDefined();
    const ending = state(basis({ expiresAt: '2025-06-01T00:00:00Z' }));
    expect(
      consentCovers(ending, q('ag-shelter-1', 'health', 'protection', '2025-05-31T23:59:59Z')),
    ).toBeDefined();
    expect(
      consentCovers(ending, q('ag-shelter-1', 'health', 'protection', '2025-06-01T00:00:00Z')),
    ).toBeUndefined();
    expect(
      consentCovers(ending, q('ag-shelter-1', 'health', 'protection', '2025-02-01T00:00:00Z')),
    ).toBeUndefined();
  });

  it('names the consent that lasts longest, then the smallest reference', () => {
    const s = state(
      granted({ consentId: 'cons-b', expiresAt: '2025-07-01T00:00:00Z' }),
      granted({ consentId: 'cons-c', expiresAt: '2025-12-01T00:00:00Z' }),
      granted({ consentId: 'cons-a', expiresAt: '2025-07-01T00:00:00Z' }),
    );
    expect(consentCovers(s, q('ag-ngo-1', 'case-status', 'assistance'))).toEqual({
      basis: 'consent',
      consentId: 'cons-c',
    });
    expect(
      consentCovers(s, q('ag-ngo-1', 'case-status', 'assistance', '2025-12-01T00:00:00Z')),
    ).toBeUndefined();
    const withoutC = state(
      granted({ consentId: 'cons-b', expiresAt: '2025-07-01T00:00:00Z' }),
      granted({ consentId: 'cons-a', expiresAt: '2025-07-01T00:00:00Z' }),
    );
    expect(consentCovers(withoutC, q('ag-ngo-1', 'case-status', 'assistance'))).toEqual({
      basis: 'consent',
      consentId: 'cons-a',
    });
  });

  it('still covers through another consent when one is withdrawn', () => {
    const s = state(
      granted(),
      granted({ consentId: 'cons-2', expiresAt: '2025-06-01T00:00:00Z' }),
      withdrawn(),
    );
    expect(consentCovers(s, q('ag-ngo-1', 'case-status', 'assistance'))).toEqual({
      basis: 'consent',
      consentId: 'cons-2',
    });
  });

  it('handles references that are names of object properties', () => {
    const s = state(granted({ consentId: '__proto__' }), basis({ lawfulBasisId: 'constructor' }));
    expect(consentCovers(s, q('ag-ngo-1', 'case-status', 'assistance'))).toEqual({
      basis: 'consent',
      consentId: '__proto__',
    });
    expect(consentCovers(s, q('ag-shelter-1', 'health', 'protection'))).toEqual({
      basis: 'lawful-basis',
      lawfulBasisId: 'constructor',
    });
    expect(consentCovers(state(), q('ag-ngo-1', 'case-status', 'assistance'))).toBeUndefined();
  });
});

describe('coveredCategories', () => {
  it('is empty before anything is recorded', () => {
    expect(coveredCategories(state(), { agencyId: 'ag-ngo-1', purpose: 'assistance', at: AT })).toEqual([]);
  });

  it('lists each covered category once, with its ground, in the vocabulary order', () => {
    const s = state(granted(), basis());
    expect(coveredCategories(s, { agencyId: 'ag-shelter-1', purpose: 'assistance', at: AT })).toEqual([
      { category: 'health', basis: 'lawful-basis' },
      { category: 'support-needs', basis: 'consent' },
      { category: 'case-status', basis: 'consent' },
    ]);
    expect(coveredCategories(s, { agencyId: 'ag-ngo-1', purpose: 'assistance', at: AT })).toEqual([
      { category: 'support-needs', basis: 'consent' },
      { category: 'case-status', basis: 'consent' },
    ]);
    expect(coveredCategories(s, { agencyId: 'ag-police-1', purpose: 'assistance', at: AT })).toEqual([]);
  });

  it('drops what expired', () => {
    const s = state(granted(), basis({ expiresAt: '2025-06-01T00:00:00Z' }));
    expect(
      coveredCategories(s, { agencyId: 'ag-shelter-1', purpose: 'assistance', at: '2025-07-01T00:00:00Z' }),
    ).toEqual([
      { category: 'support-needs', basis: 'consent' },
      { category: 'case-status', basis: 'consent' },
    ]);
    expect(
      coveredCategories(s, { agencyId: 'ag-shelter-1', purpose: 'assistance', at: '2025-10-01T00:00:00Z' }),
    ).toEqual([]);
  });

  it('agrees with consentCovers for every category', () => {
    const s = state(granted(), basis(), withdrawn({ whole: false, categories: ['case-status'] }));
    for (const agencyId of ['ag-ngo-1', 'ag-shelter-1', 'ag-police-1']) {
      for (const purpose of ['assistance', 'referral', 'protection'] as const) {
        const listed = coveredCategories(s, { agencyId, purpose, at: AT });
        const expected = DATA_CATEGORIES.flatMap((category) => {
          const coverage = consentCovers(s, { agencyId, category, purpose, at: AT });
          return coverage ? [{ category, basis: coverage.basis }] : [];
        });
        expect(listed).toEqual(expected);
      }
    }
    expect(coveredCategories(s, { agencyId: 'ag-shelter-1', purpose: 'assistance', at: AT })).toEqual([
      { category: 'health', basis: 'lawful-basis' },
      { category: 'support-needs', basis: 'consent' },
      { category: 'case-status', basis: 'lawful-basis' },
    ]);
  });
});
