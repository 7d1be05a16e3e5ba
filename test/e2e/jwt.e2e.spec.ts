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

type Misbehaviour =
  | 'ok'
  | 'status 500'
  | 'status 503'
  | 'status 404'
  | 'HTML'
  | 'JSON that is not a key set'
  | 'keys that are not keys'
  | 'stalled body after headers'
  | 'connection reset';

describe('JWT bearer authentication with a misbehaving identity provider (e2e)', () => {
  const TIMEOUT_MS = 1000;
  const COOLDOWN_MS = 300;
  let mode: Misbehaviour = 'ok';
  let hits = 0;
  let server: Server;
  let ledger: Ledger;
  let caseworker: Principal;
  let signingKey: KeyLike;
  let publicJwk: JWK;

  function sign(kid = KID): Promise<string> {
    return new SignJWT({})
      .setProtectedHeader({ alg: 'ES256', kid })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setSubject(caseworker.principalId)
      .setExpirationTime('5m')
      .sign(signingKey);
  }

  async function call(
    credential: string,
  ): Promise<{ status: number; ms: number; body: Record<string, unknown>; retryAfter: string | null }> {
    const start = performance.now();
    const response = await fetch(`${ledger.base}/agencies`, {
      headers: { authorization: `Bearer ${credential}` },
    });
    const body = (await response.json()) as Record<string, unknown>;
    return {
      status: response.status,
      ms: performance.now() - start,
      body,
      retryAfter: response.headers.get('retry-after'),
    };
  }

  function expectUnavailable(answer: Awaited<ReturnType<typeof call>>, label: string): void {
    expect({ label, status: answer.status, code: answer.body.code, retryAfter: answer.retryAfter }).toEqual({
      label,
      status: 503,
      code: 'AUTH.IDENTITY_PROVIDER_UNAVAILABLE',
      retryAfter: '5',
    });
  }

  beforeAll(async () => {
    const provider = await generateKeyPair('ES256');
    signingKey = provider.privateKey;
    publicJwk = { ...(await exportJWK(provider.publicKey)), kid: KID, alg: 'ES256', use: 'sig' };
    server = createServer((request, response) => {
      hits++;
      switch (mode) {
        case 'ok':
          return response
            .writeHead(200, { 'content-type': 'application/json' })
            .end(JSON.stringify({ keys: [publicJwk] }));
        case 'status 500':
          return response.writeHead(500, { 'content-type': 'application/json' }).end('{"error":"internal"}');
        case 'status 503':
          return response.writeHead(503, { 'retry-after': '30' }).end();
        case 'status 404':
          return response.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
        case 'HTML':
          return response
            .writeHead(200, { 'content-type': 'text/html' })
            .end('<html><body>Sign in</body></html>');
        case 'JSON that is not a key set':
          return response.writeHead(200, { 'content-type': 'application/json' }).end('{"issuer":"x"}');
        case 'keys that are not keys':
          return response.writeHead(200, { 'content-type': 'application/json' }).end('{"keys":"none"}');
        case 'stalled body after headers':
          // Headers and the start of a key set, then nothing, for as long as the connection lasts.
          response.writeHead(200, { 'content-type': 'application/json' });
          response.write('{"keys":[');
          return;
        case 'connection reset':
          request.socket.destroy();
          return;
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    ledger = await Ledger.boot({
      AUTH_JWKS_URL: `http://127.0.0.1:${port}/.well-known/jwks.json`,
      AUTH_JWT_ISSUER: ISSUER,
      AUTH_JWT_AUDIENCE: AUDIENCE,
      AUTH_JWKS_TIMEOUT_MS: String(TIMEOUT_MS),
      AUTH_JWKS_COOLDOWN_MS: String(COOLDOWN_MS),
    });
    caseworker = await ledger.principal('ngo', ['caseworker']);
  });

  afterAll(async () => {
    await ledger?.close();
    server?.closeAllConnections();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  });

  it('answers 503 with Retry-After, not 401, for every way the key set cannot be had (cold cache)', async () => {
    const failures: Misbehaviour[] = [
      'status 500',
      'status 503',
      'status 404',
      'HTML',
      'JSON that is not a key set',
      'keys that are not keys',
      'connection reset',
      'stalled body after headers',
    ];
    const token = await sign();
    const seen: string[] = [];
    for (const failure of failures) {
      mode = failure;
      const before = hits;
      const answer = await call(token);
      expectUnavailable(answer, failure);
      expect({ failure, asked: hits - before }).toEqual({ failure, asked: 1 }); // the provider was really asked
      expect(answer.ms).toBeLessThan(TIMEOUT_MS + 1500);
      seen.push(`${failure} ${answer.status} in ${answer.ms.toFixed(0)} ms`);
    }
    console.log(`identity provider failures: ${failures.length} kinds, all 503: ${seen.join('; ')}`);
  });

  it('holds no request past the one deadline while the key set stalls, and API keys are not held at all', async () => {
    mode = 'stalled body after headers';
    const token = await sign();
    const before = hits;
    const first = call(token);
    await new Promise((r) => setTimeout(r, TIMEOUT_MS / 2));
    const secondStart = performance.now();
    const [second, apiKey] = await Promise.all([
      call(token),
      caseworker.get('/agencies').then((a) => ({ ...a, ms: performance.now() - secondStart })),
    ]);
    const firstAnswer = await first;
    expectUnavailable(firstAnswer, 'first, during the stall');
    expectUnavailable(second, 'second, arriving half-way through the stall');
    expect(apiKey.status).toBe(200);
    // One fetch for both: the second waits only for what is left of the first's deadline.
    expect(hits - before).toBe(1);
    expect(firstAnswer.ms).toBeLessThan(TIMEOUT_MS + 1000);
    expect(second.ms).toBeLessThan(TIMEOUT_MS + 500);
    expect(apiKey.ms).toBeLessThan(TIMEOUT_MS / 2);
    console.log(
      `stalled JWKS (deadline ${TIMEOUT_MS} ms): first ${firstAnswer.status} in ${firstAnswer.ms.toFixed(0)} ms, ` +
        `concurrent ${second.status} in ${second.ms.toFixed(0)} ms, API key ${apiKey.status} in ${apiKey.ms.toFixed(0)} ms, fetches ${hits - before}`,
    );
  });

  it('with keys cached: an unknown kid is 401 within the cooldown, 503 after it when the provider answers 500', async () => {
    mode = 'ok';
    expect((await call(await sign())).status).toBe(200);
    mode = 'status 500';
    const unknownKid = await sign('rotated-key-2');
    const before = hits;
    const within = await call(unknownKid);
    expect(within.status).toBe(401); // the key set was fetched a moment ago: this kid is not in it
    expect(hits - before).toBe(0);
    expect((await call(await sign())).status).toBe(200); // known kid: the cached keys still serve
    await new Promise((r) => setTimeout(r, COOLDOWN_MS + 100));
    const after = await call(unknownKid);
    expectUnavailable(after, 'unknown kid after the cooldown, JWKS 500');
    expect(hits - before).toBe(1);
    console.log(
      `unknown kid: within cooldown ${within.status}, after cooldown with JWKS 500 ${after.status}`,
    );
  });
});
