import {
  conflict,
  forbidden,
  ruleBroken,
  type Actor,
  type CommandMetadata,
  type Decider,
  type DomainCommand,
  type DomainEvent,
} from '@nrm/shared-kernel';

/** One stream per subject: a second erasure finds the first. */
export const erasureStream = (subjectId: string) => `erasure-${subjectId}`;

export type EraseSubject = DomainCommand<
  'EraseSubject',
  { readonly subjectId: string; readonly reason: string },
  CommandMetadata
>;

/** Who erased whom, when and why; never what was erased. */
export type SubjectErased = DomainEvent<
  'SubjectErased',
  {
    readonly subjectId: string;
    readonly reason: string;
    readonly erasedByPrincipalId: string;
    readonly erasedByAgencyId: string;
    readonly erasedAt: string;
  }
> & { readonly schemaVersion: 1 };

export interface ErasureState {
  readonly erased: boolean;
}

/**
 * Erasure of a subject's identity data, asked by the oversight body's
 * oversight role or the national coordinator's coordinator role. The event is
 * the record; destroying the subject's key (the application's next step) is
 * the erasure.
 */
/** The oversight body's oversight role, or the national coordinator's coordinator role; refuses anyone else. */
export function requireErasureRight(actor: Actor): void {
  const allowed =
    (actor.agencyKind === 'oversight-body' && actor.roles.includes('oversight')) ||
    (actor.agencyKind === 'national-coordinator' && actor.roles.includes('coordinator'));
  if (!allowed)
    throw forbidden(
      'ERASURE.NOT_ALLOWED',
      "Only the oversight body's oversight role or the national coordinator's coordinator role can erase a subject.",
    );
}

export const erasureDecider: Decider<EraseSubject, SubjectErased, ErasureState> = {
  initialState: () => ({ erased: false }),
  evolve: (_state, event) => (event.type === 'SubjectErased' ? { erased: true } : _state),
  decide(command, state) {
    const { actor, now } = command.metadata;
    requireErasureRight(actor);
    if (state.erased)
      throw conflict('SUBJECT.ALREADY_ERASED', 'This subject has already been erased.', 'subjectId');
    const reason = command.data.reason.trim();
    if (reason.length < 10)
      throw ruleBroken(
        'ERASURE.REASON_REQUIRED',
        'Say why the subject is erased, in at least 10 characters.',
        'reason',
      );
    return [
      {
        type: 'SubjectErased',
        schemaVersion: 1,
        data: {
          subjectId: command.data.subjectId,
          reason,
          erasedByPrincipalId: actor.principalId,
          erasedByAgencyId: actor.agencyId,
          erasedAt: now,
        },
      },
    ];
  },
};
