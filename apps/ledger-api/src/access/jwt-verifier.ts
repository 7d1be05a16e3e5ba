import { createRemoteJWKSet, errors, jwtVerify, type JWTVerifyGetKey } from 'jose';

/** The identity provider's keys could not be fetched: not the caller's fault (503, not 401). */
export class IdentityProviderUnavailable extends Error {
  constructor(cause: unknown) {
    super('the identity provider’s signing keys could not be fetched', { cause });
  }
}

export interface JwtSettings {
  readonly jwksUrl: string;
  readonly issuer: string;
  readonly audience: string;
}

/**
 * Verifies bearer JWTs against the identity provider's JWKS (fetched and cached
 * by jose, refreshed when an unknown key id appears). The token's `sub` names
 * the principal; its agency and roles come from our registry, not the token.
 */
export class JwtVerifier {
  private readonly keys: JWTVerifyGetKey;

  constructor(private readonly settings: JwtSettings) {
    this.keys = createRemoteJWKSet(new URL(settings.jwksUrl), {
      timeoutDuration: 5000,
      cooldownDuration: 30_000,
    });
  }

  /** The principal id (`sub`) of a valid token, or undefined. */
  async principalOf(token: string): Promise<string | undefined> {
    try {
      const { payload } = await jwtVerify(token, this.keys, {
        issuer: this.settings.issuer,
        audience: this.settings.audience,
        algorithms: ['RS256', 'PS256', 'ES256', 'EdDSA'],
        clockTolerance: 30,
        // A token without an expiry would work forever once leaked.
        requiredClaims: ['exp', 'sub'],
      });
      return typeof payload.sub === 'string' && payload.sub.length > 0 ? payload.sub : undefined;
    } catch (error) {
      // A bad token is the caller's problem; an unreachable key set is ours.
      if (error instanceof errors.JWKSTimeout || !(error instanceof errors.JOSEError))
        throw new IdentityProviderUnavailable(error);
      return undefined;
    }
  }
}
