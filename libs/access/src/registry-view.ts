import type { Actor, AgencyKind, Role } from '@nrm/shared-kernel';
import { parseApiKey, secretMatches, type RegistryEvent } from './registry';

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

interface KeyRecord {
  readonly principalId: string;
  readonly secretSha256: string;
  revoked: boolean;
}

/** Who is registered, folded from the registry's events; what authentication asks. */
export class RegistryView {
  private readonly agencies = new Map<string, AgencyRecord>();
  private readonly principals = new Map<string, PrincipalRecord>();
  private readonly keys = new Map<string, KeyRecord>();
  /** Position of the last registry event applied. */
  position = 0;

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

  /** Whether this key id is known at all (revoked or not). */
  knowsKey(keyId: string): boolean {
    return this.keys.has(keyId);
  }

  /** The actor a principal acts as, or undefined when the principal or its agency is unknown. */
  actorFor(principalId: string): Actor | undefined {
    const principal = this.principals.get(principalId);
    const agency = principal && this.agencies.get(principal.agencyId);
    if (!principal || !agency) return undefined;
    return { principalId, agencyId: agency.agencyId, agencyKind: agency.kind, roles: principal.roles };
  }

  /** The actor an API key stands for; undefined for malformed, unknown, revoked or wrong keys. */
  authenticateApiKey(apiKey: string): Actor | undefined {
    const parsed = parseApiKey(apiKey);
    if (!parsed) return undefined;
    const key = this.keys.get(parsed.keyId);
    if (!key || key.revoked || !secretMatches(parsed.secret, key.secretSha256)) return undefined;
    return this.actorFor(key.principalId);
  }
}
