/**
 * Concurrent, conflicting commands through HTTP (QUALITY.md, tests 1 and 2, end to end): many
 * clients at once, spread over two API instances that share one SQLite event store (the others
 * follow the first one's projector, PROJECTOR=external), so that races are decided by the store's
 * expected revisions and not only by one process's per-stream queue. One more writer, appending
 * straight to the store without pause, makes a command lose every attempt: that is the lost race
 * a client must be told to retry.
 *
 * What must hold: no lost update (the stored state is what the accepted answers said), no
 * duplicated event (every stored event is named by exactly one accepted answer; a replay with the
 * same Idempotency-Key answers the same and stores nothing), and every refusal is a problem
 * document: a lost race a 409 with a retry hint (`Retry-After` and `retryAfterSeconds`), a request
 * the record's new state no longer allows a 409 or 422 naming the rule. Clients retry as told.
 * `NRM_LONG=1` runs more rounds and bigger bursts; `CC_INSTANCES=<n>` sets the number of instances.
 */
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { randomUUID } from 'node:crypto';
import { SqliteEventStore, type RecordedEvent } from '@nrm/event-store';
import { join } from 'node:path';
import { createApp } from '../../apps/ledger-api/src/bootstrap';
import { loadConfig } from '@nrm/runtime';
import { GENEROUS_RATE_LIMITS, Ledger, Principal, type Answer } from './harness';

const LONG = process.env.NRM_LONG === '1';
const ROUNDS = LONG ? 12 : 3;
/** API instances sharing the store: with more than one, races are decided by the store itself. */
const INSTANCES = Number(process.env.CC_INSTANCES ?? 2);
/** Per test: bursts on one stream across two instances queue behind each other's back-off. */
const TIMEOUT_MS = LONG ? 900_000 : 120_000;
/** Unkeyed support services per burst (eight keyed copies come on top). */
const SERVICES = LONG ? 56 : 24;
const DAY_MS = 86_400_000;
const instantIn = (ms: number) => new Date(Date.now() + ms).toISOString();
const today = () => new Date().toISOString().slice(0, 10);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Codes of a lost race: nothing about the request is wrong, trying again may succeed. */
const RACE_CODES = new Set([
  'COMMAND.CONFLICT',
  'EVENT_STORE.WRONG_EXPECTED_REVISION',
  'EVENT_STORE.DUPLICATE_EVENT_ID',
]);

interface Recorded {
  stream: string;
  revision: number;
  position: number;
  eventIds: string[];
  replayed: boolean;
  code?: string;
  retryAfterSeconds?: number;
}

/** Counts over the whole file, printed at the end. */
const tally = {
  requests: 0,
  accepted: 0,
  replays: 0,
  raceConflicts: 0,
  raceConflictsWithHint: 0,
  stateConflicts: 0,
  ruleRefusals: 0,
  behind: 0,
  clientRetries: 0,
  serviceBursts: 0,
  serviceBurstMs: 0,
  lostUpdates: 0,
  duplicatedEvents: 0,
};
/** Refusals that are not what a race may produce: anything but 409/422 problems, or a race without a hint. */
const unexpected: string[] = [];

