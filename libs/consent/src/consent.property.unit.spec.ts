import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  DomainError,
  type Actor,
  type AgencyKind,
  type DataCategory,
  type Purpose,
  type Role,
} from '@nrm/shared-kernel';
import {
  consentCovers,
  consentDecider,
  coveredCategories,
  grantHolds,
  LAWFUL_BASES,
  NO_CONTACT_KINDS,
  SENSITIVE_CATEGORIES,
  type ConsentCommand,
  type ConsentEvent,
  type ConsentState,
  type GrantConsent,
  type GrantState,
  type RecordLawfulBasis,
  type RefuseConsent,
  type WithdrawConsent,
} from './index';

// --- a small world, so that ids collide and values overlap often ------------------------------

const CASE = 'case-1';
const BASE = Date.parse('2025-01-01T00:00:00.000Z');
const HOUR = 3_600_000;
const iso = (hours: number) => new Date(BASE + hours * HOUR).toISOString();

const AGENCIES = ['ag-1', 'ag-2', 'ag-3'] as const;
/** ag-3 is a foreign contact point; 'ag-rec' records without being named, unless it names itself. */
const KINDS: Readonly<Record<string, AgencyKind>> = {
  'ag-rec': 'health',
  'ag-1': 'ngo',
  'ag-2': 'shelter',
  'ag-3': 'foreign-nrm',
};
const CATEGORIES: readonly DataCategory[] = ['identity', 'health', 'support-needs', 'case-status'];
const USED_PURPOSES: readonly Purpose[] = ['assistance', 'referral', 'protection'];
// Ids that are also names on Object.prototype must behave like any other id.
const CONSENT_IDS = ['c-1', 'c-2', 'constructor', '__proto__'];
const BASIS_IDS = ['lb-1', 'lb-2', 'toString'];
const JUSTIFICATIONS = [
  '',
  'urgent',
  '   Court order CO-1234   ', // 19 characters once trimmed
  'Court order CO-12345', // exactly 20
  'Child protection order CP-77 requires sharing with the shelter.',
];

// Query grid: one agency, category and purpose that are never granted, and instants on the hour
// so that they meet grant and expiry instants exactly.
const Q_AGENCIES = [...AGENCIES, 'ag-never'];
const Q_CATEGORIES: readonly DataCategory[] = [...CATEGORIES, 'contact'];
const Q_PURPOSES: readonly Purpose[] = [...USED_PURPOSES, 'statistics'];
const Q_TIMES = [0, 12, 30, 60].map(iso);

// --- arbitraries ------------------------------------------------------------------------------

/** Mostly well-formed commands, so that histories grow; now and then a broken one. */
const mostly = <T>(valid: fc.Arbitrary<T>, broken: fc.Arbitrary<T>) =>
  fc.oneof({ weight: 14, arbitrary: valid }, { weight: 1, arbitrary: broken });

const rolesArb = fc.oneof(
  { weight: 8, arbitrary: fc.constant<Role[]>(['caseworker']) },
  { weight: 1, arbitrary: fc.constant<Role[]>(['decision-maker']) },
  { weight: 1, arbitrary: fc.subarray<Role>(['caseworker', 'decision-maker', 'oversight']) },
);
const actorArb: fc.Arbitrary<Actor> = fc
  .record({
    principalId: fc.constantFrom('pr-1', 'pr-2'),
    agencyId: fc.oneof(
      { weight: 3, arbitrary: fc.constant('ag-rec') },
      { weight: 2, arbitrary: fc.constantFrom(...AGENCIES) },
      { weight: 1, arbitrary: fc.constant('ag-coord') },
    ),
    roles: rolesArb,
  })
  .map((actor) => ({ ...actor, agencyKind: KINDS[actor.agencyId] ?? 'national-coordinator' }));
