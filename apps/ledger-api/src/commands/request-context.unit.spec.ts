import type { AuthenticatedRequest } from '../access/current-actor.decorator';
import { ProblemException } from '../http/problem';
import { commandContextOf, commandOptionsOf, fingerprintOf } from './request-context';

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

describe('idempotency: an option of the command handler, not part of its context', () => {
  const secret = Buffer.from('an-invented-installation-secret-32+');
  const request = (headers: Record<string, unknown>, idSecret: Buffer | null = secret) =>
    ({
      method: 'POST',
      url: '/cases?x=1',
      body: { region: 'NL-ZH' },
      headers,
      raw: { id: 'req-1', idSecret: idSecret ?? undefined },
      actor: { principalId: 'p-1', agencyId: 'ngo-1', agencyKind: 'ngo', roles: ['caseworker'] },
    }) as unknown as AuthenticatedRequest;

  it('gives the handler no idempotency without an Idempotency-Key, and the key with the id secret with one', () => {
    expect(commandOptionsOf(request({}))).toEqual({});
    expect(commandOptionsOf(request({ 'idempotency-key': 'key-1' }))).toEqual({
      idempotency: { key: 'key-1', idSecret: secret },
    });
    // The context is the same either way: who, when, which request, what was asked.
    const withKey = commandContextOf(request({ 'idempotency-key': 'key-1' }));
    const without = commandContextOf(request({}));
    expect(Object.keys(withKey).sort()).toEqual(['actor', 'fingerprint', 'now', 'requestId']);
    expect(withKey.fingerprint).toBe(without.fingerprint);
  });

  it('refuses a malformed key with a 400 naming the header', () => {
    for (const key of ['', 'a b', 'é', 'x'.repeat(201), ['k1', 'k2']]) {
      const error = (() => {
        try {
          commandOptionsOf(request({ 'idempotency-key': key }));
        } catch (e) {
          return e;
        }
      })();
      expect(error).toBeInstanceOf(ProblemException);
      expect((error as ProblemException).problem).toMatchObject({
        status: 400,
        code: 'REQUEST.INVALID',
        field: 'Idempotency-Key',
      });
    }
  });

  it('cannot honour a key without the id secret', () => {
    expect(() => commandOptionsOf(request({ 'idempotency-key': 'key-1' }, null))).toThrow(/id secret/);
  });
});
