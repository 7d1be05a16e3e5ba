import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { isSealedIdentity } from '@nrm/shared-kernel';
import { openIdentity, sealIdentity, type IdentityData } from './sealed-identity';

const identity: IdentityData = {
  fullName: 'Ana Inventada',
  birthDate: '1999-04-01',
  nationality: 'MD',
  contact: '+00 000 0000',
  notes: 'Prefers an interpreter.',
};

describe('sealed identity (AES-256-GCM per subject)', () => {
  it('opens with the subject key, and shows nothing of the plaintext while sealed', () => {
    const key = randomBytes(32);
    const sealed = sealIdentity(key, 'subject-1', identity);
    expect(isSealedIdentity(sealed)).toBe(true);
    expect(JSON.stringify(sealed)).not.toContain('Inventada');
    expect(openIdentity(key, sealed)).toEqual(identity);
    // A fresh nonce each time: the same data seals differently.
    expect(sealIdentity(key, 'subject-1', identity).data).not.toBe(sealed.data);
  });

  it('refuses another key, another subject, and any changed byte', () => {
    const key = randomBytes(32);
    const sealed = sealIdentity(key, 'subject-1', identity);
    expect(() => openIdentity(randomBytes(32), sealed)).toThrow();
    expect(() => openIdentity(key, { ...sealed, keyId: 'subject-2' })).toThrow();
    fc.assert(
      fc.property(
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        fc.constantFrom('iv', 'data', 'tag'),
        (at, flip, part) => {
          const bytes = Buffer.from(sealed[part], 'base64');
          const i = at % bytes.length;
          bytes[i] = bytes[i]! ^ flip;
          expect(() => openIdentity(key, { ...sealed, [part]: bytes.toString('base64') })).toThrow();
        },
      ),
    );
  });

  it('recognises the stored shape only', () => {
    const sealed = sealIdentity(randomBytes(32), 's', identity);
    expect(isSealedIdentity({ ...sealed, extra: 1 })).toBe(false);
    expect(isSealedIdentity({ ...sealed, alg: 'none' })).toBe(false);
    expect(isSealedIdentity({ ...sealed, data: 'not base64!' })).toBe(false);
    expect(isSealedIdentity(identity)).toBe(false);
    expect(() => sealIdentity(randomBytes(16), 's', identity)).toThrow(/32 bytes/);
  });
});