// Weighted towards one id so that withdrawals often find the consent they name.
const consentIdArb = fc.oneof(
  { weight: 4, arbitrary: fc.constant(CONSENT_IDS[0]!) },
  { weight: 1, arbitrary: fc.constantFrom(...CONSENT_IDS.slice(1)) },
);
const nowHoursArb = fc.integer({ min: 0, max: 48 });
const caseArb = mostly(fc.constant(CASE), fc.constant('case-2'));
/** A valid list is non-empty and without repeats; a broken one may be empty or repeat values. */
const listArb = <T>(values: readonly T[], max = 3) =>
  mostly(
    fc.subarray([...values], { minLength: 1 }),
    fc.array(fc.constantFrom(...values), { maxLength: max }),
  );
/** Absent half the time (so that whole withdrawals happen); otherwise usually one or two values. */
const optionalList = <T>(values: readonly T[]) =>
  fc.option(
    mostly(
      fc.subarray([...values], { minLength: 1, maxLength: 2 }),
      fc.array(fc.constantFrom(...values), { maxLength: 3 }),
    ),
    { nil: undefined, freq: 2 },
  );
/** An expiry relative to the command's own time: usually ahead, sometimes passed or unreadable. */
const expiryArb = (nowHours: number) =>
  fc.oneof(
    { weight: 16, arbitrary: fc.integer({ min: 1, max: 40 }).map((ahead) => iso(nowHours + ahead)) },
    { weight: 1, arbitrary: fc.integer({ min: -3, max: 0 }).map((back) => iso(nowHours + back)) },
    { weight: 1, arbitrary: fc.constantFrom('soon', '2025-06-01') },
  );
const maybe = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });

/** Keeps only the keys whose value is defined, as the API would send them. */
function defined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

/** For a child the method is usually 'guardian', as the API would offer it. */
const captureArb = (subjectIsMinor: boolean) =>
  fc
    .record({
      method: subjectIsMinor
        ? mostly(
            fc.constant('guardian' as const),
            fc.constantFrom('written' as const, 'verbal-with-witness' as const),
          )
        : fc.constantFrom('written' as const, 'verbal-with-witness' as const, 'guardian' as const),
      language: mostly(fc.constantFrom('en', 'ro', 'vi'), fc.constantFrom('x', '')),
      interpreterUsed: fc.boolean(),
      witness: mostly(fc.constant('pr-w'), fc.constantFrom(' ', '')),
      guardian: mostly(fc.constant('gd-1'), fc.constantFrom(' ', '')),
      extra: mostly(fc.constant(false), fc.constant(true)),
    })
    .map(({ method, language, interpreterUsed, witness, guardian, extra }) =>
      // The details a method needs are usually there; `extra` sometimes adds or drops one.
      defined({
        method,
        language,
        interpreterUsed,
        witnessPrincipalId: (method === 'verbal-with-witness') !== extra ? witness : undefined,
        guardianReference: (method === 'guardian') !== extra ? guardian : undefined,
      }),
    );

const grantArb: fc.Arbitrary<GrantConsent> = fc
  .tuple(nowHoursArb, fc.boolean())
  .chain(([nowHours, subjectIsMinor]) =>
    fc
      .record({
        actor: actorArb,
        caseId: caseArb,
        consentId: consentIdArb,
        agencyIds: listArb(AGENCIES, 4),
        categories: listArb(CATEGORIES),
        purposes: listArb(USED_PURPOSES),
        expiresAt: expiryArb(nowHours),
        capture: captureArb(subjectIsMinor),
        recorderInContact: mostly(fc.constant(true), fc.constant(false)),
        // The registry's answer for the witness: usually a principal of the recording agency.
        witnessAgency: mostly(
          fc.constant('own' as const),
          fc.constantFrom('other' as const, 'none' as const),
        ),
      })
      .map(({ actor, witnessAgency, ...data }) => ({
        type: 'GrantConsent' as const,
        metadata: { actor, now: iso(nowHours) },
        data: {
          ...data,
          subjectIsMinor,
          agencyKinds: KINDS,
          ...(witnessAgency === 'none'
            ? {}
            : { witnessAgencyId: witnessAgency === 'own' ? actor.agencyId : 'ag-elsewhere' }),
        },
      })),
  );

const metadataArb = fc.record({ actor: actorArb, now: nowHoursArb.map(iso) });

