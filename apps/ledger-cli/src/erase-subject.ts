import type { EventStore } from '@nrm/event-store';
import { REGISTRY_EVENT_TYPES, RegistryView, type RegistryEvent } from '@nrm/access';
import { ErasureCommands, type SubjectKeyStore } from '@nrm/privacy';
import type { Actor } from '@nrm/shared-kernel';
import { randomUUID } from 'node:crypto';
import { asDomainEvent, type CommandResult } from '@nrm/runtime/commands';

/**
 * `ledger erase-subject`: the console erases on behalf of a registered
 * principal of the oversight body or the national coordinator (`--as`), so the
 * record names a real person and role, as over the API.
 */
export async function eraseSubject(
  store: EventStore,
  keys: SubjectKeyStore,
  input: { subjectId: string; ground?: string; reference?: string; reason?: string; as: string },
): Promise<{ subjectId: string } & CommandResult> {
  const registry = new RegistryView();
  for await (const event of store.readAll({ filter: { eventTypes: REGISTRY_EVENT_TYPES } }))
    registry.apply(asDomainEvent<RegistryEvent>(event), event.position);
  const principal = registry.principal(input.as);
  const agency = principal ? registry.agency(principal.agencyId) : undefined;
  if (!principal || !agency) throw new Error(`--as ${input.as}: no such principal`);
  const standing = registry.standing(principal.principalId);
  if (standing !== 'active') throw new Error(`--as ${input.as}: ${standing}`); // switched off: acts for nobody
  const actor: Actor = {
    principalId: principal.principalId,
    agencyId: agency.agencyId,
    agencyKind: agency.kind,
    roles: principal.roles,
  };
  const commands = new ErasureCommands(store, keys, async (subjectId) => {
    for await (const event of store.readAll({ filter: { eventTypes: ['PotentialVictimReported'] } }))
      if (event.data.subjectId === subjectId) return true;
    return false;
  });
  return commands.erase(
    {
      subjectId: input.subjectId,
      ...(input.ground !== undefined ? { ground: input.ground } : {}),
      ...(input.reference !== undefined ? { reference: input.reference } : {}),
      ...(input.reason !== undefined ? { reason: input.reason } : {}),
    },
    {
      actor,
      now: new Date().toISOString(),
      requestId: `cli-${randomUUID()}`,
      fingerprint: 'cli',
    },
  );
}
