import type { Actor } from '@nrm/shared-kernel';
import {
  checkPrincipalReach,
  decideAgency,
  decidePrincipal,
  evolveAgency,
  evolvePrincipal,
  newApiKey,
  parseApiKey,
  type PrincipalAction,
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

describe('switching principals and agencies off', () => {
  const ngoAdmin: Actor = {
    principalId: 'p-ngo-admin',
    agencyId: 'a1',
    agencyKind: 'ngo',
    roles: ['registry-admin'],
  };
  const registered: RegistryEvent[] = [
    {
      type: 'AgencyRegistered',
      schemaVersion: 1,
      data: { agencyId: 'a1', name: 'NGO Safe', kind: 'ngo', country: 'NL', registeredAt: now },
    },
    {
      type: 'PrincipalRegistered',
      schemaVersion: 1,
      data: { principalId: 'p1', agencyId: 'a1', label: 'desk', roles: ['caseworker'], registeredAt: now },
    },
  ];

  it('records who switched a principal off and why, once; it cannot switch itself off or on', () => {
    let state: PrincipalState = evolvePrincipal({ status: 'none' }, registered[1] as never);
    const disable = {
      type: 'DisablePrincipal' as const,
      data: { principalId: 'p1', reason: 'offboarded' as const },
      metadata: { now, actor: ngoAdmin },
    };
    const [event] = decidePrincipal(disable, state);
    expect(event).toEqual({
      type: 'PrincipalDisabled',
      schemaVersion: 1,
      data: {
        principalId: 'p1',
        agencyId: 'a1',
        reason: 'offboarded',
        by: { via: 'api', principalId: 'p-ngo-admin', agencyId: 'a1' },
        disabledAt: now,
      },
    });
    state = evolvePrincipal(state, event!);
    expect(decidePrincipal(disable, state)).toEqual([]); // already off
    expect(() =>
      decidePrincipal({ ...disable, data: { principalId: 'p1', reason: 'gone fishing' as never } }, state),
    ).toThrow(expect.objectContaining({ code: 'REGISTRY.REASON', field: 'reason' }));
    const asItself = { ...ngoAdmin, principalId: 'p1' };
    expect(() =>
      decidePrincipal(
        { type: 'EnablePrincipal', data: { principalId: 'p1' }, metadata: { now, actor: asItself } },
        state,
      ),
    ).toThrow(expect.objectContaining({ code: 'REGISTRY.NOT_YOURSELF' }));
    expect(() => decidePrincipal({ ...disable, metadata: { now, actor: asItself } }, state)).toThrow(
      expect.objectContaining({ code: 'REGISTRY.NOT_YOURSELF' }),
    );
    const [enabled] = decidePrincipal(
      { type: 'EnablePrincipal', data: { principalId: 'p1' }, metadata: { now } },
      state,
    );
    expect(enabled).toMatchObject({ type: 'PrincipalEnabled', data: { by: { via: 'console' } } });
    expect(() => decidePrincipal({ ...disable, metadata: { now, actor: caseworker } }, state)).toThrow(
      expect.objectContaining({ code: 'REGISTRY.ADMIN_ONLY' }),
    );
  });

  it('lets no agency switch itself off or on', () => {
    const state = evolveAgency({ status: 'none' }, registered[0] as never);
    const asOwnAdmin = { now, actor: ngoAdmin };
    expect(() =>
      decideAgency(
        { type: 'DisableAgency', data: { agencyId: 'a1', reason: 'suspended' }, metadata: asOwnAdmin },
        state,
      ),
    ).toThrow(expect.objectContaining({ code: 'REGISTRY.NOT_OWN_AGENCY' }));
    const [off] = decideAgency(
      {
        type: 'DisableAgency',
        data: { agencyId: 'a1', reason: 'agency-compromised' },
        metadata: { now, actor: admin },
      },
      state,
    );
    expect(off).toMatchObject({
      type: 'AgencyDisabled',
      data: { by: { via: 'api', principalId: 'p-admin' } },
    });
    const disabled = evolveAgency(state, off!);
    expect(() =>
      decideAgency({ type: 'EnableAgency', data: { agencyId: 'a1' }, metadata: asOwnAdmin }, disabled),
    ).toThrow(expect.objectContaining({ code: 'REGISTRY.NOT_OWN_AGENCY' }));
    expect(
      decideAgency(
        { type: 'EnableAgency', data: { agencyId: 'a1' }, metadata: { now, actor: admin } },
        disabled,
      ),
    ).toHaveLength(1);
  });

  it('gives the standing of a principal: its own switch first, then its agency’s', () => {
    const view = new RegistryView();
    registered.forEach((e, i) => view.apply(e, i + 1));
    const by = { via: 'console' as const };
    expect(view.standing('p1')).toBe('active');
    view.apply(
      {
        type: 'AgencyDisabled',
        schemaVersion: 1,
        data: { agencyId: 'a1', reason: 'suspended', by, disabledAt: now },
      },
      3,
    );
    expect(view.standing('p1')).toBe('agency-disabled');
    view.apply(
      {
        type: 'PrincipalDisabled',
        schemaVersion: 1,
        data: { principalId: 'p1', agencyId: 'a1', reason: 'offboarded', by, disabledAt: now },
      },
      4,
    );
    expect(view.standing('p1')).toBe('principal-disabled');
    expect(view.disabled()).toEqual({
      agencies: [{ agencyId: 'a1', reason: 'suspended', since: now }],
      principals: [{ principalId: 'p1', agencyId: 'a1', reason: 'offboarded', since: now }],
    });
    expect(view.disabled('a2')).toEqual({ agencies: [], principals: [] });
    view.apply({ type: 'AgencyEnabled', schemaVersion: 1, data: { agencyId: 'a1', by, enabledAt: now } }, 5);
    view.apply(
      {
        type: 'PrincipalEnabled',
        schemaVersion: 1,
        data: { principalId: 'p1', agencyId: 'a1', by, enabledAt: now },
      },
      6,
    );
    expect(view.standing('p1')).toBe('active');
    // A disabled principal still authenticates (the guard refuses it, and audits the refusal).
    expect(view.actorFor('p1')).toMatchObject({ principalId: 'p1' });
  });

  it('hashes and compares a secret once for every well-formed key, known id or not, revoked or not', () => {
    const key = newApiKey();
    const view = new RegistryView();
    [
      ...registered,
      {
        type: 'ApiKeyIssued',
        schemaVersion: 1,
        data: { principalId: 'p1', keyId: key.keyId, secretSha256: key.secretSha256, issuedAt: now },
      } as RegistryEvent,
    ].forEach((e, i) => view.apply(e, i + 1));
    const tries = [
      newApiKey().apiKey, // unknown id
      `nrm_${key.keyId}_${newApiKey().apiKey.slice(-43)}`, // known id, wrong secret
      key.apiKey, // right
    ];
    for (const attempt of tries) view.authenticateApiKey(attempt);
    expect(view.secretComparisons).toBe(3);
    view.authenticateApiKey('not-a-key');
    expect(view.secretComparisons).toBe(3); // malformed: refused before any lookup
  });
});

describe('registry reach: nobody receives a working credential of another agency (attack)', () => {
  const ngoAdmin: Actor = {
    principalId: 'p-ngo-admin',
    agencyId: 'a-ngo',
    agencyKind: 'ngo',
    roles: ['registry-admin'],
  };
  const actions: PrincipalAction[] = ['register', 'issue-key', 'revoke-key', 'disable', 'enable'];
  const verdict = (
    actor: Actor | undefined,
    action: PrincipalAction,
    agencyKind: Actor['agencyKind'],
    agencyId = 'a-other',
  ) => {
    try {
      checkPrincipalReach(actor, action, { agencyId, agencyKind });
      return 'allowed';
    } catch (error) {
      return (error as { code: string }).code;
    }
  };

  it('gives the coordinator’s admin only the cut-off actions on another agency, none on an oversight body', () => {
    expect(actions.map((a) => verdict(admin, a, 'shelter'))).toEqual([
      'REGISTRY.OWN_AGENCY_ONLY',
      'REGISTRY.OWN_AGENCY_ONLY',
      'allowed',
      'allowed',
      'REGISTRY.OWN_AGENCY_ONLY',
    ]);
    expect(actions.map((a) => verdict(admin, a, 'oversight-body'))).toEqual(
      actions.map(() => 'REGISTRY.OPERATOR_ONLY'),
    );
  });

  it('answers an ordinary admin about another agency’s principal as about an unknown one', () => {
    expect(actions.map((a) => verdict(ngoAdmin, a, 'shelter'))).toEqual([
      'REGISTRY.OWN_AGENCY_ONLY',
      ...actions.slice(1).map(() => 'REGISTRY.PRINCIPAL_NOT_FOUND'),
    ]);
  });

  it('lets an admin manage its own agency, and the operator everything', () => {
    for (const a of actions) {
      expect(verdict(ngoAdmin, a, 'ngo', 'a-ngo')).toBe('allowed');
      expect(verdict(undefined, a, 'oversight-body')).toBe('allowed');
    }
  });

  it('keeps the oversight body and the coordinator out of the coordinator’s hands', () => {
    const register = (kind: 'oversight-body' | 'national-coordinator' | 'ngo') =>
      decideAgency(
        {
          type: 'RegisterAgency',
          data: { agencyId: `a-${kind}`, name: 'X Office', kind, country: 'NL' },
          metadata: { now, actor: admin },
        },
        { status: 'none' },
      );
    expect(() => register('oversight-body')).toThrow(
      expect.objectContaining({ code: 'REGISTRY.OPERATOR_ONLY' }),
    );
    expect(() => register('national-coordinator')).toThrow(
      expect.objectContaining({ code: 'REGISTRY.OPERATOR_ONLY' }),
    );
    expect(register('ngo')).toHaveLength(1);
    const dpa = {
      status: 'registered' as const,
      agencyId: 'a-dpa',
      kind: 'oversight-body' as const,
      disabled: false,
    };
    expect(() =>
      decideAgency(
        {
          type: 'DisableAgency',
          data: { agencyId: 'a-dpa', reason: 'suspended' },
          metadata: { now, actor: admin },
        },
        dpa,
      ),
    ).toThrow(expect.objectContaining({ code: 'REGISTRY.OPERATOR_ONLY' }));
    expect(() =>
      decideAgency(
        { type: 'EnableAgency', data: { agencyId: 'a-dpa' }, metadata: { now, actor: admin } },
        { ...dpa, disabled: true },
      ),
    ).toThrow(expect.objectContaining({ code: 'REGISTRY.OPERATOR_ONLY' }));
    expect(
      decideAgency(
        { type: 'DisableAgency', data: { agencyId: 'a-dpa', reason: 'suspended' }, metadata: { now } },
        dpa,
      ),
    ).toHaveLength(1);
  });
});
