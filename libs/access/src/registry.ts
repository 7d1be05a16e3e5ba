import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import {
  AGENCY_KINDS,
  ROLES,
  conflict,
  forbidden,
  notFound,
  ruleBroken,
  type AgencyKind,
  type CommandMetadata,
  type DomainCommand,
  type DomainEvent,
  type Role,
} from '@nrm/shared-kernel';

/**
 * The registry of agencies, principals and their API keys, kept as events like
 * everything else, so that who could act for whom is itself on the record.
 */

export const agencyStream = (agencyId: string) => `agency-${agencyId}`;
export const principalStream = (principalId: string) => `principal-${principalId}`;
export const REGISTRY_STREAM_PREFIXES = ['agency-', 'principal-'] as const;

export type AgencyRegistered = DomainEvent<
  'AgencyRegistered',
  { agencyId: string; name: string; kind: AgencyKind; country: string; registeredAt: string }
>;
export type PrincipalRegistered = DomainEvent<
  'PrincipalRegistered',
  { principalId: string; agencyId: string; label: string; roles: Role[]; registeredAt: string }
>;
export type ApiKeyIssued = DomainEvent<
  'ApiKeyIssued',
  { principalId: string; keyId: string; secretSha256: string; issuedAt: string }
>;
export type ApiKeyRevoked = DomainEvent<
  'ApiKeyRevoked',
  { principalId: string; keyId: string; revokedAt: string }
>;
export type RegistryEvent = AgencyRegistered | PrincipalRegistered | ApiKeyIssued | ApiKeyRevoked;
export const REGISTRY_EVENT_TYPES = [
  'AgencyRegistered',
  'PrincipalRegistered',
  'ApiKeyIssued',
  'ApiKeyRevoked',
] as const;

/** Registry commands may come from the CLI (no actor: the operator at the console) or from a registry-admin. */
export type RegistryMetadata = Omit<CommandMetadata, 'actor'> & { actor?: CommandMetadata['actor'] };

export type RegisterAgency = DomainCommand<
  'RegisterAgency',
  { agencyId: string; name: string; kind: AgencyKind; country: string },
  RegistryMetadata
>;
export type RegisterPrincipal = DomainCommand<
  'RegisterPrincipal',
  { principalId: string; agencyId: string; label: string; roles: Role[]; agencyExists: boolean },
  RegistryMetadata
>;
export type IssueApiKey = DomainCommand<
  'IssueApiKey',
  { principalId: string; keyId: string; secretSha256: string },
  RegistryMetadata
>;
export type RevokeApiKey = DomainCommand<
  'RevokeApiKey',
  { principalId: string; keyId: string },
  RegistryMetadata
>;

function requireAdmin(metadata: RegistryMetadata): void {
  if (metadata.actor && !metadata.actor.roles.includes('registry-admin')) {
    throw forbidden('REGISTRY.ADMIN_ONLY', 'Only a registry administrator can change the registry.');
  }
}

export type AgencyState = { status: 'none' } | { status: 'registered'; agencyId: string; kind: AgencyKind };

export function decideAgency(command: RegisterAgency, state: AgencyState): AgencyRegistered[] {
  requireAdmin(command.metadata);
  if (state.status !== 'none')
    throw conflict('REGISTRY.AGENCY_EXISTS', 'This agency is already registered.', 'agencyId');
  if (!AGENCY_KINDS.includes(command.data.kind))
    throw ruleBroken(
      'REGISTRY.UNKNOWN_KIND',
      `Agency kind must be one of ${AGENCY_KINDS.join(', ')}.`,
      'kind',
    );
  return [
    {
      type: 'AgencyRegistered',
      schemaVersion: 1,
      data: { ...command.data, registeredAt: command.metadata.now },
    },
  ];
}

export function evolveAgency(_state: AgencyState, event: AgencyRegistered): AgencyState {
  return { status: 'registered', agencyId: event.data.agencyId, kind: event.data.kind };
}

export type PrincipalState =
  | { status: 'none' }
  | {
      status: 'registered';
      principalId: string;
      agencyId: string;
      keys: Record<string, 'active' | 'revoked'>;
    };

