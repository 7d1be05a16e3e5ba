import { Ledger, type Principal } from './harness';

describe('registry and authentication (e2e)', () => {
  let ledger: Ledger;
  let admin: Principal;

  beforeAll(async () => {
    ledger = await Ledger.boot();
    admin = await ledger.principal('national-coordinator', ['registry-admin', 'coordinator'], 'coordinator');
  });
  afterAll(() => ledger.close());

  it('refuses requests without valid credentials with 401 problem+json', async () => {
    const attempts: Array<Record<string, string>> = [
      {},
      { authorization: 'Bearer nrm_AAAAAAAAAAAA_' + 'x'.repeat(43) },
      { authorization: 'Basic abc' },
      { 'x-api-key': 'garbage' },
    ];
    for (const headers of attempts) {
      const response = await fetch(`${ledger.base}/agencies`, { headers });
      expect(response.status).toBe(401);
      expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(response.headers.get('www-authenticate')).toBe('Bearer');
      expect(await response.json()).toMatchObject({ code: 'AUTH.UNAUTHENTICATED' });
    }
  });

  it('refuses a body with a duplicate or prototype key, saying so, and registers nothing (attack)', async () => {
    const before = (await admin.get<unknown[]>('/agencies')).body.length;
    const attacks: Array<[string, string, string]> = [
      [
        '{"name":"Proto NGO","kind":"ngo","country":"NL","prototype":{"x":1}}',
        'REQUEST.FORBIDDEN_KEY',
        'prototype',
      ],
      [
        '{"name":"Proto NGO","kind":"ngo","country":"NL","__proto__":{"x":1}}',
        'REQUEST.FORBIDDEN_KEY',
        '__proto__',
      ],
      [
        '{"name":"Proto NGO","kind":"ngo","country":"NL","constructor":{}}',
        'REQUEST.FORBIDDEN_KEY',
        'constructor',
      ],
      [
        '{"name":"Twice NGO","kind":"ngo","kind":"foreign-nrm","country":"NL"}',
        'REQUEST.DUPLICATE_KEY',
        'kind',
      ],
    ];
    let refused = 0;
    for (const [body, code, field] of attacks) {
      const answer = await admin.call('POST', '/agencies', body);
      expect(answer.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect({ body, status: answer.status, code: answer.body.code, field: answer.body.field }).toEqual({
        body,
        status: 400,
        code,
        field,
      });
      expect(String(answer.body.detail)).toContain(field);
      refused++;
    }
    // Names are bounded text (the shared kernel's rule): no control or bidi-override characters.
    const names = ['Safe\u202Eecnerolf NGO', 'Safe\u0000Harbour', 'Two\nlines', ' ', 'x'.repeat(201)];
    for (const name of names) {
      const answer = await admin.post('/agencies', { name, kind: 'ngo', country: 'NL' });
      expect({ name, status: answer.status, code: answer.body.code, field: answer.body.field }).toEqual({
        name,
        status: 400,
        code: 'REQUEST.INVALID',
        field: 'name',
      });
      refused++;
    }
    expect((await admin.get<unknown[]>('/agencies')).body.length).toBe(before);
    console.log(
      `registry: ${refused}/${attacks.length + names.length} duplicate-key, prototype-key and hostile-name bodies refused, 0 agencies registered`,
    );
  });

  it('lets the coordinator’s registry admin register an agency, and a principal and key of its own agency that work at once', async () => {
    const agency = await admin.post<{ agencyId: string }>('/agencies', {
      name: 'Shelter East',
      kind: 'shelter',
      country: 'NL',
    });
    expect(agency.status).toBe(201);
    const principal = await admin.post<{ principalId: string }>(`/agencies/${admin.agencyId}/principals`, {
      label: 'night desk',
      roles: ['coordinator'],
    });
    expect(principal.status).toBe(201);
    const key = await admin.post<{ apiKey: string; keyId: string }>(
      `/principals/${principal.body.principalId}/api-keys`,
    );
    expect(key.status).toBe(201);
    expect(key.body.apiKey).toMatch(/^nrm_/);

    const listed = await fetch(`${ledger.base}/agencies`, {
      headers: { authorization: `Bearer ${key.body.apiKey}` },
    });
    expect(listed.status).toBe(200);
    expect(await listed.json()).toEqual(
      expect.arrayContaining([expect.objectContaining({ agencyId: agency.body.agencyId, kind: 'shelter' })]),
    );

    // The key is stored only as a hash: its secret appears in no stored event.
    const secret = key.body.apiKey.slice(-43);
    for await (const event of ledger.store.readAll()) expect(JSON.stringify(event)).not.toContain(secret);

    const revoked = await admin.post(
      `/principals/${principal.body.principalId}/api-keys/${key.body.keyId}/revocation`,
    );
    expect(revoked.status).toBe(200);
    const after = await fetch(`${ledger.base}/agencies`, {
      headers: { authorization: `Bearer ${key.body.apiKey}` },
    });
    expect(after.status).toBe(401);
  });

  it('lets the coordinator’s registry admin cut off another agency’s principals, never take their keys (attack)', async () => {
    const ngo = await ledger.principal('ngo', ['caseworker'], 'ngo-registry');
    const oversight = await ledger.principal('oversight-body', ['oversight'], 'oversight-registry');
    const head = await ledger.store.headPosition();
    const refused: Array<[string, Promise<{ status: number; body: { code?: string } }>, number, string]> = [
      // Nobody receives a working credential of another agency's principal.
      [
        'key for an NGO caseworker',
        admin.post(`/principals/${ngo.principalId}/api-keys`),
        403,
        'REGISTRY.OWN_AGENCY_ONLY',
      ],
      [
        'a principal at the NGO',
        admin.post(`/agencies/${ngo.agencyId}/principals`, { label: 'desk', roles: ['caseworker'] }),
        403,
        'REGISTRY.OWN_AGENCY_ONLY',
      ],
      [
        'a principal at an unknown agency',
        admin.post('/agencies/no-such-agency/principals', { label: 'x', roles: ['caseworker'] }),
        403,
        'REGISTRY.OWN_AGENCY_ONLY',
      ],
      [
        'switch an NGO principal on',
        admin.post(`/principals/${ngo.principalId}/enablement`),
        403,
        'REGISTRY.OWN_AGENCY_ONLY',
      ],
      // The oversight body is the operator's alone: neither replaced, nor switched off, nor staffed.
      [
        'register an oversight body',
        admin.post('/agencies', {
          name: 'Shadow Data Protection Office',
          kind: 'oversight-body',
          country: 'NL',
        }),
        403,
        'REGISTRY.OPERATOR_ONLY',
      ],
      [
        'register a national coordinator',
        admin.post('/agencies', { name: 'Second Coordinator', kind: 'national-coordinator', country: 'NL' }),
        403,
        'REGISTRY.OPERATOR_ONLY',
      ],
      [
        'switch the oversight body off',
        admin.post(`/agencies/${oversight.agencyId}/disablement`, { reason: 'suspended' }),
        403,
        'REGISTRY.OPERATOR_ONLY',
      ],
      [
        'switch an oversight principal off',
        admin.post(`/principals/${oversight.principalId}/disablement`, { reason: 'suspended' }),
        403,
        'REGISTRY.OPERATOR_ONLY',
      ],
      [
        'a principal at the oversight body',
        admin.post(`/agencies/${oversight.agencyId}/principals`, { label: 'desk', roles: ['oversight'] }),
        403,
        'REGISTRY.OPERATOR_ONLY',
      ],
      [
        'key for an oversight principal',
        admin.post(`/principals/${oversight.principalId}/api-keys`),
        403,
        'REGISTRY.OPERATOR_ONLY',
      ],
    ];
    for (const [label, answer, status, code] of refused) {
      const { status: got, body } = await answer;
      expect({ label, status: got, code: body.code }).toEqual({ label, status, code });
    }
    expect(await ledger.recordedAfter(head)).toEqual([]); // the refusals' audit aside
    expect((await oversight.get('/oversight/access-log')).status).toBe(200);

    // What it may do: cut a compromised principal off, then its own agency's admin switches it on.
    const cut = await admin.post(`/principals/${ngo.principalId}/disablement`, {
      reason: 'credential-compromised',
    });
    expect(cut.status).toBe(200);
    expect((await ngo.get('/cases')).status).toBe(403);
    const ngoAdmin = await ledger.principal('ngo', ['registry-admin'], 'ngo-registry');
    expect((await ngoAdmin.post(`/principals/${ngo.principalId}/enablement`)).status).toBe(200);
    const changes = [];
    for await (const e of ledger.store.readAll({
      filter: { eventTypes: ['PrincipalDisabled', 'PrincipalEnabled'] },
    }))
      if (e.stream.includes(ngo.principalId)) changes.push({ type: e.type, by: e.metadata.principalId });
    expect(changes).toEqual([
      { type: 'PrincipalDisabled', by: admin.principalId },
      { type: 'PrincipalEnabled', by: ngoAdmin.principalId },
    ]);
    console.log(`coordinator registry admin against other agencies: ${refused.length} refused, stored 0`);
  });

  it('keeps another agency’s registry admin to its own agency: no principals or keys for others, no new agencies', async () => {
    const oversight = await ledger.principal('oversight-body', ['oversight'], 'oversight-registry');
    const ngoAdmin = await ledger.principal('ngo', ['registry-admin']);
    const head = await ledger.store.headPosition();
    const foreignPrincipal = await ngoAdmin.post('/agencies/oversight-registry/principals', {
      label: 'x',
      roles: ['oversight'],
    });
    expect(foreignPrincipal.status).toBe(403);
    expect(foreignPrincipal.body).toMatchObject({ code: 'REGISTRY.OWN_AGENCY_ONLY' });
    // Another agency's principal is answered as an unknown one: an admin learns nothing of others.
    const foreignKey = await ngoAdmin.post(`/principals/${oversight.principalId}/api-keys`);
    const unknownKey = await ngoAdmin.post('/principals/no-such-principal/api-keys');
    expect(foreignKey.status).toBe(404);
    expect({ ...foreignKey.body, requestId: '' }).toEqual({ ...unknownKey.body, requestId: '' });
    // Another agency's id, existing or not, gets the same answer: an admin learns nothing of others.
    const missing = await ngoAdmin.post('/agencies/no-such-agency/principals', {
      label: 'x',
      roles: ['caseworker'],
    });
    expect(missing.status).toBe(403);
    expect(missing.body).toMatchObject({ code: 'REGISTRY.OWN_AGENCY_ONLY' });
    const newAgency = await ngoAdmin.post('/agencies', { name: 'Another NGO', kind: 'ngo', country: 'NL' });
    expect(newAgency.status).toBe(403);
    expect(newAgency.body).toMatchObject({ code: 'REGISTRY.COORDINATOR_ONLY' });
    const own = await ngoAdmin.post(`/agencies/${ngoAdmin.agencyId}/principals`, {
      label: 'day desk',
      roles: ['caseworker'],
    });
    expect(own.status).toBe(201);
    // only its own agency's principal (the refusals' audit aside)
    expect(await ledger.recordedAfter(head)).toHaveLength(1);
  });

  it('refuses registry changes by a principal without the registry-admin role (403)', async () => {
    const caseworker = await ledger.principal('ngo', ['caseworker']);
    const answer = await caseworker.post('/agencies', { name: 'Sneaky', kind: 'ngo', country: 'NL' });
    expect(answer.status).toBe(403);
    expect(answer.body).toMatchObject({ code: 'REGISTRY.ADMIN_ONLY' });
  });

  it('rejects bad registry input with 400 naming the field, and unknown fields', async () => {
    const cases: Array<[unknown, string]> = [
      [{ name: 'X Org', kind: 'church', country: 'NL' }, 'kind'],
      [{ name: 'X Org', kind: 'ngo', country: 'Netherlands' }, 'country'],
      [{ kind: 'ngo', country: 'NL' }, 'name'],
      [{ name: 'X Org', kind: 'ngo', country: 'NL', extra: true }, 'extra'],
      [[1, 2], 'body'],
    ];
    for (const [body, field] of cases) {
      const answer = await admin.post('/agencies', body);
      expect({ field, status: answer.status, body: answer.body }).toMatchObject({
        field,
        status: 400,
        body: { code: 'REQUEST.INVALID', field },
      });
    }
    const badId = await admin.post('/agencies/bad%20id!/principals', { label: 'x', roles: ['caseworker'] });
    expect(badId.status).toBe(400);
    expect(badId.body).toMatchObject({ code: 'REQUEST.INVALID_ID', field: 'agencyId' });
  });

  it('returns the first result for a retried command with the same Idempotency-Key, and stores nothing new', async () => {
    const headers = { 'idempotency-key': 'register-shelter-west-1' };
    const first = await admin.post(
      '/agencies',
      { name: 'Shelter West', kind: 'shelter', country: 'NL' },
      headers,
    );
    const head = await ledger.store.headPosition();
    const again = await admin.post(
      '/agencies',
      { name: 'Shelter West', kind: 'shelter', country: 'NL' },
      headers,
    );
    expect(again.status).toBe(first.status);
    expect(again.body).toMatchObject({
      agencyId: first.body.agencyId,
      eventIds: first.body.eventIds,
      replayed: true,
    });
    expect(await ledger.recordedAfter(head)).toEqual([]);
    const reused = await admin.post(
      '/agencies',
      { name: 'Shelter South', kind: 'shelter', country: 'NL' },
      headers,
    );
    expect(reused.status).toBe(422);
    expect(reused.body).toMatchObject({ code: 'IDEMPOTENCY.KEY_REUSED' });
    expect(await ledger.recordedAfter(head)).toEqual([]);
  });

  it('serves the OpenAPI document without credentials', async () => {
    const response = await fetch(`${ledger.base}/openapi.json`);
    expect(response.status).toBe(200);
    const document = (await response.json()) as { openapi: string; paths: Record<string, unknown> };
    expect(document.openapi).toMatch(/^3\./);
    expect(Object.keys(document.paths)).toEqual(
      expect.arrayContaining(['/health', '/agencies', '/agencies/{agencyId}/principals']),
    );
    expect((await fetch(`${ledger.base}/docs`)).status).toBe(200);
  });
});
