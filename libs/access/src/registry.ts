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

/** Who changed the registry: the operator at the console, or a registry administrator through the API. */
export type RegistryActor =
  | { readonly via: 'console' }
  | { readonly via: 'api'; readonly principalId: string; readonly agencyId: string };

/**
 * Why a principal or an agency is switched off. A fixed list, never prose: the
 * event is immutable and must hold no personal data.
 */
export const DISABLE_REASONS = [
  'offboarded',
  'credential-compromised',
  'agency-compromised',
  'suspended',
  'other',
] as const;
export type DisableReason = (typeof DISABLE_REASONS)[number];

export type PrincipalDisabled = DomainEvent<
  'PrincipalDisabled',
  { principalId: string; agencyId: string; reason: DisableReason; by: RegistryActor; disabledAt: string }
>;
export type PrincipalEnabled = DomainEvent<
  'PrincipalEnabled',
  { principalId: string; agencyId: string; by: RegistryActor; enabledAt: string }
>;
export type AgencyDisabled = DomainEvent<
  'AgencyDisabled',
  { agencyId: string; reason: DisableReason; by: RegistryActor; disabledAt: string }
>;
export type AgencyEnabled = DomainEvent<
  'AgencyEnabled',
  { agencyId: string; by: RegistryActor; enabledAt: string }
>;

export type AgencyEvent = AgencyRegistered | AgencyDisabled | AgencyEnabled;
export type PrincipalEvent =
  PrincipalRegistered | ApiKeyIssued | ApiKeyRevoked | PrincipalDisabled | PrincipalEnabled;
export type RegistryEvent = AgencyEvent | PrincipalEvent;
export const REGISTRY_EVENT_TYPES = [
  'AgencyRegistered',
  'PrincipalRegistered',
  'ApiKeyIssued',
  'ApiKeyRevoked',
  'PrincipalDisabled',
  'PrincipalEnabled',
  'AgencyDisabled',
  'AgencyEnabled',
] as const satisfies readonly RegistryEvent['type'][];

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
export type DisablePrincipal = DomainCommand<
  'DisablePrincipal',
  { principalId: string; reason: DisableReason },
  RegistryMetadata
>;
export type EnablePrincipal = DomainCommand<'EnablePrincipal', { principalId: string }, RegistryMetadata>;
export type DisableAgency = DomainCommand<
  'DisableAgency',
  { agencyId: string; reason: DisableReason },
  RegistryMetadata
>;
export type EnableAgency = DomainCommand<'EnableAgency', { agencyId: string }, RegistryMetadata>;

/** Who acts, as the registry's events record it. */
export function registryActorOf(metadata: RegistryMetadata): RegistryActor {
  return metadata.actor
    ? { via: 'api', principalId: metadata.actor.principalId, agencyId: metadata.actor.agencyId }
    : { via: 'console' };
}

function checkReason(reason: DisableReason): void {
  if (!DISABLE_REASONS.includes(reason))
    throw ruleBroken('REGISTRY.REASON', `Give a reason among ${DISABLE_REASONS.join(', ')}.`, 'reason');
}

/**
 * Agency kinds only the operator at the console registers, switches off or on, or staffs: the
 * independent oversight body (the coordinator must not be able to blind or replace it) and the
 * national coordinator itself.
 */
export const OPERATOR_ONLY_KINDS: readonly AgencyKind[] = ['oversight-body', 'national-coordinator'];

function operatorOnly(what: string) {
  return forbidden('REGISTRY.OPERATOR_ONLY', `Only the operator, at the ledger's console, ${what}.`);
}

export function ownAgencyOnly() {
  return forbidden(
    'REGISTRY.OWN_AGENCY_ONLY',
    "A registry administrator registers principals and issues keys for its own agency only; the national coordinator's may also switch off another agency's principals and revoke their keys.",
  );
}

/** The one answer for an agency the registry does not hold. */
export function agencyNotFound() {
  return notFound('REGISTRY.AGENCY_NOT_FOUND', 'No agency is registered with this id.', 'agencyId');
}

export function principalNotFound() {
  return notFound('REGISTRY.PRINCIPAL_NOT_FOUND', 'No principal with this id.', 'principalId');
}

/** What a registry administrator does to a principal. */
export type PrincipalAction = 'register' | 'issue-key' | 'revoke-key' | 'disable' | 'enable';

