import { AGENCY_KINDS, ROLES, type Actor } from '@nrm/shared-kernel';
import { mayCoordinate } from './coordinator-access';

const actor = (agencyKind: Actor['agencyKind'], roles: Actor['roles']): Actor => ({
  principalId: 'p',
  agencyId: 'a',
  agencyKind,
  roles,
});

describe('mayCoordinate', () => {
  it('admits only a coordinator of the national coordinator, across every kind and role', () => {
    const admitted: string[] = [];
    for (const kind of AGENCY_KINDS)
      for (const role of ROLES) if (mayCoordinate(actor(kind, [role]))) admitted.push(`${kind}/${role}`);
    expect(admitted).toEqual(['national-coordinator/coordinator']);
  });

  it('admits the coordinator whatever other roles it has', () => {
    expect(mayCoordinate(actor('national-coordinator', ['caseworker', 'coordinator']))).toBe(true);
    expect(mayCoordinate(actor('national-coordinator', []))).toBe(false);
  });
});