const withdrawArb: fc.Arbitrary<WithdrawConsent> = fc
  .record({
    metadata: metadataArb,
    caseId: caseArb,
    consentId: consentIdArb,
    recorderInContact: mostly(fc.constant(true), fc.constant(false)),
    agencyIds: optionalList(AGENCIES),
    categories: optionalList(CATEGORIES),
    purposes: optionalList(USED_PURPOSES),
  })
  .map(({ metadata, ...data }) => ({ type: 'WithdrawConsent', metadata, data: defined(data) }));

const refuseArb: fc.Arbitrary<RefuseConsent> = fc
  .record({
    metadata: metadataArb,
    caseId: caseArb,
    recorderInContact: mostly(fc.constant(true), fc.constant(false)),
    agencyIds: optionalList(AGENCIES),
    categories: optionalList(CATEGORIES),
    purposes: optionalList(USED_PURPOSES),
  })
  .map(({ metadata, ...data }) => ({ type: 'RefuseConsent', metadata, data: defined(data) }));

const basisArb: fc.Arbitrary<RecordLawfulBasis> = nowHoursArb.chain((nowHours) =>
  fc
    .record({
      actor: actorArb,
      caseId: caseArb,
      lawfulBasisId: fc.constantFrom(...BASIS_IDS),
      basis: fc.constantFrom(...LAWFUL_BASES),
      justification: mostly(fc.constantFrom(...JUSTIFICATIONS.slice(3)), fc.constantFrom(...JUSTIFICATIONS)),
      agencyIds: listArb(AGENCIES, 4),
      categories: listArb(CATEGORIES),
      purposes: listArb(USED_PURPOSES),
      expiresAt: maybe(expiryArb(nowHours)),
    })
    .map(({ actor, ...data }) => ({
      type: 'RecordLawfulBasis' as const,
      metadata: { actor, now: iso(nowHours) },
      data: { ...defined(data), agencyKinds: KINDS },
    })),
);

const commandArb: fc.Arbitrary<ConsentCommand> = fc.oneof(
  { weight: 4, arbitrary: grantArb },
  { weight: 6, arbitrary: withdrawArb },
  { weight: 1, arbitrary: refuseArb },
  { weight: 2, arbitrary: basisArb },
);

// --- an independent model: sets of covered (agency, category, purpose) triples ----------------

const triple = (agency: string, category: string, purpose: string) => `${agency}|${category}|${purpose}`;
const product = (agencies: readonly string[], categories: readonly string[], purposes: readonly string[]) =>
  new Set(agencies.flatMap((a) => categories.flatMap((c) => purposes.map((p) => triple(a, c, p)))));

/** `dims` is the scope as recorded; `triples` what is left of it; a record never covers its `recorder`. */
type ModelRecord = {
  triples: Set<string>;
  dims: [readonly string[], readonly string[], readonly string[]];
  recorder: string;
  from: number;
  until: number;
  withdrawn: boolean;
};
type Model = {
  caseId?: string;
  consents: Map<string, ModelRecord>;
  bases: Map<string, ModelRecord>;
  refusals: number;
};

const hasRole = (actor: Actor, ...roles: Role[]) => actor.roles.some((role) => roles.includes(role));
const isInstant = (value: string) => /T.*(Z|[+-]\d\d:\d\d)$/.test(value) && !Number.isNaN(Date.parse(value));
const scopeProblem = (values: readonly string[], max: number) =>
  values.length === 0 || values.length > max || new Set(values).size !== values.length;
const part = (key: string, index: number) => key.split('|')[index]!;

