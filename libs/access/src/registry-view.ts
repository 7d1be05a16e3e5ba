import type { Actor, AgencyKind, Role } from '@nrm/shared-kernel';
import {
  UNKNOWN_KEY_SHA256,
  parseApiKey,
  secretMatches,
  type DisableReason,
  type RegistryEvent,
} from './registry';

export interface AgencyRecord {
  readonly agencyId: string;
  readonly name: string;
  readonly kind: AgencyKind;
  readonly country: string;
}

export interface PrincipalRecord {
  readonly principalId: string;
  readonly agencyId: string;
  readonly label: string;
  readonly roles: readonly Role[];
}

/** A principal or agency switched off: why, and since when. */
export interface Disablement {
  readonly reason: DisableReason;
  readonly since: string;
}

/** Why a principal with a valid credential is refused. */
export type Standing = 'active' | 'principal-disabled' | 'agency-disabled';

interface KeyRecord {
  readonly principalId: string;
  readonly secretSha256: string;
  revoked: boolean;
}

/** Stands in for an unknown key id: compared like any key, matched by no secret, never authenticates. */
const UNKNOWN_KEY: KeyRecord = { principalId: '', secretSha256: UNKNOWN_KEY_SHA256, revoked: true };

/** Who is registered, folded from the registry's events; what authentication asks. */
export class RegistryView {
  private readonly agencies = new Map<string, AgencyRecord>();
  private readonly principals = new Map<string, PrincipalRecord>();
  private readonly keys = new Map<string, KeyRecord>();
  private readonly disabledAgencies = new Map<string, Disablement>();
  private readonly disabledPrincipals = new Map<string, Disablement>();
  /** Position of the last registry event applied. */
  position = 0;
  /** How many presented secrets were hashed and compared (one per well-formed key, known or not). */
  secretComparisons = 0;

  apply(event: RegistryEvent, position: number): void {
    if (position <= this.position) return; // seen already: applying twice must change nothing
    this.position = position;
    switch (event.type) {
      case 'AgencyRegistered': {
        const { agencyId, name, kind, country } = event.data;
        this.agencies.set(agencyId, { agencyId, name, kind, country });
        return;
      }
      case 'PrincipalRegistered': {
        const { principalId, agencyId, label, roles } = event.data;
        this.principals.set(principalId, { principalId, agencyId, label, roles });
        return;
      }
      case 'ApiKeyIssued':
        this.keys.set(event.data.keyId, {
          principalId: event.data.principalId,
          secretSha256: event.data.secretSha256,
          revoked: false,
        });
        return;
      case 'ApiKeyRevoked': {
        const key = this.keys.get(event.data.keyId);
        if (key) key.revoked = true;
        return;
      }
      case 'PrincipalDisabled':
        this.disabledPrincipals.set(event.data.principalId, {
          reason: event.data.reason,
          since: event.data.disabledAt,
        });
        return;
      case 'PrincipalEnabled':
        this.disabledPrincipals.delete(event.data.principalId);
        return;
      case 'AgencyDisabled':
        this.disabledAgencies.set(event.data.agencyId, {
          reason: event.data.reason,
          since: event.data.disabledAt,
        });
        return;
      case 'AgencyEnabled':
        this.disabledAgencies.delete(event.data.agencyId);
        return;
    }
  }

  agency(agencyId: string): AgencyRecord | undefined {
    return this.agencies.get(agencyId);
  }

  principal(principalId: string): PrincipalRecord | undefined {
    return this.principals.get(principalId);
  }

  listAgencies(): AgencyRecord[] {
    return [...this.agencies.values()];
  }

  /**
   * The actor a principal acts as, or undefined when the principal or its agency
   * is unknown. A disabled principal still has an actor: ask `standing`.
   */
  actorFor(principalId: string): Actor | undefined {
    const principal = this.principals.get(principalId);
    const agency = principal && this.agencies.get(principal.agencyId);
    if (!principal || !agency) return undefined;
    return { principalId, agencyId: agency.agencyId, agencyKind: agency.kind, roles: principal.roles };
  }

  /** Whether a registered principal may act now: not if it, or its agency, is switched off. */
  standing(principalId: string): Standing {
    if (this.disabledPrincipals.has(principalId)) return 'principal-disabled';
    const agencyId = this.principals.get(principalId)?.agencyId;
    if (agencyId !== undefined && this.disabledAgencies.has(agencyId)) return 'agency-disabled';
    return 'active';
  }

  /** The principals and agencies switched off now, optionally of one agency only. */
  disabled(agencyId?: string): {
    agencies: Array<{ agencyId: string } & Disablement>;
    principals: Array<{ principalId: string; agencyId: string } & Disablement>;
  } {
    const agencies = [...this.disabledAgencies]
      .filter(([id]) => agencyId === undefined || id === agencyId)
      .map(([id, d]) => ({ agencyId: id, ...d }));
    const principals = [...this.disabledPrincipals]
      .map(([principalId, d]) => ({
        principalId,
        agencyId: this.principals.get(principalId)?.agencyId ?? '',
        ...d,
      }))
      .filter((p) => agencyId === undefined || p.agencyId === agencyId);
    return { agencies, principals };
  }

  /**
   * The actor an API key stands for; undefined for malformed, unknown, revoked or
   * wrong keys. An unknown key id takes the same path as a wrong secret (the
   * secret is hashed and compared with a stand-in), so timing does not tell
   * whether a key id exists. A disabled principal still authenticates: ask `standing`.
   */
  authenticateApiKey(apiKey: string): Actor | undefined {
    const parsed = parseApiKey(apiKey);
    if (!parsed) return undefined;
    const key = this.keys.get(parsed.keyId) ?? UNKNOWN_KEY;
    this.secretComparisons++;
    const matches = secretMatches(parsed.secret, key.secretSha256);
    if (!matches || key.revoked) return undefined;
    return this.actorFor(key.principalId);
  }
}
