import type { Actor, SealedText } from '@nrm/shared-kernel';
import { deciderSpec } from '../../../shared-kernel/test/given-when-then';
import { breakGlassDecider, type ReviewAccess } from './decider';
import type { AccessReviewed, BreakGlassAccessUsed } from './events';

const reviewer: Actor = {
  principalId: 'p-dpa',
  agencyId: 'dpa',
  agencyKind: 'oversight-body',
  roles: ['oversight'],
};
const access: BreakGlassAccessUsed['data'] = {
  principalId: 'p-police',
  agencyId: 'police',
  agencyKind: 'law-enforcement',
  caseId: 'case-1',
  subjectId: 'subj-1',
  view: 'case-break-glass',
  purpose: 'protection',
  justification: 'Imminent danger reported; shelter location needed at once.',
  categories: ['case-status'],
  requestId: 'r-1',
  accessedAt: '2026-03-02T08:00:00Z',
};

function review(overrides: Partial<ReviewAccess['data']> = {}, actor: Actor = reviewer): ReviewAccess {
  return {
    type: 'ReviewAccess',
    data: { accessEventId: 'ev-1', access, finding: 'justified', ...overrides },
    metadata: { actor, now: '2026-03-03T12:00:00Z', requestId: 'r-9' },
  };
}

const sealedNote: SealedText = { alg: 'A256GCM', keyId: 'subj-1', iv: 'aXY=', data: 'ZGF0YQ==', tag: 'dGFn' };

const reviewed: AccessReviewed = {
  type: 'AccessReviewed',
  schemaVersion: 2,
  data: {
    accessEventId: 'ev-1',
    caseId: 'case-1',
    subjectId: 'subj-1',
    finding: 'justified',
    sealedNote,
    principalId: 'p-dpa',
    agencyId: 'dpa',
    agencyKind: 'oversight-body',
    requestId: 'r-9',
    reviewedAt: '2026-03-03T12:00:00Z',
  },
};

const given = deciderSpec(breakGlassDecider);

describe('reviewing a break-glass access', () => {
  it('records the finding with the access it names, the note sealed (schema 2)', () => {
    given().when(review({ sealedNote })).then([reviewed]);
  });

  it('keeps the note out when none is given, and records a null one (after the erasure) as null', () => {
    const [event] = given().when(review()).events();
    expect(event?.data).not.toHaveProperty('note');
    expect(event?.data).not.toHaveProperty('sealedNote');
    const [late] = given()
      .when(review({ sealedNote: null }))
      .events();
    expect(late?.data).toMatchObject({ sealedNote: null });
    expect(late?.data).not.toHaveProperty('note');
  });

  it('still evolves from a schema-1 review whose note was kept in clear', () => {
    const old: AccessReviewed = {
      ...reviewed,
      schemaVersion: 1,
      data: {
        accessEventId: 'ev-1',
        caseId: 'case-1',
        subjectId: 'subj-1',
        finding: 'justified',
        note: 'DPA-2026-7',
        principalId: 'p-dpa',
        agencyId: 'dpa',
        agencyKind: 'oversight-body',
        requestId: 'r-9',
        reviewedAt: '2026-03-03T12:00:00Z',
      },
    };
    given(old)
      .when(review())
      .thenThrows({ kind: 'conflict', code: 'OVERSIGHT.ALREADY_REVIEWED', field: 'accessEventId' });
  });

  it('records a finding once: a second review, of any finding, conflicts', () => {
    for (const finding of ['justified', 'unjustified', 'needs-follow-up'] as const)
      given(reviewed)
        .when(review({ finding }))
        .thenThrows({ kind: 'conflict', code: 'OVERSIGHT.ALREADY_REVIEWED', field: 'accessEventId' });
  });

  it('refuses an access that does not exist', () => {
    given()
      .when(review({ access: undefined }))
      .thenThrows({ kind: 'not-found', code: 'OVERSIGHT.BREAK_GLASS_NOT_FOUND', field: 'accessEventId' });
  });

  it('refuses a reviewer outside the oversight body, or without the oversight role, before anything else', () => {
    const coordinator: Actor = { ...reviewer, agencyKind: 'national-coordinator' };
    const caseworker: Actor = { ...reviewer, roles: ['caseworker'] };
    for (const actor of [coordinator, caseworker]) {
      given().when(review({}, actor)).thenThrows({ kind: 'forbidden', code: 'OVERSIGHT.ONLY' });
      given(reviewed)
        .when(review({ access: undefined }, actor))
        .thenThrows({ kind: 'forbidden', code: 'OVERSIGHT.ONLY' });
    }
  });

  it('shows the face of the other deciders: decide, evolve and initialState, nothing more', () => {
    expect(Object.keys(breakGlassDecider).sort()).toEqual(['decide', 'evolve', 'initialState']);
    expect([breakGlassDecider.decide.length, breakGlassDecider.evolve.length]).toEqual([2, 2]);
  });

  it('folds a review into the reviewed state, whatever came before', () => {
    const state = breakGlassDecider.evolve(breakGlassDecider.initialState(), reviewed);
    expect(state).toEqual({ status: 'reviewed', finding: 'justified', reviewedAt: '2026-03-03T12:00:00Z' });
    expect(breakGlassDecider.initialState()).toEqual({ status: 'unreviewed' });
  });
});