/** The error code the mechanism's rules call for, or undefined when the command must be recorded. */
function expectedRefusal(model: Model, command: ConsentCommand): string | undefined {
  const { actor, now } = command.metadata;
  const allowed =
    command.type === 'RecordLawfulBasis'
      ? hasRole(actor, 'caseworker', 'decision-maker')
      : hasRole(actor, 'caseworker');
  if (!allowed) return 'CONSENT.ROLE_REQUIRED';
  if (model.caseId !== undefined && model.caseId !== command.data.caseId) return 'CONSENT.WRONG_CASE';
  const nowMs = Date.parse(now);
  const foreignNamed = (agencyIds: readonly string[]) => agencyIds.some((id) => KINDS[id] === 'foreign-nrm');
  const sensitive = (categories: readonly DataCategory[]) =>
    categories.some((category) => SENSITIVE_CATEGORIES.includes(category));
  /** Whether the actor names itself for anything others' records do not already give it until `until`. */
  const widensSelf = (
    data: { agencyIds: readonly string[]; categories: readonly string[]; purposes: readonly string[] },
    until: number,
  ) =>
    data.agencyIds.includes(actor.agencyId) &&
    data.categories.some((category) =>
      data.purposes.some((purpose) => {
        const key = triple(actor.agencyId, category, purpose);
        const held = [...model.consents.values(), ...model.bases.values()]
          .filter((r) => !r.withdrawn && r.recorder !== actor.agencyId && r.triples.has(key))
          .filter((r) => r.from <= nowMs && nowMs < r.until)
          .map((r) => r.until);
        return held.length === 0 || Math.max(...held) < until;
      }),
    );

  switch (command.type) {
    case 'GrantConsent': {
      const { data } = command;
      if (model.consents.has(data.consentId)) return 'CONSENT.ALREADY_RECORDED';
      if (NO_CONTACT_KINDS.includes(actor.agencyKind) || !data.recorderInContact) return 'CONSENT.NO_CONTACT';
      if (
        scopeProblem(data.agencyIds, 50) ||
        scopeProblem(data.categories, 99) ||
        scopeProblem(data.purposes, 99)
      ) {
        return 'CONSENT.SCOPE_INVALID';
      }
      if (!isInstant(data.expiresAt)) return 'CONSENT.EXPIRY_INVALID';
      if (Date.parse(data.expiresAt) <= nowMs) return 'CONSENT.EXPIRY_IN_PAST';
      if (data.capture.language.length < 2) return 'CONSENT.LANGUAGE_REQUIRED';
      const guardian = (data.capture.guardianReference ?? '').trim() !== '';
      const witness = (data.capture.witnessPrincipalId ?? '').trim() !== '';
      if (data.subjectIsMinor && data.capture.method !== 'guardian') return 'CONSENT.MINOR_NEEDS_GUARDIAN';
      if (data.capture.method === 'guardian' && !guardian) return 'CONSENT.MINOR_NEEDS_GUARDIAN';
      if (data.capture.method === 'verbal-with-witness' && !witness) return 'CONSENT.WITNESS_REQUIRED';
      if (witness && data.witnessAgencyId !== actor.agencyId) return 'CONSENT.WITNESS_UNKNOWN';
      if (
        foreignNamed(data.agencyIds) &&
        sensitive(data.categories) &&
        data.capture.method === 'verbal-with-witness'
      )
        return 'CONSENT.FOREIGN_NEEDS_WRITTEN';
      if (widensSelf(data, Date.parse(data.expiresAt))) return 'CONSENT.SELF_GRANT';
      return undefined;
    }
    case 'WithdrawConsent': {
      const { data } = command;
      if (NO_CONTACT_KINDS.includes(actor.agencyKind) || !data.recorderInContact) return 'CONSENT.NO_CONTACT';
      const grant = model.consents.get(data.consentId);
      if (!grant) return 'CONSENT.NOT_FOUND';
      if (grant.withdrawn) return 'CONSENT.ALREADY_WITHDRAWN';
      const lists = [data.agencyIds, data.categories, data.purposes];
      for (const [index, list] of lists.entries()) {
        if (list === undefined) continue;
        if (list.length === 0) return 'CONSENT.SCOPE_INVALID';
        if (list.some((value) => !grant.dims[index]!.includes(value))) return 'CONSENT.NOT_GRANTED';
      }
      if (lists.some((list) => list !== undefined) && removedBy(grant, lists).length === 0)
        return 'CONSENT.ALREADY_WITHDRAWN';
      return undefined;
    }
    case 'RefuseConsent':
      if (NO_CONTACT_KINDS.includes(actor.agencyKind) || !command.data.recorderInContact)
        return 'CONSENT.NO_CONTACT';
      return undefined;
    case 'RecordLawfulBasis': {
      const { data } = command;
      if (model.bases.has(data.lawfulBasisId)) return 'CONSENT.ALREADY_RECORDED';
      if (actor.agencyKind === 'foreign-nrm') return 'CONSENT.NO_STANDING';
      if (data.justification.trim().length < 20) return 'CONSENT.JUSTIFICATION_REQUIRED';
      if (
        scopeProblem(data.agencyIds, 50) ||
        scopeProblem(data.categories, 99) ||
        scopeProblem(data.purposes, 99)
      ) {
        return 'CONSENT.SCOPE_INVALID';
      }
      if (data.expiresAt !== undefined) {
        if (!isInstant(data.expiresAt)) return 'CONSENT.EXPIRY_INVALID';
        if (Date.parse(data.expiresAt) <= nowMs) return 'CONSENT.EXPIRY_IN_PAST';
      }
      if (foreignNamed(data.agencyIds) && sensitive(data.categories)) return 'CONSENT.FOREIGN_LAWFUL_BASIS';
      if (widensSelf(data, data.expiresAt === undefined ? Infinity : Date.parse(data.expiresAt)))
        return 'CONSENT.SELF_GRANT';
      return undefined;
    }
  }
}

