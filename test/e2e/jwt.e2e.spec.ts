import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT, type JWK, type KeyLike } from 'jose';
import { Ledger, type Principal } from './harness';

const ISSUER = 'https://idp.example.test/realms/nrm';
const AUDIENCE = 'nrm-ledger-e2e';
const KID = 'e2e-signing-key-1';

interface Claims {
  sub?: string;
  iss?: string;
  aud?: string;
  /** Seconds since the epoch; `null` leaves the claim out. */
  exp?: number | null;
  nbf?: number;
  iat?: number;
}

const nowSeconds = () => Math.floor(Date.now() / 1000);

function base64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** Serves a JWKS document on loopback only, as an identity provider would. */
async function serveJwks(keys: JWK[]): Promise<{ server: Server; url: string }> {
  const server = createServer((request, response) => {
    if (request.method === 'GET' && request.url === '/.well-known/jwks.json') {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ keys }));
    } else {
      response.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { server, url: `http://127.0.0.1:${port}/.well-known/jwks.json` };
}

describe('JWT bearer authentication (e2e)', () => {
  let jwks: Server;
  let ledger: Ledger;
  let caseworker: Principal;
  let signingKey: KeyLike;
  let strangerKey: KeyLike;

  /** A token signed by `key` (the provider's key unless told), right issuer and audience unless overridden. */
  async function token(claims: Claims = {}, key: KeyLike = signingKey, kid = KID): Promise<string> {
    const jwt = new SignJWT({})
      .setProtectedHeader({ alg: 'ES256', kid, typ: 'JWT' })
      .setIssuer(claims.iss ?? ISSUER)
      .setAudience(claims.aud ?? AUDIENCE)
      .setIssuedAt(claims.iat ?? nowSeconds());
    if (!('sub' in claims)) jwt.setSubject(caseworker.principalId);
    else if (claims.sub !== undefined) jwt.setSubject(claims.sub);
    if (claims.exp !== null) jwt.setExpirationTime(claims.exp ?? nowSeconds() + 300);
    if (claims.nbf !== undefined) jwt.setNotBefore(claims.nbf);
    return jwt.sign(key);
  }

  function listAgencies(headers: Record<string, string>): Promise<Response> {
    return fetch(`${ledger.base}/agencies`, { headers });
  }

  const bearer = (credential: string) => ({ authorization: `Bearer ${credential}` });

  async function expectUnauthenticated(response: Response, label: string): Promise<void> {
    const body = (await response.json()) as Record<string, unknown>;
    expect({
      label,
      status: response.status,
      contentType: response.headers.get('content-type'),
      body,
    }).toEqual({
      label,
      status: 401,
      contentType: expect.stringMatching(/^application\/problem\+json/),
      body: expect.objectContaining({ status: 401, code: 'AUTH.UNAUTHENTICATED' }),
    });
    expect(response.headers.get('www-authenticate')).toBe('Bearer');
  }

  beforeAll(async () => {
    const provider = await generateKeyPair('ES256');
    const stranger = await generateKeyPair('ES256');
    signingKey = provider.privateKey;
    strangerKey = stranger.privateKey;
    const publicJwk = { ...(await exportJWK(provider.publicKey)), kid: KID, alg: 'ES256', use: 'sig' };
    const served = await serveJwks([publicJwk]);
    jwks = served.server;
    ledger = await Ledger.boot({
      AUTH_JWKS_URL: served.url,
      AUTH_JWT_ISSUER: ISSUER,
      AUTH_JWT_AUDIENCE: AUDIENCE,
    });
    caseworker = await ledger.principal('ngo', ['caseworker']);
  });

  afterAll(async () => {
    await ledger?.close();
    await new Promise<void>((resolve, reject) =>
      jwks ? jwks.close((error) => (error ? reject(error) : resolve())) : resolve(),
    );
  });

  it('accepts a token whose sub is a registered principal, with the configured issuer and audience', async () => {
    const response = await listAgencies(bearer(await token()));
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual(
      expect.arrayContaining([expect.objectContaining({ agencyId: caseworker.agencyId, kind: 'ngo' })]),
    );
  });

  it('accepts a token within the clock tolerance, and with the scheme written in any case', async () => {
    const justExpired = await token({ exp: nowSeconds() - 5 });
    expect((await listAgencies(bearer(justExpired))).status).toBe(200);
    expect((await listAgencies({ authorization: `bearer ${await token()}` })).status).toBe(200);
  });

  it('refuses expired, foreign, forged, unsigned and malformed tokens with 401 problem+json', async () => {
    const now = nowSeconds();
    const [header, payload] = (await token()).split('.');
    const unsigned = `${base64url({ alg: 'none', typ: 'JWT' })}.${payload}.`;
    const cases: Array<[string, string]> = [
      ['expired', await token({ iat: now - 3600, exp: now - 600 })],
      ['not yet valid', await token({ nbf: now + 600 })],
      ['wrong issuer', await token({ iss: 'https://idp.example.test/realms/elsewhere' })],
      ['wrong audience', await token({ aud: 'some-other-service' })],
      ['signed by another key, same kid', await token({}, strangerKey)],
      ['signed by another key, unknown kid', await token({}, strangerKey, 'e2e-unknown-key')],
      ['alg none', unsigned],
      ['alg none, signature kept', `${base64url({ alg: 'none', typ: 'JWT' })}.${payload}.${'A'.repeat(86)}`],
      [
        'HS256 signed with a shared secret',
        await new SignJWT({ sub: caseworker.principalId })
          .setProtectedHeader({ alg: 'HS256', kid: KID })
          .setIssuer(ISSUER)
          .setAudience(AUDIENCE)
          .setExpirationTime('5m')
          .sign(new TextEncoder().encode('an-invented-shared-secret-of-enough-length')),
      ],
      ['tampered payload', `${header}.${base64url({ sub: caseworker.principalId, iss: ISSUER })}.x`],
      ['garbage', 'not-a-jwt-at-all'],
      ['three garbage parts', 'aaa.bbb.ccc'],
      ['sub names no registered principal', await token({ sub: randomUUID() })],
      ['no sub', await token({ sub: undefined })],
      ['no expiry (would work forever once leaked)', await token({ exp: null })],
      ['empty sub', await token({ sub: '' })],
    ];
    for (const [label, credential] of cases) {
      await expectUnauthenticated(await listAgencies(bearer(credential)), label);
    }
  });

  it('still accepts API keys, in the Authorization header and in X-Api-Key, alongside JWTs', async () => {
    const viaBearer = await caseworker.get<unknown[]>('/agencies');
    expect(viaBearer.status).toBe(200);
    expect(Array.isArray(viaBearer.body)).toBe(true);
    expect((await listAgencies({ 'x-api-key': caseworker.apiKey })).status).toBe(200);
    await expectUnauthenticated(
      await listAgencies(bearer('nrm_AAAAAAAAAAAA_' + 'x'.repeat(43))),
      'unknown API key',
    );
  });

  it('accepts a JWT for a principal registered after boot at once, without waiting for the periodic refresh', async () => {
    const newcomer = await ledger.principal('shelter', ['caseworker']);
    const response = await listAgencies(bearer(await token({ sub: newcomer.principalId })));
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual(
      expect.arrayContaining([expect.objectContaining({ agencyId: newcomer.agencyId, kind: 'shelter' })]),
    );
  });
});

describe('JWT bearer authentication without a reachable identity provider (e2e)', () => {
  it('answers 503 problem+json, not 401: the caller’s token may be fine', async () => {
    // A loopback port that was free a moment ago: nothing answers there.
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const ledger = await Ledger.boot({
      AUTH_JWKS_URL: `http://127.0.0.1:${port}/jwks.json`,
      AUTH_JWT_ISSUER: 'https://idp.example.test/realms/nrm',
      AUTH_JWT_AUDIENCE: 'nrm-ledger',
    });
    try {
      const { privateKey } = await generateKeyPair('ES256');
      const jwt = await new SignJWT({})
        .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
        .setIssuer('https://idp.example.test/realms/nrm')
        .setAudience('nrm-ledger')
        .setSubject('someone')
        .setExpirationTime('5m')
        .sign(privateKey);
      const response = await fetch(`${ledger.base}/agencies`, {
        headers: { authorization: `Bearer ${jwt}` },
      });
      expect(response.status).toBe(503);
      expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(response.headers.get('retry-after')).toBe('5');
      expect(await response.json()).toMatchObject({ code: 'AUTH.IDENTITY_PROVIDER_UNAVAILABLE' });
    } finally {
      await ledger.close();
    }
  });
});
