import type { Actor } from '@nrm/shared-kernel';
import {
  decideAgency,
  decidePrincipal,
  evolveAgency,
  evolvePrincipal,
  newApiKey,
  parseApiKey,
  type PrincipalState,
  type RegistryEvent,
} from './registry';
import { RegistryView } from './registry-view';

const now = '2026-11-30T10:00:00.000Z';
const admin: Actor = {
  principalId: 'p-admin',
  agencyId: 'a-coord',
  agencyKind: 'national-coordinator',
  roles: ['registry-admin'],
};
const caseworker: Actor = { ...admin, principalId: 'p-cw', roles: ['caseworker'] };

describe('registry rules', () => {
  it('registers an agency once, from the console or by a registry admin only', () => {
    const cmd = {
      type: 'RegisterAgency' as const,
      data: { agencyId: 'a1', name: 'Clinic North', kind: 'health' as const, country: 'NL' },
      metadata: { now },
    };
    const [event] = decideAgency(cmd, { status: 'none' });
    expect(event).toEqual({
      type: 'AgencyRegistered',
      schemaVersion: 1,
      data: { ...cmd.data, registeredAt: now },
    });
    expect(() => decideAgency(cmd, evolveAgency({ status: 'none' }, event!))).toThrow(
      expect.objectContaining({ code: 'REGISTRY.AGENCY_EXISTS', kind: 'conflict' }),
    );
    expect(() => decideAgency({ ...cmd, metadata: { now, actor: caseworker } }, { status: 'none' })).toThrow(
      expect.objectContaining({ code: 'REGISTRY.ADMIN_ONLY', kind: 'forbidden' }),
    );
    expect(decideAgency({ ...cmd, metadata: { now, actor: admin } }, { status: 'none' })).toHaveLength(1);
    expect(() =>
      decideAgency({ ...cmd, data: { ...cmd.data, kind: 'church' as never } }, { status: 'none' }),
    ).toThrow(expect.objectContaining({ code: 'REGISTRY.UNKNOWN_KIND', field: 'kind' }));
  });

  it('registers a principal only for an existing agency, with known roles, and issues and revokes its keys', () => {
    const register = {
      type: 'RegisterPrincipal' as const,
      data: {
        principalId: 'p1',
        agencyId: 'a1',
        label: 'intake desk',
        roles: ['caseworker' as const],
        agencyExists: true,
      },
      metadata: { now },
    };
    expect(() =>
      decidePrincipal({ ...register, data: { ...register.data, agencyExists: false } }, { status: 'none' }),
    ).toThrow(expect.objectContaining({ code: 'REGISTRY.AGENCY_NOT_FOUND', kind: 'not-found' }));
    expect(() =>
      decidePrincipal({ ...register, data: { ...register.data, roles: [] } }, { status: 'none' }),
    ).toThrow(expect.objectContaining({ code: 'REGISTRY.ROLES' }));
    let state: PrincipalState = { status: 'none' };
    for (const e of decidePrincipal(register, state)) state = evolvePrincipal(state, e);
    const issue = {
      type: 'IssueApiKey' as const,
      data: { principalId: 'p1', keyId: 'k1', secretSha256: 'ab' },
      metadata: { now },
    };
    for (const e of decidePrincipal(issue, state)) state = evolvePrincipal(state, e);
    expect(() => decidePrincipal(issue, state)).toThrow(
      expect.objectContaining({ code: 'REGISTRY.KEY_EXISTS' }),
    );
    const revoke = {
      type: 'RevokeApiKey' as const,
      data: { principalId: 'p1', keyId: 'k1' },
      metadata: { now },
    };
    for (const e of decidePrincipal(revoke, state)) state = evolvePrincipal(state, e);
    expect(() => decidePrincipal(revoke, state)).toThrow(
      expect.objectContaining({ code: 'REGISTRY.KEY_NOT_ACTIVE' }),
    );
  });
});

describe('API keys and the registry view', () => {
  function viewWith(...events: RegistryEvent[]): RegistryView {
    const view = new RegistryView();
    events.forEach((e, i) => view.apply(e, i + 1));
    return view;
  }
  const agency: RegistryEvent = {
    type: 'AgencyRegistered',
    schemaVersion: 1,
    data: { agencyId: 'a1', name: 'NGO Safe', kind: 'ngo', country: 'NL', registeredAt: now },
  };
  const principal: RegistryEvent = {
    type: 'PrincipalRegistered',
    schemaVersion: 1,
    data: { principalId: 'p1', agencyId: 'a1', label: 'desk', roles: ['caseworker'], registeredAt: now },
  };

  it('issues a key that is shown once and authenticates as its principal, and nothing else does', () => {
    const key = newApiKey();
    expect(parseApiKey(key.apiKey)).toMatchObject({ keyId: key.keyId });
    expect(key.apiKey).not.toContain(key.secretSha256);
    const view = viewWith(agency, principal, {
      type: 'ApiKeyIssued',
      schemaVersion: 1,
      data: { principalId: 'p1', keyId: key.keyId, secretSha256: key.secretSha256, issuedAt: now },
    });
    expect(view.authenticateApiKey(key.apiKey)).toEqual({
      principalId: 'p1',
      agencyId: 'a1',
      agencyKind: 'ngo',
      roles: ['caseworker'],
    });

    const other = newApiKey();
    expect(view.authenticateApiKey(other.apiKey)).toBeUndefined(); // unknown key id
    const forged = `nrm_${key.keyId}_${other.apiKey.slice(-43)}`;
    expect(view.authenticateApiKey(forged)).toBeUndefined(); // right id, wrong secret
    expect(view.authenticateApiKey('Bearer nonsense')).toBeUndefined();
    expect(view.authenticateApiKey('')).toBeUndefined();
  });

  it('stops authenticating a revoked key, and ignores an event applied twice', () => {
    const key = newApiKey();
    const issued: RegistryEvent = {
      type: 'ApiKeyIssued',
      schemaVersion: 1,
      data: { principalId: 'p1', keyId: key.keyId, secretSha256: key.secretSha256, issuedAt: now },
    };
    const view = viewWith(agency, principal, issued, {
      type: 'ApiKeyRevoked',
      schemaVersion: 1,
      data: { principalId: 'p1', keyId: key.keyId, revokedAt: now },
    });
    expect(view.authenticateApiKey(key.apiKey)).toBeUndefined();
    view.apply(issued, 3); // a replayed older event must not revive the key
    expect(view.authenticateApiKey(key.apiKey)).toBeUndefined();
  });
});
