import {
  createLocalJWKSet,
  errors,
  jwtVerify,
  type FlattenedJWSInput,
  type JWTHeaderParameters,
  type JWTVerifyGetKey,
} from 'jose';

/** The identity provider's keys could not be fetched or read: not the caller's fault (503, not 401). */
export class IdentityProviderUnavailable extends Error {
  constructor(cause: unknown) {
    super('the identity provider’s signing keys could not be fetched', { cause });
  }
}

export interface JwtSettings {
  readonly jwksUrl: string;
  readonly issuer: string;
  readonly audience: string;
  /** One deadline for a fetch of the key set: connection, headers and the whole body. */
  readonly timeoutMs?: number;
  /** An unknown key id fetches the key set again only if the cached one is at least this old. */
  readonly cooldownMs?: number;
}

/** Keys are fetched again after this long even when every token's key id is known (key rotation). */
const MAX_AGE_MS = 10 * 60_000;
/** A key set is a few kilobytes; more is not a key set. */
const MAX_JWKS_BYTES = 256 * 1024;

interface KeySet {
  readonly keys: JWTVerifyGetKey;
  readonly fetchedAt: number;
}

/**
 * Verifies bearer JWTs against the identity provider's JWKS. The token's `sub`
 * names the principal; its agency and roles come from our registry, not the token.
 *
 * The key set is fetched here rather than by jose's remote set, so that every
 * way the provider can fail is one failure (503): a refused connection, a status
 * other than 200, a body that is not a JSON key set, or a body that stalls. One
 * deadline covers the whole fetch, body included, and concurrent requests share
 * one fetch, so a stalled provider holds no request longer than that deadline.
 */
export class JwtVerifier {
  private cached: KeySet | undefined;
  private loading: Promise<KeySet> | undefined;
  private readonly timeoutMs: number;
  private readonly cooldownMs: number;
  /** How many fetches of the key set were started (for tests and metrics). */
  fetches = 0;

  constructor(private readonly settings: JwtSettings) {
    this.timeoutMs = settings.timeoutMs ?? 5000;
    this.cooldownMs = settings.cooldownMs ?? 30_000;
  }

  /**
   * The principal id (`sub`) of a valid token, or undefined for a token that is
   * not; throws `IdentityProviderUnavailable` when the keys cannot be had.
   */
  async principalOf(token: string): Promise<string | undefined> {
    try {
      const { payload } = await jwtVerify(token, (header, input) => this.keyFor(header, input), {
        issuer: this.settings.issuer,
        audience: this.settings.audience,
        algorithms: ['RS256', 'PS256', 'ES256', 'EdDSA'],
        clockTolerance: 30,
        // A token without an expiry would work forever once leaked.
        requiredClaims: ['exp', 'sub'],
      });
      return typeof payload.sub === 'string' && payload.sub.length > 0 ? payload.sub : undefined;
    } catch (error) {
      // A bad token is the caller's problem; keys we cannot have are ours.
      if (error instanceof IdentityProviderUnavailable) throw error;
      if (!(error instanceof errors.JOSEError)) throw new IdentityProviderUnavailable(error);
      return undefined;
    }
  }

  private async keyFor(header: JWTHeaderParameters, input: FlattenedJWSInput) {
    let set = this.cached;
    if (!set || Date.now() - set.fetchedAt >= MAX_AGE_MS) set = await this.load();
    try {
      return await set.keys(header, input);
    } catch (error) {
      // A key id we do not know: perhaps the provider rotated its keys. Ask it again, not too often.
      if (!(error instanceof errors.JWKSNoMatchingKey) || Date.now() - set.fetchedAt < this.cooldownMs)
        throw error;
      return (await this.load()).keys(header, input);
    }
  }

  /** Fetches the key set; callers arriving during a fetch share it (and its deadline). */
  private load(): Promise<KeySet> {
    this.loading ??= this.fetchKeySet().finally(() => {
      this.loading = undefined;
    });
    return this.loading;
  }

  private async fetchKeySet(): Promise<KeySet> {
    this.fetches++;
    try {
      const response = await fetch(this.settings.jwksUrl, {
        signal: AbortSignal.timeout(this.timeoutMs),
        headers: { accept: 'application/json, application/jwk-set+json' },
        redirect: 'error',
      });
      if (response.status !== 200) {
        await response.body?.cancel();
        throw new Error(`the JWKS endpoint answered HTTP ${response.status}`);
      }
      const text = await bodyOf(response);
      let document: unknown;
      try {
        document = JSON.parse(text);
      } catch {
        throw new Error('the JWKS endpoint answered something that is not JSON');
      }
      // Throws JWKSInvalid for JSON that is not a key set: read now, so that it is a provider failure.
      const keys = createLocalJWKSet(document as Parameters<typeof createLocalJWKSet>[0]);
      const set = { keys, fetchedAt: Date.now() };
      this.cached = set;
      return set;
    } catch (error) {
      throw new IdentityProviderUnavailable(error);
    }
  }
}

/** The body as text, at most MAX_JWKS_BYTES; reading it is bounded by the fetch's deadline. */
async function bodyOf(response: Response): Promise<string> {
  if (!response.body) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
    size += chunk.byteLength;
    if (size > MAX_JWKS_BYTES) throw new Error(`the JWKS is larger than ${MAX_JWKS_BYTES} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
