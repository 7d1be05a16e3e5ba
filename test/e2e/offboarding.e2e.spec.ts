import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type KeyLike } from 'jose';
import { loadConfig, openSubjectKeys } from '@nrm/runtime';
import { eraseSubject } from '../../apps/ledger-cli/src/erase-subject';
import { program } from '../../apps/ledger-cli/src/main';
import { Ledger, type Principal } from './harness';

const ISSUER = 'https://idp.example.test/realms/nrm';
const AUDIENCE = 'nrm-ledger-offboarding';
const KID = 'offboarding-key-1';

/**
 * Switching a principal or an agency off: the caseworker who leaves, the
 * agency whose account is compromised. Refused on the next request whatever
 * the credential (API key or JWT), audited, visible to oversight.
 */
describe('disabling principals and agencies (e2e)', () => {
  let jwks: Server;
  let ledger: Ledger;
  let signingKey: KeyLike;
  let coordinatorAdmin: Principal;
  let oversight: Principal;
  let ngoAdmin: Principal;
  let leaver: Principal;
  let colleague: Principal;
  const AGENCY = 'ngo-offboarding';

  const jwt = (principalId: string) =>
    new SignJWT({})
      .setProtectedHeader({ alg: 'ES256', kid: KID })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setSubject(principalId)
      .setExpirationTime('5m')
      .sign(signingKey);

  /** The status and code of GET /agencies with the principal's API key and with a JWT for it. */
  async function bothCredentials(principal: Principal): Promise<Array<[number, unknown]>> {
    const byKey = await principal.get('/agencies');
    const byJwt = await fetch(`${ledger.base}/agencies`, {
      headers: { authorization: `Bearer ${await jwt(principal.principalId)}` },
    });
    const jwtBody = (await byJwt.json()) as { code?: string };
    return [
      [byKey.status, (byKey.body as { code?: string }).code],
      [byJwt.status, jwtBody.code],
    ];
  }

  async function denials(principalId: string) {
    return (await ledger.auditEvents()).filter(
      (e) => e.type === 'AccessDenied' && e.data.principalId === principalId,
    );
  }

  beforeAll(async () => {
    const provider = await generateKeyPair('ES256');
    signingKey = provider.privateKey;
    const publicJwk = { ...(await exportJWK(provider.publicKey)), kid: KID, alg: 'ES256', use: 'sig' };
    jwks = createServer((_request, response) =>
      response
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ keys: [publicJwk] })),
    );
    await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
    const { port } = jwks.address() as AddressInfo;
    ledger = await Ledger.boot({
      AUTH_JWKS_URL: `http://127.0.0.1:${port}/jwks.json`,
      AUTH_JWT_ISSUER: ISSUER,
      AUTH_JWT_AUDIENCE: AUDIENCE,
    });
    coordinatorAdmin = await ledger.principal(
      'national-coordinator',
      ['registry-admin', 'coordinator'],
      'coord',
    );
    oversight = await ledger.principal('oversight-body', ['oversight'], 'oversight');
    ngoAdmin = await ledger.principal('ngo', ['registry-admin'], AGENCY);
    leaver = await ledger.principal('ngo', ['caseworker'], AGENCY);
    colleague = await ledger.principal('ngo', ['caseworker'], AGENCY);
  });

  afterAll(async () => {
    await ledger?.close();
    await new Promise<void>((resolve) => (jwks ? jwks.close(() => resolve()) : resolve()));
  });

  it('refuses a disabled principal on its next request, by API key and by JWT, audited; its colleague goes on; re-enabled, it works', async () => {
    expect(await bothCredentials(leaver)).toEqual([
      [200, undefined],
      [200, undefined],
    ]);
    const off = await ngoAdmin.post(`/principals/${leaver.principalId}/disablement`, {
      reason: 'offboarded',
    });
    expect(off.status).toBe(200);
    expect(await bothCredentials(leaver)).toEqual([
      [403, 'AUTH.PRINCIPAL_DISABLED'],
      [403, 'AUTH.PRINCIPAL_DISABLED'],
    ]);
    expect(await bothCredentials(colleague)).toEqual([
      [200, undefined],
      [200, undefined],
    ]);
    const audited = await denials(leaver.principalId);
    expect(audited).toEqual([
      expect.objectContaining({
        data: expect.objectContaining({
          reason: 'principal-disabled',
          agencyId: AGENCY,
          view: 'GET /agencies',
        }),
      }),
      expect.objectContaining({ data: expect.objectContaining({ reason: 'principal-disabled' }) }),
    ]);

    // The registry event names who acted, and why.
    const events = [];
    for await (const e of ledger.store.readStream(`principal-${leaver.principalId}`)) events.push(e);
    expect(events.at(-1)).toMatchObject({
      type: 'PrincipalDisabled',
      data: {
        reason: 'offboarded',
        agencyId: AGENCY,
        by: { via: 'api', principalId: ngoAdmin.principalId, agencyId: AGENCY },
      },
      metadata: { principalId: ngoAdmin.principalId },
    });

    // Disabling again changes nothing; enabling brings it back at once.
    const again = await ngoAdmin.post<{ eventIds: string[] }>(
      `/principals/${leaver.principalId}/disablement`,
      { reason: 'offboarded' },
    );
    expect(again.status).toBe(200);
    expect(again.body.eventIds).toEqual([]);
    expect((await ngoAdmin.post(`/principals/${leaver.principalId}/enablement`)).status).toBe(200);
    expect(await bothCredentials(leaver)).toEqual([
      [200, undefined],
      [200, undefined],
    ]);
    console.log(
      `offboarding (principal): attempts 2 while disabled, refused 2, audited ${audited.length}; after enabling 2 of 2 accepted`,
    );
  });

  it('shows the oversight body who is switched off and every refusal it caused', async () => {
    await coordinatorAdmin.post(`/principals/${leaver.principalId}/disablement`, {
      reason: 'credential-compromised',
    });
    await leaver.get('/agencies');
    const disabled = await oversight.get<{ principals: Array<Record<string, unknown>>; agencies: unknown[] }>(
      '/registry/disabled',
    );
    expect(disabled.status).toBe(200);
    expect(disabled.body.principals).toEqual([
      expect.objectContaining({
        principalId: leaver.principalId,
        agencyId: AGENCY,
        reason: 'credential-compromised',
      }),
    ]);
    const seen = await oversight.get<{ entries: Array<Record<string, unknown>> }>(
      `/oversight/denials?agencyId=${AGENCY}`,
    );
    expect(seen.status).toBe(200);
    const reasons = seen.body.entries
      .filter((e) => e.principalId === leaver.principalId)
      .map((e) => e.reason);
    expect(reasons).toEqual(['principal-disabled', 'principal-disabled', 'principal-disabled']);
    // An agency's admin sees its own agency's only; a caseworker nothing.
    expect(
      (await ngoAdmin.get<{ principals: unknown[] }>('/registry/disabled')).body.principals,
    ).toHaveLength(1);
    expect((await colleague.get('/registry/disabled')).status).toBe(403);
    // The coordinator cuts a principal off; only its own agency switches it back on.
    expect((await coordinatorAdmin.post(`/principals/${leaver.principalId}/enablement`)).status).toBe(403);
    expect((await ngoAdmin.post(`/principals/${leaver.principalId}/enablement`)).status).toBe(200);
    console.log(`oversight: disabled principals listed 1, denials of the leaver shown ${reasons.length}`);
  });

  it('refuses every principal of a disabled agency, its admin included, who cannot switch it back on', async () => {
    const byNgoAdmin = await ngoAdmin.post(`/agencies/${AGENCY}/disablement`, {
      reason: 'agency-compromised',
    });
    expect(byNgoAdmin.status).toBe(403);
    expect(byNgoAdmin.body).toMatchObject({ code: 'REGISTRY.COORDINATOR_ONLY' });
    const own = await coordinatorAdmin.post(`/agencies/${coordinatorAdmin.agencyId}/disablement`, {
      reason: 'suspended',
    });
    expect(own.status).toBe(422);
    expect(own.body).toMatchObject({ code: 'REGISTRY.NOT_OWN_AGENCY' });

    const off = await coordinatorAdmin.post(`/agencies/${AGENCY}/disablement`, {
      reason: 'agency-compromised',
    });
    expect(off.status).toBe(200);
    let refused = 0;
    for (const principal of [ngoAdmin, leaver, colleague]) {
      const answers = await bothCredentials(principal);
      expect(answers).toEqual([
        [403, 'AUTH.AGENCY_DISABLED'],
        [403, 'AUTH.AGENCY_DISABLED'],
      ]);
      refused += answers.length;
    }
    const selfEnable = await ngoAdmin.post(`/agencies/${AGENCY}/enablement`);
    expect(selfEnable.status).toBe(403);
    expect(selfEnable.body).toMatchObject({ code: 'AUTH.AGENCY_DISABLED' });
    const selfKey = await ngoAdmin.post(`/principals/${ngoAdmin.principalId}/api-keys`);
    expect(selfKey.status).toBe(403);
    const audited = (await denials(ngoAdmin.principalId)).filter((e) => e.data.reason === 'agency-disabled');
    expect(audited).toHaveLength(4); // two reads, the enabling and the key it tried

    expect((await coordinatorAdmin.post(`/agencies/${AGENCY}/enablement`)).status).toBe(200);
    for (const principal of [ngoAdmin, leaver, colleague])
      expect(await bothCredentials(principal)).toEqual([
        [200, undefined],
        [200, undefined],
      ]);
    console.log(
      `offboarding (agency): attempts ${refused + 2} while disabled, refused ${refused + 2}, audited for its admin ${audited.length}; after enabling 6 of 6 accepted`,
    );
  });

  it('keeps the rights: own agency only for an agency’s admin, not oneself, an admin role, a reason from the list', async () => {
    const other = await ledger.principal('shelter', ['caseworker']);
    const head = await ledger.store.headPosition();
    const cases: Array<[string, Principal, string, unknown, number, string]> = [
      [
        'another agency’s principal (answered as an unknown one)',
        ngoAdmin,
        `/principals/${other.principalId}/disablement`,
        { reason: 'offboarded' },
        404,
        'REGISTRY.PRINCIPAL_NOT_FOUND',
      ],
      [
        'oneself',
        ngoAdmin,
        `/principals/${ngoAdmin.principalId}/disablement`,
        { reason: 'offboarded' },
        422,
        'REGISTRY.NOT_YOURSELF',
      ],
      [
        'without the admin role',
        colleague,
        `/principals/${leaver.principalId}/disablement`,
        { reason: 'offboarded' },
        403,
        'REGISTRY.ADMIN_ONLY',
      ],
      [
        'a reason not on the list',
        ngoAdmin,
        `/principals/${leaver.principalId}/disablement`,
        { reason: 'left on 3 May, see HR file' },
        400,
        'REQUEST.INVALID',
      ],
      ['no reason', ngoAdmin, `/principals/${leaver.principalId}/disablement`, {}, 400, 'REQUEST.INVALID'],
      [
        'an unknown principal',
        coordinatorAdmin,
        '/principals/no-such-principal/disablement',
        { reason: 'offboarded' },
        404,
        'REGISTRY.PRINCIPAL_NOT_FOUND',
      ],
      [
        'an unknown agency',
        coordinatorAdmin,
        '/agencies/no-such-agency/disablement',
        { reason: 'suspended' },
        404,
        'REGISTRY.AGENCY_NOT_FOUND',
      ],
    ];
    for (const [label, who, path, body, status, code] of cases) {
      const answer = await who.post(path, body);
      expect({ label, status: answer.status, code: answer.body.code }).toEqual({ label, status, code });
    }
    expect(await ledger.recordedAfter(head)).toEqual([]); // the refusals' audit aside
    // The coordinator's admin cuts any agency's principal off; its own agency's admin switches it on.
    expect(
      (await coordinatorAdmin.post(`/principals/${other.principalId}/disablement`, { reason: 'suspended' }))
        .status,
    ).toBe(200);
    expect((await other.get('/agencies')).status).toBe(403);
    const otherAdmin = await ledger.principal('shelter', ['registry-admin'], other.agencyId);
    expect((await otherAdmin.post(`/principals/${other.principalId}/enablement`)).status).toBe(200);
    console.log(`registry rights: ${cases.length} refused, stored 0`);
  });

  it('takes a disablement from the operator’s console (another store handle) within the registry’s poll', async () => {
    const logged = jest.spyOn(console, 'log').mockImplementation(() => undefined);
    try {
      await program().parseAsync(
        [
          '--data-dir',
          ledger.dataDir,
          'principal',
          'disable',
          '--principal',
          colleague.principalId,
          '--reason',
          'offboarded',
        ],
        { from: 'user' },
      );
      expect(logged).toHaveBeenCalledWith(JSON.stringify({ disabled: colleague.principalId, changed: true }));
    } finally {
      logged.mockRestore();
    }
    const start = Date.now();
    let answers = await bothCredentials(colleague);
    while (answers[0]![0] === 200 && Date.now() - start < 3000) {
      await new Promise((r) => setTimeout(r, 25));
      answers = await bothCredentials(colleague);
    }
    const ms = Date.now() - start;
    expect(answers).toEqual([
      [403, 'AUTH.PRINCIPAL_DISABLED'],
      [403, 'AUTH.PRINCIPAL_DISABLED'],
    ]);
    const events = [];
    for await (const e of ledger.store.readStream(`principal-${colleague.principalId}`)) events.push(e);
    expect(events.at(-1)).toMatchObject({ type: 'PrincipalDisabled', data: { by: { via: 'console' } } });
    const log = jest.spyOn(console, 'log').mockImplementation(() => undefined);
    try {
      await program().parseAsync(
        ['--data-dir', ledger.dataDir, 'principal', 'enable', '--principal', colleague.principalId],
        { from: 'user' },
      );
    } finally {
      log.mockRestore();
    }
    console.log(`console disablement: refused by this API process after ${ms} ms`);
  });

  it('erases from the console with a legal ground and a reference code, never a prose reason', async () => {
    const clinic = await ledger.principal('health', ['caseworker'], 'clinic-offboarding');
    const report = await clinic.post<{ subjectId: string }>('/cases', {
      indicators: ['debt-bondage'],
      exploitationForms: ['labour'],
      minor: false,
      region: 'NL-ZH',
      identity: { fullName: 'Invented Quillan Ostrava', birthDate: '1990-02-03' },
    });
    expect(report.status).toBe(201);
    const { subjectId } = report.body;
    const erase = (...why: string[]) =>
      program().parseAsync(
        [
          '--data-dir',
          ledger.dataDir,
          'erase-subject',
          '--subject',
          subjectId,
          ...why,
          '--as',
          oversight.principalId,
        ],
        { from: 'user' },
      );
    const logged = jest.spyOn(console, 'log').mockImplementation(() => undefined);
    const refused: string[] = [];
    try {
      for (const why of [
        ['--reason', 'Request of Quillan Ostrava via the NGO'],
        ['--reference', 'NGO-2026-77'],
        ['--ground', 'court-order', '--reference', 'Order about Quillan'],
      ])
        await erase(...why).then(
          () => refused.push('accepted'),
          (error: { code?: string; field?: string }) => refused.push(`${error.code} ${error.field}`),
        );
      expect(refused).toEqual([
        'ERASURE.REASON_NOT_A_CODE reason',
        'ERASURE.GROUND_REQUIRED ground',
        'ERASURE.REFERENCE_NOT_A_CODE reference',
      ]);
      await erase('--ground', 'court-order', '--reference', 'COURT-2026/77');
      expect(logged).toHaveBeenCalledWith(JSON.stringify({ erased: subjectId, replayed: false }));
    } finally {
      logged.mockRestore();
    }
    const records = [];
    for await (const e of ledger.store.readStream(`erasure-${subjectId}`)) records.push(e);
    expect(records).toMatchObject([
      {
        type: 'SubjectErased',
        schemaVersion: 2,
        data: { ground: 'court-order', reference: 'COURT-2026/77' },
      },
    ]);
    expect(JSON.stringify(records)).not.toContain('Quillan');
  });

  it('lets the console act as no disabled principal (erase-subject --as)', async () => {
    const eraser = await ledger.principal('oversight-body', ['oversight'], 'oversight');
    const oversightAdmin = await ledger.principal('oversight-body', ['registry-admin'], 'oversight');
    expect(
      (await oversightAdmin.post(`/principals/${eraser.principalId}/disablement`, { reason: 'suspended' }))
        .status,
    ).toBe(200);
    const keys = openSubjectKeys(loadConfig({ DATA_DIR: ledger.dataDir }));
    const head = await ledger.store.headPosition();
    try {
      await expect(
        eraseSubject(ledger.store, keys, {
          subjectId: 'no-matter',
          ground: 'supervisory-authority-order',
          as: eraser.principalId,
        }),
      ).rejects.toThrow(`--as ${eraser.principalId}: principal-disabled`);
    } finally {
      await keys.close();
    }
    expect(await ledger.store.headPosition()).toBe(head);
  });
});
