import { AGENCY_KINDS, ROLES, type AgencyKind, type Role } from '@nrm/shared-kernel';
import { BREAK_GLASS_AGENCY_KINDS, mayBreakGlass, mayOverseeAccess, mayRequestAccessReport } from './who-may';

const actor = (agencyKind: AgencyKind, roles: Role[]) => ({ agencyKind, roles });

describe('oversight authorization', () => {
  it('opens the oversight views only to the oversight role in the oversight body', () => {
    const allowed: string[] = [];
    for (const kind of AGENCY_KINDS)
      for (const role of ROLES)
        if (mayOverseeAccess(actor(kind, [role])).allowed) allowed.push(`${kind}/${role}`);
    expect(allowed).toEqual(['oversight-body/oversight']);
    expect(mayOverseeAccess(actor('oversight-body', ['caseworker']))).toMatchObject({
      allowed: false,
      code: 'OVERSIGHT.ONLY',
      reason: 'oversight-only',
    });
    // The role alone is not enough in another agency.
    expect(mayOverseeAccess(actor('national-coordinator', ['oversight', 'coordinator'])).allowed).toBe(false);
  });

  it('lets the break-glass role break the glass in assisting and protecting agencies only', () => {
    expect(mayBreakGlass(actor('law-enforcement', ['caseworker']))).toMatchObject({
      allowed: false,
      code: 'ACCESS.BREAK_GLASS_ROLE_REQUIRED',
      reason: 'break-glass-role-required',
    });
    for (const kind of AGENCY_KINDS) {
      const decision = mayBreakGlass(actor(kind, ['break-glass']));
      expect([kind, decision.allowed]).toEqual([kind, BREAK_GLASS_AGENCY_KINDS.includes(kind)]);
    }
    for (const kind of ['foreign-nrm', 'national-coordinator', 'oversight-body'] as const)
      expect(mayBreakGlass(actor(kind, ['break-glass']))).toMatchObject({
        allowed: false,
        code: 'ACCESS.BREAK_GLASS_NOT_FOR_AGENCY_KIND',
      });
  });

  it('lets a caseworker of an agency that may assist request a subject access report', () => {
    expect(mayRequestAccessReport(actor('ngo', ['caseworker'])).allowed).toBe(true);
    expect(mayRequestAccessReport(actor('health', ['decision-maker', 'caseworker'])).allowed).toBe(true);
    expect(mayRequestAccessReport(actor('ngo', ['break-glass']))).toMatchObject({
      allowed: false,
      code: 'ACCESS.REPORT_CASEWORKER_ONLY',
    });
    expect(mayRequestAccessReport(actor('oversight-body', ['caseworker'])).allowed).toBe(false);
    expect(mayRequestAccessReport(actor('national-coordinator', ['caseworker'])).allowed).toBe(false);
  });
});