/**
 * Whether `actor` may act on a principal of the agency `target` (the operator, with no actor, may
 * do everything). Nobody receives a working credential for another agency's principal: a key is
 * issued, a principal registered or switched back on by its own agency's administrator (or the
 * operator, who enrols each agency's first administrator). The national coordinator's administrator
 * may only cut off another agency's principals (switch one off, revoke a key), never an oversight
 * body's. An ordinary agency's administrator gets, for another agency's principal, the very answer
 * it gets for an unknown one.
 */
export function checkPrincipalReach(
  actor: RegistryMetadata['actor'],
  action: PrincipalAction,
  target: { agencyId: string; agencyKind?: AgencyKind },
): void {
  if (!actor || target.agencyId === actor.agencyId) return;
  if (actor.roles.includes('registry-admin') && actor.agencyKind === 'national-coordinator') {
    if (target.agencyKind && OPERATOR_ONLY_KINDS.includes(target.agencyKind))
      throw operatorOnly("manages another oversight body's or coordinator's principals");
    if (action === 'revoke-key' || action === 'disable') return;
    throw ownAgencyOnly();
  }
  if (action === 'register') throw ownAgencyOnly();
  throw principalNotFound();
}

function requireAdmin(metadata: RegistryMetadata): void {
  if (metadata.actor && !metadata.actor.roles.includes('registry-admin')) {
    throw forbidden('REGISTRY.ADMIN_ONLY', 'Only a registry administrator can change the registry.');
  }
}

export type AgencyState =
  { status: 'none' } | { status: 'registered'; agencyId: string; kind: AgencyKind; disabled: boolean };

export function decideAgency(
  command: RegisterAgency | DisableAgency | EnableAgency,
  state: AgencyState,
): AgencyEvent[] {
  requireAdmin(command.metadata);
  const now = command.metadata.now;
  switch (command.type) {
    case 'RegisterAgency':
      return registerAgency(command, state);
    case 'DisableAgency': {
      if (state.status === 'none') throw agencyNotFound();
      checkReason(command.data.reason);
      if (command.metadata.actor?.agencyId === state.agencyId)
        throw ruleBroken(
          'REGISTRY.NOT_OWN_AGENCY',
          'An agency cannot switch itself off; the operator at the console can.',
          'agencyId',
        );
      if (command.metadata.actor && OPERATOR_ONLY_KINDS.includes(state.kind))
        throw operatorOnly('switches an oversight body or the national coordinator off');
      if (state.disabled) return []; // already off: nothing to record
      const by = registryActorOf(command.metadata);
      return [{ type: 'AgencyDisabled', schemaVersion: 1, data: { ...command.data, by, disabledAt: now } }];
    }
    case 'EnableAgency': {
      if (state.status === 'none') throw agencyNotFound();
      if (command.metadata.actor?.agencyId === state.agencyId)
        throw ruleBroken(
          'REGISTRY.NOT_OWN_AGENCY',
          'An agency cannot switch itself on; the national coordinator or the operator can.',
          'agencyId',
        );
      if (command.metadata.actor && OPERATOR_ONLY_KINDS.includes(state.kind))
        throw operatorOnly('switches an oversight body or the national coordinator on');
      if (!state.disabled) return [];
      const by = registryActorOf(command.metadata);
      return [{ type: 'AgencyEnabled', schemaVersion: 1, data: { ...command.data, by, enabledAt: now } }];
    }
    default: {
      const unreachable: never = command;
      throw new Error(`unknown command ${JSON.stringify(unreachable)}`);
    }
  }
}

function registerAgency(command: RegisterAgency, state: AgencyState): AgencyRegistered[] {
  if (state.status !== 'none')
    throw conflict('REGISTRY.AGENCY_EXISTS', 'This agency is already registered.', 'agencyId');
  if (!AGENCY_KINDS.includes(command.data.kind))
    throw ruleBroken(
      'REGISTRY.UNKNOWN_KIND',
      `Agency kind must be one of ${AGENCY_KINDS.join(', ')}.`,
      'kind',
    );
  if (command.metadata.actor && OPERATOR_ONLY_KINDS.includes(command.data.kind))
    throw operatorOnly('registers an oversight body or a national coordinator');
  return [
    {
      type: 'AgencyRegistered',
      schemaVersion: 1,
      data: { ...command.data, registeredAt: command.metadata.now },
    },
  ];
}

