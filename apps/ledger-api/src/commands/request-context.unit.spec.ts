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

  it('is keyed with the installation secret: no dictionary can be run against it', () => {
    expect(
      fingerprintOf('POST', '/cases', body, Buffer.from('another-invented-secret-of-32-chars')),
    ).not.toBe(fingerprintOf('POST', '/cases', body, secret));
  });
});
