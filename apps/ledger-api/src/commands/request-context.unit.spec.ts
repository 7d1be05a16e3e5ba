import { fingerprintOf } from './request-context';

describe('the request fingerprint stored with events', () => {
  const secret = Buffer.from('an-invented-installation-secret-32+');
  const body = { indicators: ['debt-bondage'], region: 'NL-ZH', identity: { fullName: 'Ana Inventada' } };

  it('leaves identity data out: two reports differing only in it have the same fingerprint', () => {
    const other = { ...body, identity: { fullName: 'Someone Else', birthDate: '2001-02-03' } };
    expect(fingerprintOf('POST', '/cases', other, secret)).toBe(
      fingerprintOf('POST', '/cases', body, secret),
    );
    expect(fingerprintOf('POST', '/cases', { ...body, region: 'NL-NH' }, secret)).not.toBe(
      fingerprintOf('POST', '/cases', body, secret),
    );
  });

  it("leaves a lawful basis's justification out too: it is sealed under the subject's key", () => {
    const basis = {
      basis: 'court-order',
      agencyIds: ['ngo-a'],
      justification: 'Court order 2026/118 for Ana Inventada.',
    };
    const other = { ...basis, justification: 'Court order 2026/118 for Someone Else.' };
    expect(fingerprintOf('POST', '/cases/c/lawful-bases', other, secret)).toBe(
      fingerprintOf('POST', '/cases/c/lawful-bases', basis, secret),
    );
    expect(
      fingerprintOf('POST', '/cases/c/lawful-bases', { ...basis, basis: 'vital-interests' }, secret),
    ).not.toBe(fingerprintOf('POST', '/cases/c/lawful-bases', basis, secret));
  });

  it('is keyed with the installation secret: no dictionary can be run against it', () => {
    expect(
      fingerprintOf('POST', '/cases', body, Buffer.from('another-invented-secret-of-32-chars')),
    ).not.toBe(fingerprintOf('POST', '/cases', body, secret));
  });
});
