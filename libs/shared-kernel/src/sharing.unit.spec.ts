import { basisAllowsSharing, isAbroad } from './sharing';
import { AGENCY_KINDS } from './vocabulary';

describe('basisAllowsSharing', () => {
  it('sends data abroad, or to an agency of unknown kind, on consent only; at home on either basis', () => {
    for (const kind of AGENCY_KINDS) {
      expect(basisAllowsSharing('consent', kind)).toBe(true);
      expect(basisAllowsSharing('lawful-basis', kind)).toBe(kind !== 'foreign-nrm');
    }
    expect(basisAllowsSharing('consent', undefined)).toBe(true);
    expect(basisAllowsSharing('lawful-basis', undefined)).toBe(false);
  });
});

describe('isAbroad: the one statement of which agencies are abroad', () => {
  it('holds for a foreign contact point only', () => {
    expect(AGENCY_KINDS.filter(isAbroad)).toEqual(['foreign-nrm']);
  });
});
