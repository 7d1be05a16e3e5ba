import type { Actor } from '@nrm/shared-kernel';
import { deciderSpec } from '../../shared-kernel/test/given-when-then';
import { ERASURE_GROUNDS, erasureDecider, type EraseSubject, type SubjectErased } from './erasure';

const officer: Actor = {
  principalId: 'p-dpa',
  agencyId: 'dpa',
  agencyKind: 'oversight-body',
  roles: ['oversight'],
};
const erase = (why: Omit<EraseSubject['data'], 'subjectId'>): EraseSubject => ({
  type: 'EraseSubject',
  data: { subjectId: 'subj-1', ...why },
  metadata: { actor: officer, now: '2026-12-01T10:00:00Z' },
});
const erased = (why: Partial<SubjectErased['data']>): SubjectErased => ({
  type: 'SubjectErased',
  schemaVersion: 2,
  data: {
    subjectId: 'subj-1',
    ...why,
    erasedByPrincipalId: 'p-dpa',
    erasedByAgencyId: 'dpa',
    erasedAt: '2026-12-01T10:00:00Z',
  },
});

const given = deciderSpec(erasureDecider);

describe('erasing a subject: why is a legal ground and a reference code, never prose', () => {
  it('records the ground and the reference (schema 2), for every ground', () => {
    for (const ground of ERASURE_GROUNDS)
      given()
        .when(erase({ ground, reference: 'DPA-2026/311' }))
        .then([erased({ ground, reference: 'DPA-2026/311' })]);
    given()
      .when(erase({ ground: 'court-order' }))
      .then([erased({ ground: 'court-order' })]);
  });

  it('takes the deprecated reason only as a reference code, recorded as the reference', () => {
    given()
      .when(erase({ reason: ' NGO-2026-311 ' }))
      .then([erased({ reference: 'NGO-2026-311' })]);
    given()
      .when(erase({ ground: 'subject-request', reason: 'NGO-2026-311' }))
      .then([erased({ ground: 'subject-request', reference: 'NGO-2026-311' })]);
  });

  it('refuses prose, an unknown or missing ground, and a reason given with a reference, naming the field', () => {
    const refusals: Array<[Omit<EraseSubject['data'], 'subjectId'>, string, string]> = [
      [{ reason: 'Request of Corvin Aldsworth via NGO' }, 'ERASURE.REASON_NOT_A_CODE', 'reason'],
      [{ reason: 'NGO-1' }, 'ERASURE.REASON_NOT_A_CODE', 'reason'],
      [{ reason: 'NGO-2026-311', reference: 'NGO-2026-311' }, 'ERASURE.REASON_DEPRECATED', 'reason'],
      [{}, 'ERASURE.GROUND_REQUIRED', 'ground'],
      [{ reference: 'NGO-2026-311' }, 'ERASURE.GROUND_REQUIRED', 'ground'],
      [{ ground: 'because' }, 'ERASURE.GROUND_UNKNOWN', 'ground'],
      [
        { ground: 'court-order', reference: 'Order about Corvin' },
        'ERASURE.REFERENCE_NOT_A_CODE',
        'reference',
      ],
    ];
    for (const [why, code, field] of refusals)
      given().when(erase(why)).thenThrows({ kind: 'rule', code, field });
  });

  it('still reads a schema-1 erasure (free-text reason) as an erasure', () => {
    const old: SubjectErased = {
      type: 'SubjectErased',
      schemaVersion: 1,
      data: {
        subjectId: 'subj-1',
        reason: 'Request of the person, ref. 2026-311.',
        erasedByPrincipalId: 'p-dpa',
        erasedByAgencyId: 'dpa',
        erasedAt: '2026-11-01T10:00:00Z',
      },
    };
    given(old)
      .when(erase({ ground: 'subject-request' }))
      .thenThrows({ kind: 'conflict', code: 'SUBJECT.ALREADY_ERASED', field: 'subjectId' });
  });
});