/** The triples still held that a partial withdrawal's lists all match (a missing list matches all). */
function removedBy(grant: ModelRecord, lists: readonly (readonly string[] | undefined)[]): string[] {
  return [...grant.triples].filter((key) =>
    lists.every((list, index) => list === undefined || list.includes(part(key, index))),
  );
}

/** Applies an accepted command to the model; returns whether a withdrawal ended the whole consent. */
function applyToModel(model: Model, command: ConsentCommand): boolean | undefined {
  model.caseId ??= command.data.caseId;
  const now = Date.parse(command.metadata.now);
  switch (command.type) {
    case 'GrantConsent': {
      const { data } = command;
      model.consents.set(data.consentId, {
        triples: product(data.agencyIds, data.categories, data.purposes),
        dims: [data.agencyIds, data.categories, data.purposes],
        recorder: command.metadata.actor.agencyId,
        from: now,
        until: Date.parse(data.expiresAt),
        withdrawn: false,
      });
      return undefined;
    }
    case 'WithdrawConsent': {
      const { data } = command;
      const grant = model.consents.get(data.consentId)!;
      const lists: (readonly string[] | undefined)[] = [data.agencyIds, data.categories, data.purposes];
      if (lists.every((list) => list === undefined)) {
        grant.withdrawn = true;
        return true;
      }
      for (const key of removedBy(grant, lists)) grant.triples.delete(key);
      if (grant.triples.size === 0) grant.withdrawn = true;
      return grant.withdrawn;
    }
    case 'RefuseConsent':
      model.refusals += 1;
      return undefined;
    case 'RecordLawfulBasis': {
      const { data } = command;
      model.bases.set(data.lawfulBasisId, {
        triples: product(data.agencyIds, data.categories, data.purposes),
        dims: [data.agencyIds, data.categories, data.purposes],
        recorder: command.metadata.actor.agencyId,
        from: now,
        until: data.expiresAt === undefined ? Infinity : Date.parse(data.expiresAt),
        withdrawn: false,
      });
      return undefined;
    }
  }
}

/** Which record the model says covers a triple at an instant: consent first, longest lasting, smallest id. */
function modelCovers(records: Map<string, ModelRecord>, key: string, at: number): string | undefined {
  const covering = [...records.entries()]
    .filter(
      ([, r]) =>
        !r.withdrawn && r.recorder !== part(key, 0) && r.triples.has(key) && r.from <= at && at < r.until,
    )
    .sort(([idA, a], [idB, b]) => b.until - a.until || (idA < idB ? -1 : idA > idB ? 1 : 0));
  return covering[0]?.[0];
}

// --- invariants ------------------------------------------------------------------------------

// Inside the property, node's assert is used: jest's `expect` is too slow for thousands of
// checks per run. Coverage violations are collected so that a failure lists them all.

