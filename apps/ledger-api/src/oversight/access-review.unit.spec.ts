import { DomainError, type Actor } from '@nrm/shared-kernel';
import { decideReview, evolveReview, initialReviewState, type ReviewAccess } from './access-review';
import type { BreakGlassAccessUsed } from './break-glass.events';

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

function refusal(fn: () => unknown): Pick<DomainError, 'kind' | 'code'> {
  try {
    fn();
  } catch (error) {
    if (error instanceof DomainError) return { kind: error.kind, code: error.code };
    throw error;
  }
  throw new Error('expected a refusal');
}

describe('reviewing a break-glass access', () => {
  it('records the finding with the access it names, once', () => {
    const events = decideReview(review({ note: 'DPA-2026-7' }), initialReviewState());
    expect(events).toEqual([
      {
        type: 'AccessReviewed',
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
      },
    ]);
    const reviewed = evolveReview(initialReviewState(), events[0]!);
    expect(refusal(() => decideReview(review({ finding: 'unjustified' }), reviewed))).toEqual({
      kind: 'conflict',
      code: 'OVERSIGHT.ALREADY_REVIEWED',
    });
  });

  it('refuses an access that does not exist, and a reviewer outside the oversight body', () => {
    expect(refusal(() => decideReview(review({ access: undefined }), initialReviewState()))).toEqual({
      kind: 'not-found',
      code: 'OVERSIGHT.BREAK_GLASS_NOT_FOUND',
    });
    const coordinator: Actor = { ...reviewer, agencyKind: 'national-coordinator' };
    expect(refusal(() => decideReview(review({}, coordinator), initialReviewState()))).toEqual({
      kind: 'forbidden',
      code: 'OVERSIGHT.ONLY',
    });
  });
});