export function evolveAgency(state: AgencyState, event: AgencyEvent): AgencyState {
  switch (event.type) {
    case 'AgencyRegistered':
      return { status: 'registered', agencyId: event.data.agencyId, kind: event.data.kind, disabled: false };
    case 'AgencyDisabled':
      return state.status === 'registered' ? { ...state, disabled: true } : state;
    case 'AgencyEnabled':
      return state.status === 'registered' ? { ...state, disabled: false } : state;
  }
}

export type PrincipalState =
  | { status: 'none' }
  | {
      status: 'registered';
      principalId: string;
      agencyId: string;
      keys: Record<string, 'active' | 'revoked'>;
      disabled: boolean;
    };

export function decidePrincipal(
  command: RegisterPrincipal | IssueApiKey | RevokeApiKey | DisablePrincipal | EnablePrincipal,
  state: PrincipalState,
): PrincipalEvent[] {
  requireAdmin(command.metadata);
  const now = command.metadata.now;
  switch (command.type) {
    case 'RegisterPrincipal': {
      if (state.status !== 'none')
        throw conflict('REGISTRY.PRINCIPAL_EXISTS', 'This principal is already registered.', 'principalId');
      if (!command.data.agencyExists) throw agencyNotFound();
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
      if (state.status === 'none') throw principalNotFound();
      if (state.keys[command.data.keyId])
        throw conflict('REGISTRY.KEY_EXISTS', 'This key id is already used.', 'keyId');
      return [{ type: 'ApiKeyIssued', schemaVersion: 1, data: { ...command.data, issuedAt: now } }];
    }
    case 'RevokeApiKey': {
      if (state.status === 'none') throw principalNotFound();
      if (state.keys[command.data.keyId] !== 'active')
        throw conflict(
          'REGISTRY.KEY_NOT_ACTIVE',
          'This key is not an active key of this principal.',
          'keyId',
        );
      return [{ type: 'ApiKeyRevoked', schemaVersion: 1, data: { ...command.data, revokedAt: now } }];
    }
    case 'DisablePrincipal': {
      if (state.status === 'none') throw principalNotFound();
      checkReason(command.data.reason);
      if (command.metadata.actor?.principalId === state.principalId)
        throw ruleBroken(
          'REGISTRY.NOT_YOURSELF',
          'A principal cannot switch itself off; ask another registry administrator.',
          'principalId',
        );
      if (state.disabled) return [];
      const { principalId, reason } = command.data;
      const by = registryActorOf(command.metadata);
      return [
        {
          type: 'PrincipalDisabled',
          schemaVersion: 1,
          data: { principalId, agencyId: state.agencyId, reason, by, disabledAt: now },
        },
      ];
    }
    case 'EnablePrincipal': {
      if (state.status === 'none') throw principalNotFound();
      if (command.metadata.actor?.principalId === state.principalId)
        throw ruleBroken(
          'REGISTRY.NOT_YOURSELF',
          'A principal cannot switch itself on; ask another registry administrator.',
          'principalId',
        );
      if (!state.disabled) return [];
      const by = registryActorOf(command.metadata);
      return [
        {
          type: 'PrincipalEnabled',
          schemaVersion: 1,
          data: { principalId: state.principalId, agencyId: state.agencyId, by, enabledAt: now },
        },
      ];
    }
    default: {
      const unreachable: never = command;
      throw new Error(`unknown command ${JSON.stringify(unreachable)}`);
    }
  }
}

export function evolvePrincipal(state: PrincipalState, event: PrincipalEvent): PrincipalState {
  switch (event.type) {
    case 'PrincipalRegistered':
      return {
        status: 'registered',
        principalId: event.data.principalId,
        agencyId: event.data.agencyId,
        keys: {},
        disabled: false,
      };
    case 'PrincipalDisabled':
      return state.status === 'registered' ? { ...state, disabled: true } : state;
    case 'PrincipalEnabled':
      return state.status === 'registered' ? { ...state, disabled: false } : state;
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

/**
 * What a presented secret is compared with when its key id is unknown: the hash
 * of a secret nobody holds, so that an unknown id costs the same hash and
 * comparison as a wrong secret for a known one.
 */
export const UNKNOWN_KEY_SHA256 = sha256(randomBytes(32).toString('base64url'));

export function secretMatches(secret: string, secretSha256: string): boolean {
  const given = Buffer.from(sha256(secret), 'hex');
  const stored = Buffer.from(secretSha256, 'hex');
  return given.length === stored.length && timingSafeEqual(given, stored);
}