export function decidePrincipal(
  command: RegisterPrincipal | IssueApiKey | RevokeApiKey,
  state: PrincipalState,
): Array<PrincipalRegistered | ApiKeyIssued | ApiKeyRevoked> {
  requireAdmin(command.metadata);
  const now = command.metadata.now;
  switch (command.type) {
    case 'RegisterPrincipal': {
      if (state.status !== 'none')
        throw conflict('REGISTRY.PRINCIPAL_EXISTS', 'This principal is already registered.', 'principalId');
      if (!command.data.agencyExists)
        throw notFound('REGISTRY.AGENCY_NOT_FOUND', 'No agency is registered with this id.', 'agencyId');
      if (command.data.roles.length === 0 || command.data.roles.some((r) => !ROLES.includes(r)))
        throw ruleBroken('REGISTRY.ROLES', `Give at least one role of ${ROLES.join(', ')}.`, 'roles');
      const { principalId, agencyId, label, roles } = command.data;
      return [
        {
          type: 'PrincipalRegistered',
          schemaVersion: 1,
          data: { principalId, agencyId, label, roles: [...new Set(roles)], registeredAt: now },
        },
      ];
    }
    case 'IssueApiKey': {
      if (state.status === 'none')
        throw notFound('REGISTRY.PRINCIPAL_NOT_FOUND', 'No principal with this id.', 'principalId');
      if (state.keys[command.data.keyId])
        throw conflict('REGISTRY.KEY_EXISTS', 'This key id is already used.', 'keyId');
      return [{ type: 'ApiKeyIssued', schemaVersion: 1, data: { ...command.data, issuedAt: now } }];
    }
    case 'RevokeApiKey': {
      if (state.status === 'none')
        throw notFound('REGISTRY.PRINCIPAL_NOT_FOUND', 'No principal with this id.', 'principalId');
      if (state.keys[command.data.keyId] !== 'active')
        throw conflict(
          'REGISTRY.KEY_NOT_ACTIVE',
          'This key is not an active key of this principal.',
          'keyId',
        );
      return [{ type: 'ApiKeyRevoked', schemaVersion: 1, data: { ...command.data, revokedAt: now } }];
    }
    default: {
      const unreachable: never = command;
      throw new Error(`unknown command ${JSON.stringify(unreachable)}`);
    }
  }
}

export function evolvePrincipal(
  state: PrincipalState,
  event: PrincipalRegistered | ApiKeyIssued | ApiKeyRevoked,
): PrincipalState {
  switch (event.type) {
    case 'PrincipalRegistered':
      return {
        status: 'registered',
        principalId: event.data.principalId,
        agencyId: event.data.agencyId,
        keys: {},
      };
    case 'ApiKeyIssued':
      return state.status === 'registered'
        ? { ...state, keys: { ...state.keys, [event.data.keyId]: 'active' } }
        : state;
    case 'ApiKeyRevoked':
      return state.status === 'registered'
        ? { ...state, keys: { ...state.keys, [event.data.keyId]: 'revoked' } }
        : state;
  }
}

// ---- API keys -------------------------------------------------------------------------------

/**
 * An API key is `nrm_<keyId>_<secret>`: the key id finds the record, the
 * 256-bit random secret proves possession. Only the secret's SHA-256 is stored;
 * a slow password hash is unnecessary for a secret with this much entropy, and
 * would cost every request.
 */
export interface IssuedKey {
  readonly keyId: string;
  readonly secretSha256: string;
  /** Shown once, at creation; never stored. */
  readonly apiKey: string;
}

export function newApiKey(): IssuedKey {
  const keyId = randomBytes(9).toString('base64url');
  const secret = randomBytes(32).toString('base64url');
  return { keyId, secretSha256: sha256(secret), apiKey: `nrm_${keyId}_${secret}` };
}

const API_KEY = /^nrm_([A-Za-z0-9_-]{12})_([A-Za-z0-9_-]{43})$/;

export function parseApiKey(value: string): { keyId: string; secret: string } | undefined {
  const match = API_KEY.exec(value);
  return match ? { keyId: match[1]!, secret: match[2]! } : undefined;
}

export function sha256(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

export function secretMatches(secret: string, secretSha256: string): boolean {
  const given = Buffer.from(sha256(secret), 'hex');
  const stored = Buffer.from(secretSha256, 'hex');
  return given.length === stored.length && timingSafeEqual(given, stored);
}