/** Checks every query of the grid against the model and the invariants. */
function checkCoverage(state: ConsentState, model: Model, wholeWithdrawn: ReadonlySet<string>): void {
  const violations: string[] = [];
  for (const at of Q_TIMES) {
    const atMs = Date.parse(at);
    for (const agencyId of Q_AGENCIES) {
      for (const purpose of Q_PURPOSES) {
        const where = `${agencyId}/${purpose}@${at}`;
        const oneByOne: string[] = [];
        for (const category of Q_CATEGORIES) {
          const coverage = consentCovers(state, { agencyId, category, purpose, at });
          const key = triple(agencyId, category, purpose);
          // Agreement with the model, which prefers consent.
          const consentId = modelCovers(model.consents, key, atMs);
          const lawfulBasisId = modelCovers(model.bases, key, atMs);
          const expected =
            consentId !== undefined
              ? `consent:${consentId}`
              : lawfulBasisId !== undefined
                ? `lawful-basis:${lawfulBasisId}`
                : 'none';
          const actual =
            coverage === undefined
              ? 'none'
              : coverage.basis === 'consent'
                ? `consent:${coverage.consentId}`
                : `lawful-basis:${coverage.lawfulBasisId}`;
          if (actual !== expected) violations.push(`${key}@${at}: ${actual}, model says ${expected}`);
          if (coverage?.basis === 'consent') {
            // Never from a withdrawn or expired grant, nor from one withdrawn in full.
            const grant = grantIn(state, coverage.consentId);
            if (wholeWithdrawn.has(coverage.consentId)) violations.push(`${key}@${at}: wholly withdrawn`);
            if (grant.withdrawn) violations.push(`${key}@${at}: withdrawn grant covers`);
            if (!(Date.parse(grant.expiresAt) > atMs)) violations.push(`${key}@${at}: expired grant covers`);
            if (!grantHolds(grant, agencyId, category, purpose)) {
              violations.push(`${key}@${at}: covers outside its scope`);
            }
            if (grant.recordedByAgencyId === agencyId) violations.push(`${key}@${at}: covers its recorder`);
          }
          if (coverage) oneByOne.push(`${category}:${coverage.basis}`);
        }
        // coveredCategories agrees with consentCovers, category by category ('contact' is never granted).
        const fromList = coveredCategories(state, { agencyId, purpose, at }).map(
          ({ category, basis }) => `${category}:${basis}`,
        );
        if (fromList.join() !== oneByOne.join()) {
          violations.push(
            `${where}: coveredCategories [${fromList.join()}] vs consentCovers [${oneByOne.join()}]`,
          );
        }
      }
    }
  }
  assert.deepStrictEqual(violations, []);
}

function grantIn(state: ConsentState, consentId: string): GrantState {
  if (state.status !== 'recorded' || !Object.hasOwn(state.consents, consentId)) {
    throw new Error(`no grant ${consentId} in state`);
  }
  return state.consents[consentId]!;
}

function heldTriples(grant: GrantState): Set<string> {
  const held = new Set<string>();
  for (const a of grant.agencyIds)
    for (const c of grant.categories)
      for (const p of grant.purposes) if (grantHolds(grant, a, c, p)) held.add(triple(a, c, p));
  return held;
}

function checkStateMatchesModel(state: ConsentState, model: Model): void {
  if (model.caseId === undefined) {
    assert.deepStrictEqual(state, { status: 'empty' });
    return;
  }
  if (state.status !== 'recorded') throw new Error('state should be recorded');
  assert.equal(state.caseId, model.caseId);
  assert.equal(state.refusals, model.refusals);
  assert.deepStrictEqual(Object.keys(state.consents).sort(), [...model.consents.keys()].sort());
  assert.deepStrictEqual(Object.keys(state.lawfulBases).sort(), [...model.bases.keys()].sort());
  for (const [id, record] of model.consents) {
    const grant = grantIn(state, id);
    assert.equal(grant.withdrawn, record.withdrawn, id);
    if (!record.withdrawn) assert.deepStrictEqual(heldTriples(grant), record.triples, id);
  }
}

// --- properties ------------------------------------------------------------------------------

