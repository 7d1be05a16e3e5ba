import { REGISTRY_EVENT_TYPES, type RegistryEvent } from '@nrm/access';
import type { EventStore } from '@nrm/event-store';
import { asDomainEvent } from '@nrm/runtime/commands';

/** One row per agency, principal or key, as `agency list`, `principal list` and `key list` print them. */
export interface AgencyRow {
  agencyId: string;
  name: string;
  kind: string;
  country: string;
  status: string;
}
export interface PrincipalRow {
  principalId: string;
  agencyId: string;
  label: string;
  roles: string[];
  status: string;
}
/** A key's id and state: never its secret nor the secret's hash. */
export interface KeyRow {
  keyId: string;
  principalId: string;
  agencyId: string;
  issuedAt: string;
  status: string;
}

export interface RegistryListing {
  agencies: AgencyRow[];
  principals: PrincipalRow[];
  keys: KeyRow[];
}

/** Folds the registry's events into rows, in the order things were registered. */
export async function listRegistry(store: EventStore): Promise<RegistryListing> {
  const agencies = new Map<string, AgencyRow>();
  const principals = new Map<string, PrincipalRow>();
  const keys = new Map<string, KeyRow>();
  for await (const stored of store.readAll({ filter: { eventTypes: REGISTRY_EVENT_TYPES } })) {
    const event = asDomainEvent<RegistryEvent>(stored);
    switch (event.type) {
      case 'AgencyRegistered': {
        const { agencyId, name, kind, country } = event.data;
        agencies.set(agencyId, { agencyId, name, kind, country, status: 'active' });
        break;
      }
      case 'AgencyDisabled':
      case 'AgencyEnabled': {
        const row = agencies.get(event.data.agencyId);
        if (row) row.status = event.type === 'AgencyDisabled' ? `disabled (${event.data.reason})` : 'active';
        break;
      }
      case 'PrincipalRegistered': {
        const { principalId, agencyId, label, roles } = event.data;
        principals.set(principalId, { principalId, agencyId, label, roles: [...roles], status: 'active' });
        break;
      }
      case 'PrincipalDisabled':
      case 'PrincipalEnabled': {
        const row = principals.get(event.data.principalId);
        if (row)
          row.status = event.type === 'PrincipalDisabled' ? `disabled (${event.data.reason})` : 'active';
        break;
      }
      case 'ApiKeyIssued':
        keys.set(event.data.keyId, {
          keyId: event.data.keyId,
          principalId: event.data.principalId,
          agencyId: principals.get(event.data.principalId)?.agencyId ?? '',
          issuedAt: event.data.issuedAt,
          status: 'active',
        });
        break;
      case 'ApiKeyRevoked': {
        const row = keys.get(event.data.keyId);
        if (row) row.status = 'revoked';
        break;
      }
    }
  }
  return { agencies: [...agencies.values()], principals: [...principals.values()], keys: [...keys.values()] };
}