describe(`concurrent conflicting commands through HTTP, ${INSTANCES} API instances on one store (e2e)`, () => {
  let ledger: Ledger;
  /** The instances after the first: they follow its projector (PROJECTOR=external). */
  const followers: NestFastifyApplication[] = [];
  /** Each principal as seen through every instance, the first one first. */
  let clinic: Principal[];
  let ngo: Principal[];
  let police: Principal[];

  const via = (instances: readonly Principal[], i: number) => instances[i % instances.length]!;

  beforeAll(async () => {
    ledger = await Ledger.boot();
    const bases = [ledger.base];
    for (let i = 1; i < INSTANCES; i++) {
      const follower = await createApp(
        loadConfig({
          DATA_DIR: ledger.dataDir,
          PROJECTOR: 'external',
          LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
          ...GENEROUS_RATE_LIMITS,
        }),
      );
      await follower.listen({ port: 0, host: '127.0.0.1' });
      followers.push(follower);
      bases.push(await follower.getUrl());
    }
    const everywhere = (p: Principal) =>
      bases.map((base) => new Principal(base, p.agencyId, p.principalId, p.apiKey));
    clinic = everywhere(await ledger.principal('health', ['caseworker'], 'cc-clinic'));
    ngo = everywhere(await ledger.principal('ngo', ['caseworker'], 'cc-ngo'));
    police = everywhere(
      await ledger.principal('law-enforcement', ['caseworker', 'decision-maker'], 'cc-police'),
    );
    // Another instance learns of keys issued elsewhere within one registry poll (README, Known gaps):
    // wait until every instance knows every principal, so that no race below is lost to a 401.
    for (const principal of [...clinic, ...ngo, ...police]) {
      const deadline = Date.now() + 10_000;
      while ((await principal.get('/cases')).status === 401) {
        if (Date.now() > deadline) throw new Error(`an instance never learnt ${principal.principalId}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
  });

  afterAll(async () => {
    for (const follower of followers) await follower.close();
    await ledger?.close();
    process.stdout.write(
      `concurrency: ${tally.requests} requests (up to ${SERVICES + 8} in flight, ${INSTANCES} API instances on one store); ` +
        `accepted ${tally.accepted}, idempotent replays ${tally.replays}; ` +
        `409 lost races ${tally.raceConflicts} (with Retry-After ${tally.raceConflictsWithHint}), ` +
        `409 state conflicts ${tally.stateConflicts}, 422 rule refusals ${tally.ruleRefusals}, ` +
        `503 READ_MODEL.BEHIND ${tally.behind}, client retries ${tally.clientRetries}; ` +
        `${SERVICES + 8} commands on one stream took ${Math.round(tally.serviceBurstMs / Math.max(1, tally.serviceBursts))} ms a burst; ` +
        `lost updates ${tally.lostUpdates}, duplicated events ${tally.duplicatedEvents}, unexpected answers ${unexpected.length}\n`,
    );
  });

  // ---- helpers ------------------------------------------------------------------------------------

  /**
   * Sends a command as a well-behaved client: a 409 or 503 with a Retry-After is tried again after
   * the advised delay (at most 5 times). Every answer is classified into the tally.
   */
  async function command(
    who: Principal,
    path: string,
    body: unknown = {},
    headers: Record<string, string> = {},
  ): Promise<Answer<Recorded>> {
    for (let attempt = 1; ; attempt++) {
      tally.requests++;
      const answer = await who.post<Recorded>(path, body, headers);
      const retryAfter = answer.headers.get('retry-after');
      const label = `${path} → ${answer.status} ${answer.body.code ?? ''}`;
      if (answer.status >= 200 && answer.status < 300) {
        if (answer.body.replayed) tally.replays++;
        else tally.accepted++;
        return answer;
      }
      if (!/^application\/problem\+json/.test(answer.headers.get('content-type') ?? ''))
        unexpected.push(`${label}: not a problem document`);
      const code = answer.body.code ?? '';
      if (answer.status === 409 && RACE_CODES.has(code)) {
        tally.raceConflicts++;
        const hinted = retryAfter !== null && typeof answer.body.retryAfterSeconds === 'number';
        if (hinted) tally.raceConflictsWithHint++;
        else unexpected.push(`${label}: a lost race without a retry hint`);
      } else if (answer.status === 503 && code === 'READ_MODEL.BEHIND') tally.behind++;
      else if (answer.status === 409) tally.stateConflicts++;
      else if (answer.status === 422) tally.ruleRefusals++;
      else unexpected.push(label);
      if (retryAfter === null || attempt >= 5) return answer;
      tally.clientRetries++;
      // Honour the hint, shortened: the test only needs the order of events, not the full second.
      await sleep(Math.min(Number(retryAfter) * 1000, 250));
    }
  }

  async function streamEvents(stream: string): Promise<RecordedEvent[]> {
    const events: RecordedEvent[] = [];
    for await (const event of ledger.store.readStream(stream)) events.push(event);
    return events;
  }

  /**
   * The stored stream and the accepted answers agree exactly: every accepted answer's events are
   * stored at the answered revision (nothing lost), every stored event after `from` is named by
   * exactly one first answer (nothing duplicated), and revisions have no gaps.
   */
  async function expectAnswersMatchStream(
    stream: string,
    answers: ReadonlyArray<Answer<Recorded>>,
    from: number,
  ): Promise<RecordedEvent[]> {
    const events = await streamEvents(stream);
    expect(events.map((e) => e.revision)).toEqual(events.map((_, i) => i));
    const stored = events.slice(from);
    const first = answers.filter((a) => a.status < 300 && !a.body.replayed);
    const named = first.flatMap((a) => a.body.eventIds);
    const storedIds = new Set(stored.map((e) => e.id));
    const lost = named.filter((id) => !storedIds.has(id));
    const duplicated = stored.filter((e) => named.filter((id) => id === e.id).length !== 1);
    tally.lostUpdates += lost.length;
    tally.duplicatedEvents += duplicated.length;
    expect({ lost, duplicated: duplicated.map((e) => `${e.type}@${e.revision}`) }).toEqual({
      lost: [],
      duplicated: [],
    });
    for (const answer of first) {
      const last = events.find((e) => e.id === answer.body.eventIds[answer.body.eventIds.length - 1]);
      expect(last?.revision).toBe(answer.body.revision);
    }
    // A replay names events already stored, by the same request.
    for (const answer of answers.filter((a) => a.status < 300 && a.body.replayed))
      for (const id of answer.body.eventIds) expect(events.some((e) => e.id === id)).toBe(true);
    return events;
  }

  async function openCase(): Promise<string> {
    const reported = await command(via(clinic, 0), '/cases', {
      indicators: ['restricted-movement'],
      exploitationForms: ['labour'],
      minor: false,
      region: 'NL-GE',
    });
    expect(reported.status).toBe(201);
    const caseId = (reported.body as Recorded & { caseId: string }).caseId;
    const assessed = await command(via(clinic, 0), `/cases/${caseId}/indicator-assessments`, {
      outcome: 'indicators-present',
      indicatorsConfirmed: ['restricted-movement'],
      exploitationForms: ['labour'],
    });
    expect(assessed.status).toBe(200);
    return caseId;
  }

  async function referToNgo(caseId: string): Promise<string> {
    const made = await command(via(clinic, 0), `/cases/${caseId}/referrals`, {
      toAgencyId: 'cc-ngo',
      purpose: 'assistance',
      servicesRequested: ['accommodation'],
      urgency: 'urgent',
      respondBy: instantIn(2 * DAY_MS),
      sharedCategories: [],
    });
    expect(made.status).toBe(201);
    return (made.body as Recorded & { referralId: string }).referralId;
  }

  /** Fisher–Yates with a small deterministic generator: the order of a burst varies by round. */
  function shuffled<T>(items: readonly T[], seed: number): T[] {
    const out = [...items];
    let state = seed * 2654435761 + 1;
    for (let i = out.length - 1; i > 0; i--) {
      state = (state * 1103515245 + 12345) % 2 ** 31;
      const j = state % (i + 1);
      [out[i], out[j]] = [out[j]!, out[i]!];
    }
    return out;
  }

  // ---- the races ----------------------------------------------------------------------------------

  it(
    'lets one acknowledgement and then one answer (accept or decline) through 24 racing requests per referral',
    async () => {
      for (let round = 0; round < ROUNDS; round++) {
        const caseId = await openCase();
        const referralId = await referToNgo(caseId);
        const path = (step: string) => `/referrals/${referralId}/${step}`;
        const burst = shuffled(
          [
            ...Array.from({ length: 8 }, () => ['acknowledgement', {}] as const),
            ...Array.from({ length: 8 }, () => ['acceptance', {}] as const),
            ...Array.from({ length: 8 }, () => ['decline', { reason: 'no-capacity' }] as const),
          ],
          round + 1,
        );
        const answers = await Promise.all(
          burst.map(([step, body], i) => command(via(ngo, i), path(step), body).then((a) => ({ step, a }))),
        );
        const accepted = answers.filter(({ a }) => a.status === 200);
        for (const { step, a } of answers.filter(({ a }) => a.status !== 200)) {
          expect({ step, status: a.status }).toEqual({ step, status: 409 });
          expect(a.body.code).toMatch(
            /^(REFERRAL\.WRONG_STATE|REFERRAL\.NOT_ACKNOWLEDGED|COMMAND\.CONFLICT)$/,
          );
        }
        const events = await expectAnswersMatchStream(
          `referral-${referralId}`,
          accepted.map(({ a }) => a),
          1,
        );
        const types = events.map((e) => e.type);
        expect(types.slice(0, 2)).toEqual(['ReferralMade', 'ReferralAcknowledged']);
        expect(accepted.filter(({ step }) => step === 'acknowledgement')).toHaveLength(1);
        // Whatever came after the acknowledgement, exactly one answer won, and the store says which.
        const answered = accepted.filter(({ step }) => step !== 'acknowledgement');
        expect(answered.length).toBeLessThanOrEqual(1);
        expect(types.slice(2)).toEqual(
          answered.map(({ step }) => (step === 'acceptance' ? 'ReferralAccepted' : 'ReferralDeclined')),
        );
      }
    },
    TIMEOUT_MS,
  );

  it(
    'records exactly one of 16 racing grounds decisions, and stores the outcome that was answered',
    async () => {
      for (let round = 0; round < ROUNDS; round++) {
        const caseId = await openCase();
        // Only a competent authority seized of the case decides: the clinic refers it to the police.
        const toPolice = await command(via(clinic, 0), `/cases/${caseId}/referrals`, {
          toAgencyId: 'cc-police',
          purpose: 'protection',
          servicesRequested: [],
          urgency: 'urgent',
          respondBy: instantIn(2 * DAY_MS),
          sharedCategories: [],
        });
        expect(toPolice.status).toBe(201);
        const outcomes = shuffled(
          Array.from({ length: 16 }, (_, i) => (i % 2 === 0 ? 'positive' : 'negative')),
          round + 7,
        );
        const answers = await Promise.all(
          outcomes.map((outcome, i) =>
            command(via(police, i), `/cases/${caseId}/reasonable-grounds-decision`, { outcome }).then(
              (a) => ({
                outcome,
                a,
              }),
            ),
          ),
        );
        const accepted = answers.filter(({ a }) => a.status === 200);
        expect(accepted).toHaveLength(1);
        for (const { a } of answers.filter(({ a }) => a.status !== 200)) {
          expect(a.status).toBe(409);
          expect(a.body.code).toBe('IDENTIFICATION.REASONABLE_GROUNDS_ALREADY_DECIDED');
        }
        const events = await expectAnswersMatchStream(
          `identification-${caseId}`,
          accepted.map(({ a }) => a),
          2,
        );
        expect(events[2]).toMatchObject({
          type: 'ReasonableGroundsDecided',
          data: { outcome: accepted[0]!.outcome },
        });
      }
    },
    TIMEOUT_MS,
  );

  it(
    'withdraws each consent once among racing withdrawals, grants and refusals; reads show only what is still granted',
    async () => {
      for (let round = 0; round < ROUNDS; round++) {
        const caseId = await openCase();
        await referToNgo(caseId); // the NGO becomes party to the case, so that it may read it
        const grant = (category: string) => ({
          agencyIds: ['cc-ngo'],
          categories: [category],
          purposes: ['assistance'],
          expiresAt: instantIn(90 * DAY_MS),
          capture: { method: 'written', language: 'nl', interpreterUsed: false },
        });
        const consentIds: string[] = [];
        for (const category of ['case-status', 'support-needs', 'health', 'exploitation']) {
          const granted = await command(via(clinic, 0), `/cases/${caseId}/consents`, grant(category));
          expect(granted.status).toBe(201);
          consentIds.push((granted.body as Recorded & { consentId: string }).consentId);
        }
        const stream = `consent-${caseId}`;
        const before = (await streamEvents(stream)).length;
        const requests = shuffled(
          [
            ...consentIds.flatMap((consentId) =>
              Array.from({ length: 4 }, () => ({
                what: `withdraw ${consentId}`,
                path: `/consents/${consentId}/withdrawal`,
                body: {},
              })),
            ),
            ...['case-status', 'immigration-status', 'contact', 'support-needs'].map((category) => ({
              what: `grant ${category}`,
              path: '/consents',
              body: grant(category),
            })),
            ...Array.from({ length: 4 }, () => ({ what: 'refuse', path: '/consent-refusals', body: {} })),
          ],
          round + 13,
        );
        const answers = await Promise.all(
          requests.map((r, i) =>
            command(via(clinic, i), `/cases/${caseId}${r.path}`, r.body).then((a) => ({ ...r, a })),
          ),
        );
        for (const consentId of consentIds) {
          const tries = answers.filter(({ what }) => what === `withdraw ${consentId}`);
          expect(tries.filter(({ a }) => a.status === 200)).toHaveLength(1);
          for (const { a } of tries.filter(({ a }) => a.status !== 200)) {
            expect(a.status).toBe(409);
            expect(a.body.code).toBe('CONSENT.ALREADY_WITHDRAWN');
          }
        }
        for (const { what, a } of answers.filter(({ what }) => !what.startsWith('withdraw')))
          expect({ what, status: a.status }).toEqual({ what, status: 201 });
        await expectAnswersMatchStream(
          stream,
          answers.map(({ a }) => a),
          before,
        );
        // The final state, as a reader meets it: the four first consents are gone, the new ones count.
        const view = await via(ngo, round).call<{ categories: Record<string, unknown> }>(
          'GET',
          `/cases/${caseId}`,
          undefined,
          { 'x-purpose': 'assistance' },
        );
        expect(view.status).toBe(200);
        const shown = Object.keys(view.body.categories);
        expect(shown).toContain('case-status');
        expect(
          shown.filter((c) => !['case-status', 'immigration-status', 'contact', 'support-needs'].includes(c)),
        ).toEqual([]);
      }
    },
    TIMEOUT_MS,
  );

  it(
    `appends ${SERVICES} racing support services without loss or gap, and one keyed service once despite 8 concurrent copies`,
    async () => {
      for (let round = 0; round < ROUNDS; round++) {
        const caseId = await openCase();
        await referToNgo(caseId);
        const types = [
          'medical',
          'psychological',
          'legal',
          'interpretation',
          'language-training',
          'education',
        ];
        const key = `cc-service-${round}-${caseId}`;
        const keyed = { serviceType: 'legal', providedOn: today() };
        const requests = shuffled(
          [
            ...Array.from({ length: SERVICES }, (_, i) => ({
              key: undefined,
              body: { serviceType: types[i % 6], providedOn: today() },
            })),
            ...Array.from({ length: 8 }, () => ({ key, body: keyed })),
          ],
          round + 29,
        );
        const burstStarted = Date.now();
        const answers = await Promise.all(
          requests.map((r, i) =>
            command(
              via(ngo, i),
              `/cases/${caseId}/support-services`,
              r.body,
              r.key === undefined ? {} : { 'idempotency-key': r.key },
            ).then((a) => ({ ...r, a })),
          ),
        );
        tally.serviceBursts++;
        tally.serviceBurstMs += Date.now() - burstStarted;
        expect(answers.map(({ a }) => a.status)).toEqual(Array<number>(SERVICES + 8).fill(201));
        const copies = answers.filter((r) => r.key !== undefined).map(({ a }) => a.body);
        expect(copies.filter((b) => !b.replayed)).toHaveLength(1);
        const original = copies.find((b) => !b.replayed)!;
        for (const copy of copies) expect(copy).toEqual({ ...original, replayed: copy.replayed });
        const events = await expectAnswersMatchStream(
          `support-${caseId}`,
          answers.map(({ a }) => a),
          0,
        );
        expect(events).toHaveLength(SERVICES + 1);
        const stored = ledger.storedIdempotencyKey(ngo[0]!.principalId, key);
        expect(events.filter((e) => e.metadata.idempotencyKey === stored)).toHaveLength(1);
      }
    },
    TIMEOUT_MS,
  );

  it(
    'opens one case for 16 concurrent reports with one Idempotency-Key; the other body is refused as a reused key',
    async () => {
      for (let round = 0; round < ROUNDS; round++) {
        const key = `cc-report-${round}-${Date.now()}`;
        const bodies = {
          a: { indicators: ['debt-bondage'], exploitationForms: ['labour'], minor: false, region: 'NL-FR' },
          b: { indicators: ['debt-bondage'], exploitationForms: ['sexual'], minor: false, region: 'NL-FR' },
        };
        const head = await ledger.store.headPosition();
        const order = shuffled([...'aaaaaaaabbbbbbbb'] as Array<'a' | 'b'>, round + 41);
        const answers = await Promise.all(
          order.map((which, i) =>
            command(via(clinic, i), '/cases', bodies[which], { 'idempotency-key': key }).then((a) => ({
              which,
              a,
            })),
          ),
        );
        const won = answers.filter(({ a }) => a.status === 201);
        expect(won.length).toBeGreaterThan(0);
        const winner = won[0]!.which;
        expect(won.every(({ which }) => which === winner)).toBe(true);
        expect(won.filter(({ a }) => !a.body.replayed)).toHaveLength(1);
        const caseIds = new Set(won.map(({ a }) => (a.body as Recorded & { caseId: string }).caseId));
        expect(caseIds.size).toBe(1);
        for (const { which, a } of answers.filter(({ a }) => a.status !== 201)) {
          expect({ which, status: a.status, code: a.body.code }).toEqual({
            which: winner === 'a' ? 'b' : 'a',
            status: 422,
            code: 'IDEMPOTENCY.KEY_REUSED',
          });
        }
        // Exactly one report was stored for the key, the winning one.
        const reports: RecordedEvent[] = [];
        const stored = ledger.storedIdempotencyKey(clinic[0]!.principalId, key);
        for await (const e of ledger.store.readAll({ fromPosition: { after: head } }))
          if (e.type === 'PotentialVictimReported' && e.metadata.idempotencyKey === stored) reports.push(e);
        expect(reports).toHaveLength(1);
        expect(reports[0]!.data).toMatchObject({ exploitationForms: bodies[winner].exploitationForms });
        await expectAnswersMatchStream(
          `identification-${[...caseIds][0]!}`,
          won.map(({ a }) => a),
          0,
        );
      }
    },
    TIMEOUT_MS,
  );

  it(
    'answers a command that keeps losing its race with 409, Retry-After and nothing stored; the retry gets through',
    async () => {
      const caseId = await openCase();
      await referToNgo(caseId);
      const stream = `support-${caseId}`;
      // Another writer on the same stream, as another process would be, that never lets up: it keeps
      // appends in flight all the time, so whatever revision the command read is gone when it appends.
      let writing = true;
      let foreign = 0;
      const foreignEvent = () => ({
        id: randomUUID(),
        type: 'SupportServiceProvided',
        schemaVersion: 1,
        data: {
          caseId,
          serviceType: 'interpretation',
          providedOn: today(),
          providedByAgencyId: 'cc-ngo',
          recordedAt: new Date().toISOString(),
        },
        metadata: { correlationId: 'cc-foreign-writer', occurredAt: new Date().toISOString() },
      });
      // Its own handle on the file, committing on this process's event loop: the API's appends go
      // through its writer thread, so a foreign writer queued behind them on the same thread would
      // leave the command a window; one that commits between the command's read and its append never does.
      const other = new SqliteEventStore({
        filename: join(ledger.dataDir, 'events.sqlite'),
        writerThread: false,
      });
      // It needs a first event to append after ('stream-exists').
      await other.append(stream, [foreignEvent()], { expectedRevision: 'no-stream' });
      const writer = Promise.all(
        Array.from({ length: 4 }, async () => {
          while (writing) {
            await other.append(stream, [foreignEvent()], { expectedRevision: 'stream-exists' });
            foreign++;
          }
        }),
      );
      const body = { serviceType: 'legal', providedOn: today() };
      tally.requests++;
      const refused = await ngo[0]!.post<Recorded>(`/cases/${caseId}/support-services`, body);
      writing = false;
      await writer;
      await other.close();
      expect(foreign).toBeGreaterThan(0);
      expect({
        status: refused.status,
        type: refused.headers.get('content-type'),
        code: refused.body.code,
        retryAfter: refused.headers.get('retry-after'),
        retryAfterSeconds: refused.body.retryAfterSeconds,
      }).toEqual({
        status: 409,
        type: expect.stringMatching(/^application\/problem\+json/),
        code: 'COMMAND.CONFLICT',
        retryAfter: '1',
        retryAfterSeconds: 1,
      });
      tally.raceConflicts++;
      tally.raceConflictsWithHint++;
      const requestId = refused.headers.get('x-request-id');
      expect((await streamEvents(stream)).filter((e) => e.metadata.correlationId === requestId)).toEqual([]);
      // Told to come back, the client does, and is recorded once.
      const retried = await command(via(ngo, 0), `/cases/${caseId}/support-services`, body);
      expect(retried.status).toBe(201);
      const events = await streamEvents(stream);
      expect(events.filter((e) => e.metadata.correlationId !== 'cc-foreign-writer').map((e) => e.id)).toEqual(
        retried.body.eventIds,
      );
    },
    TIMEOUT_MS,
  );

  it('answered every refusal as a problem, every lost race with a retry hint', () => {
    expect(unexpected).toEqual([]);
    expect(tally.raceConflictsWithHint).toBe(tally.raceConflicts);
    expect(tally.lostUpdates + tally.duplicatedEvents).toBe(0);
    expect(tally.accepted).toBeGreaterThan(0);
  });
});