describe('consent decider, under random command sequences', () => {
  it('keeps its invariants and agrees with the triple model', () => {
    const seen = new Map<string, number>();
    const count = (what: string) => seen.set(what, (seen.get(what) ?? 0) + 1);
    fc.assert(
      fc.property(fc.array(commandArb, { minLength: 3, maxLength: 16 }), (commands) => {
        let state = consentDecider.initialState();
        const model: Model = { consents: new Map(), bases: new Map(), refusals: 0 };
        const wholeWithdrawn = new Set<string>();

        for (const command of commands) {
          const expectedCode = expectedRefusal(model, command);
          let events: readonly ConsentEvent[] = [];
          let code: string | undefined;
          try {
            events = consentDecider.decide(command, state);
          } catch (error) {
            // (a) only DomainError ever escapes.
            if (!(error instanceof DomainError)) throw error;
            code = error.code;
          }
          assert.equal(code, expectedCode, `${command.type} answered ${code}`);
          count(code ?? command.type);
          // A refused command changes nothing, so there is nothing new to check.
          if (code !== undefined) continue;
          assert.equal(events.length, 1);
          const event = events[0]!;
          assert.deepStrictEqual(JSON.parse(JSON.stringify(event)), event);

          const before = state;
          state = consentDecider.evolve(state, event);
          const endedWhole = applyToModel(model, command);
          if (event.type === 'ConsentWithdrawn')
            count(event.data.whole ? 'whole withdrawal' : 'pair withdrawal');

          switch (event.type) {
            case 'ConsentGranted':
              // A minor's consent is never recorded without a guardian.
              if (command.type === 'GrantConsent' && command.data.subjectIsMinor) {
                assert.equal(event.data.capture.method, 'guardian');
                assert.ok(event.data.capture.guardianReference?.trim());
              }
              break;
            case 'LawfulBasisRecorded':
              // No lawful basis without a justification of 20 or more characters.
              assert.ok((event.data.justification ?? '').trim().length >= 20);
              break;
            case 'ConsentWithdrawn': {
              assert.equal(event.data.whole, endedWhole);
              if (event.data.whole) {
                wholeWithdrawn.add(event.data.consentId);
              } else {
                // A partial withdrawal removes exactly the triples matching every list, nothing else.
                const was = heldTriples(grantIn(before, event.data.consentId));
                const is = heldTriples(grantIn(state, event.data.consentId));
                const lists = [event.data.agencyIds, event.data.categories, event.data.purposes];
                const matches = (key: string) =>
                  lists.every(
                    (list, index) => list === undefined || (list as string[]).includes(part(key, index)),
                  );
                assert.ok(was.size > is.size);
                for (const key of was) assert.equal(is.has(key), !matches(key), key);
              }
              break;
            }
            case 'ConsentRefused':
              break;
          }

          checkStateMatchesModel(state, model);
          checkCoverage(state, model, wholeWithdrawn);
        }
      }),
      { numRuns: 400 },
    );
    const summary = [...seen.entries()].sort().map(([what, n]) => `${what} ${n}`);
    console.log(`consent model: ${summary.join(', ')}`);
    // The rules under test were met often enough to mean something.
    for (const what of [
      'pair withdrawal',
      'whole withdrawal',
      'CONSENT.SELF_GRANT',
      'CONSENT.NO_CONTACT',
      'CONSENT.FOREIGN_LAWFUL_BASIS',
      'CONSENT.ALREADY_WITHDRAWN',
    ])
      expect(seen.get(what) ?? 0).toBeGreaterThan(5);
  });

  it('withdraws exactly the triples matching every list, against a set model', () => {
    const at = iso(2);
    const recorder: Actor = {
      principalId: 'pr-r',
      agencyId: 'ag-rec',
      agencyKind: 'health',
      roles: ['caseworker'],
    };
    const scopeArb = fc.record({
      agencyIds: fc.subarray([...AGENCIES], { minLength: 1 }),
      categories: fc.subarray([...CATEGORIES], { minLength: 1 }),
      purposes: fc.subarray([...USED_PURPOSES], { minLength: 1 }),
    });
    const withdrawalArb = (scope: { agencyIds: string[]; categories: DataCategory[]; purposes: Purpose[] }) =>
      fc
        .record({
          agencyIds: fc.option(fc.subarray(scope.agencyIds, { minLength: 1 }), { nil: undefined }),
          categories: fc.option(fc.subarray(scope.categories, { minLength: 1 }), { nil: undefined }),
          purposes: fc.option(fc.subarray(scope.purposes, { minLength: 1 }), { nil: undefined }),
        })
        .filter((w) => w.agencyIds !== undefined || w.categories !== undefined || w.purposes !== undefined);
    const caseArb2 = scopeArb.chain((scope) =>
      fc.tuple(fc.constant(scope), fc.array(withdrawalArb(scope), { minLength: 1, maxLength: 8 })),
    );
    fc.assert(
      fc.property(caseArb2, ([scope, withdrawals]) => {
        let state = consentDecider.initialState();
        const apply = (command: ConsentCommand) => {
          for (const event of consentDecider.decide(command, state))
            state = consentDecider.evolve(state, event);
        };
        apply({
          type: 'GrantConsent',
          metadata: { actor: recorder, now: iso(0) },
          data: {
            caseId: CASE,
            consentId: 'c-1',
            subjectIsMinor: false,
            recorderInContact: true,
            agencyKinds: KINDS,
            ...scope,
            expiresAt: iso(40),
            capture: { method: 'written', language: 'en', interpreterUsed: false },
          },
        });
        const model = product(scope.agencyIds, scope.categories, scope.purposes);
        for (const withdrawal of withdrawals) {
          if (model.size === 0) break;
          const lists = [withdrawal.agencyIds, withdrawal.categories, withdrawal.purposes];
          const removed = [...model].filter((key) =>
            lists.every(
              (list, index) => list === undefined || (list as readonly string[]).includes(part(key, index)),
            ),
          );
          const command: WithdrawConsent = {
            type: 'WithdrawConsent',
            metadata: { actor: recorder, now: iso(1) },
            data: defined({ caseId: CASE, consentId: 'c-1', recorderInContact: true, ...withdrawal }),
          };
          if (removed.length === 0) {
            assert.throws(() => consentDecider.decide(command, state), { code: 'CONSENT.ALREADY_WITHDRAWN' });
            continue;
          }
          const event = consentDecider.decide(command, state)[0]!;
          state = consentDecider.evolve(state, event);
          for (const key of removed) model.delete(key);
          assert.equal(event.type === 'ConsentWithdrawn' && event.data.whole, model.size === 0);
          for (const agencyId of Q_AGENCIES)
            for (const category of Q_CATEGORIES)
              for (const purpose of Q_PURPOSES) {
                const covered = consentCovers(state, { agencyId, category, purpose, at }) !== undefined;
                assert.equal(
                  covered,
                  model.has(triple(agencyId, category, purpose)),
                  triple(agencyId, category, purpose),
                );
              }
        }
      }),
      { numRuns: 300 },
    );
  });

  it('answers malformed command data with a DomainError, never a crash', () => {
    const junk = fc.oneof(fc.anything(), fc.constant(undefined), fc.constant(null));
    const stateArb = fc.array(commandArb, { maxLength: 6 }).map((commands) => {
      let state = consentDecider.initialState();
      for (const command of commands) {
        try {
          for (const event of consentDecider.decide(command, state))
            state = consentDecider.evolve(state, event);
        } catch {
          // refused commands leave the state as it was
        }
      }
      return state;
    });
    const mangled = fc
      .tuple(
        commandArb,
        fc.dictionary(
          fc.constantFrom(
            'caseId',
            'consentId',
            'lawfulBasisId',
            'agencyIds',
            'categories',
            'purposes',
            'expiresAt',
            'capture',
            'justification',
            'basis',
            'subjectIsMinor',
          ),
          junk,
        ),
      )
      .map(
        ([command, overrides]) => ({ ...command, data: { ...command.data, ...overrides } }) as ConsentCommand,
      );

    fc.assert(
      fc.property(stateArb, mangled, (state, command) => {
        try {
          const events = consentDecider.decide(command, state);
          for (const event of events) consentDecider.evolve(state, event);
        } catch (error) {
          expect(error).toBeInstanceOf(DomainError);
        }
      }),
      { numRuns: 300 },
    );
  });
});
