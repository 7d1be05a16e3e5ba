import {
  conflict,
  forbidden,
  REFERENCE_CODE_DESCRIPTION,
  REFERENCE_CODE_SHAPE,
  ruleBroken,
  type Actor,
  type CommandMetadata,
  type Decider,
  type DomainCommand,
  type DomainEvent,
} from '@nrm/shared-kernel';

/** One stream per subject: a second erasure finds the first. */
export const erasureStream = (subjectId: string) => `erasure-${subjectId}`;

/**
 * Why a subject is erased: a closed list of legal grounds, so that the record that outlives the
 * erasure (in clear, in every export and backup) holds no prose that could name the person.
 * GDPR Art. 17(1): (a) `no-longer-necessary`, (b) `consent-withdrawn`, (c) `objection`,
 * (d) `unlawful-processing`, (e) `legal-obligation`; `subject-request` when the person asked
 * (through the agency assisting them) without a more precise ground; `court-order`; and
 * `supervisory-authority-order` (an order of the data protection authority, Art. 58(2)(g)).
 */
export const ERASURE_GROUNDS = [
  'subject-request',
  'no-longer-necessary',
  'consent-withdrawn',
  'objection',
  'unlawful-processing',
  'legal-obligation',
  'court-order',
  'supervisory-authority-order',
] as const;
export type ErasureGround = (typeof ERASURE_GROUNDS)[number];

export type EraseSubject = DomainCommand<
  'EraseSubject',
  {
    readonly subjectId: string;
    /** The legal ground; required unless the deprecated `reason` is given. */
    readonly ground?: string;
    /** A reference code (the file number of the request or order), never prose. */
    readonly reference?: string;
    /**
     * Deprecated (API 0.1.0): accepted only as a reference code of 10 to 200 characters, and then
     * recorded as the `reference` (without a ground when none is given). Prose is refused.
     */
    readonly reason?: string;
  },
  CommandMetadata
>;

/**
 * Who erased whom, when and why; never what was erased.
 *
 * Schema 1 kept a free-text `reason` in clear: it could name the very person erased, and nothing
 * can shred it. Schema 2 records a legal `ground` from ERASURE_GROUNDS and an optional `reference`
 * code instead; `ground` is absent only when the request used the deprecated `reason` (then kept
 * as the reference).
 */
export type SubjectErased = DomainEvent<
  'SubjectErased',
  {
    readonly subjectId: string;
    /** Schema 1 only. */
    readonly reason?: string;
    /** Schema 2. */
    readonly ground?: ErasureGround;
    /** Schema 2. */
    readonly reference?: string;
    readonly erasedByPrincipalId: string;
    readonly erasedByAgencyId: string;
    readonly erasedAt: string;
  }
> & { readonly schemaVersion: 1 | 2 };

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

const isGround = (value: string): value is ErasureGround =>
  (ERASURE_GROUNDS as readonly string[]).includes(value);

/** The ground and reference to record, or the rule the request breaks (naming its field). */
export function erasureGrounds(data: EraseSubject['data']): { ground?: ErasureGround; reference?: string } {
  const { ground } = data;
  let reference = data.reference;
  if (data.reason !== undefined) {
    if (reference !== undefined)
      throw ruleBroken(
        'ERASURE.REASON_DEPRECATED',
        'reason is deprecated: give the reference code in reference only.',
        'reason',
      );
    const reason = data.reason.trim();
    if (reason.length < 10 || !REFERENCE_CODE_SHAPE.test(reason))
      throw ruleBroken(
        'ERASURE.REASON_NOT_A_CODE',
        `reason is deprecated and must be ${REFERENCE_CODE_DESCRIPTION} (at least 10); give ground (${ERASURE_GROUNDS.join(', ')}) and a reference code instead of prose.`,
        'reason',
      );
    reference = reason;
  }
  if (ground === undefined && data.reason === undefined)
    throw ruleBroken(
      'ERASURE.GROUND_REQUIRED',
      `Say on which ground the subject is erased: one of ${ERASURE_GROUNDS.join(', ')}.`,
      'ground',
    );
  if (ground !== undefined && !isGround(ground))
    throw ruleBroken(
      'ERASURE.GROUND_UNKNOWN',
      `ground must be one of ${ERASURE_GROUNDS.join(', ')}.`,
      'ground',
    );
  if (reference !== undefined && !REFERENCE_CODE_SHAPE.test(reference))
    throw ruleBroken(
      'ERASURE.REFERENCE_NOT_A_CODE',
      `reference must be ${REFERENCE_CODE_DESCRIPTION}.`,
      'reference',
    );
  return { ...(ground !== undefined ? { ground } : {}), ...(reference !== undefined ? { reference } : {}) };
}

export const erasureDecider: Decider<EraseSubject, SubjectErased, ErasureState> = {
  initialState: () => ({ erased: false }),
  evolve: (_state, event) => (event.type === 'SubjectErased' ? { erased: true } : _state),
  decide(command, state) {
    const { actor, now } = command.metadata;
    requireErasureRight(actor);
    if (state.erased)
      throw conflict('SUBJECT.ALREADY_ERASED', 'This subject has already been erased.', 'subjectId');
    const why = erasureGrounds(command.data);
    return [
      {
        type: 'SubjectErased',
        schemaVersion: 2,
        data: {
          subjectId: command.data.subjectId,
          ...why,
          erasedByPrincipalId: actor.principalId,
          erasedByAgencyId: actor.agencyId,
          erasedAt: now,
        },
      },
    ];
  },
};
