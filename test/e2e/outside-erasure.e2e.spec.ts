/**
 * After the erasure of a subject, the outside attacker (README read, source not) looks everywhere
 * the API and the disk offer for the person's identity: the case read now and `?asOf=` an instant
 * before the erasure, a break-glass read, the subject access report (JSON and HTML), the oversight
 * body's consent history and access log, the coordinator's board, an Idempotency-Key replay of the
 * original report, an export of the log, and every file in DATA_DIR. A canary name and a canary
 * note are searched for (as UTF-8, UTF-16LE and base64). Counts are printed.
 */
import { Command } from 'commander';
import { readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { registerAuditCommands, type ConsoleIo } from '../../apps/ledger-cli/src/audit-commands';
import { Ledger, type Principal } from './harness';

const DAY_MS = 86_400_000;
const inDays = (days: number) => new Date(Date.now() + days * DAY_MS).toISOString();
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const CANARY = 'Velmora Dashkintree';
const NOTE = 'canary-note-8f3a1c9e: sister lives in Ostrava';
const REPORT = {
  indicators: ['debt-bondage'],
  exploitationForms: ['labour'],
  minor: false,
  region: 'NL-ZH',
  identity: {
    fullName: CANARY,
    birthDate: '1997-05-06',
    nationality: 'RO',
    contact: '+40 700 000 001',
    notes: NOTE,
  },
};
const needles = [CANARY, NOTE].flatMap((s) => [
  Buffer.from(s, 'utf8'),
  Buffer.from(s, 'utf16le'),
  Buffer.from(Buffer.from(s, 'utf8').toString('base64').slice(0, 20), 'utf8'),
]);

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

describe('nothing of an erased subject stays readable (e2e)', () => {
  let ledger: Ledger;
  let clinic: Principal;
  let ngo: Principal;
  let police: Principal;
  let oversight: Principal;
  let coordinator: Principal;
  let caseId: string;
  let subjectId: string;
  let beforeErasure: string;
  const tally = { places: 0, leaked: 0 };
  const leaks: string[] = [];

  const look = (place: string, text: string) => {
    tally.places++;
    if (text.includes(CANARY) || text.includes(NOTE)) {
      tally.leaked++;
      leaks.push(place);
    }
  };

  beforeAll(async () => {
    ledger = await Ledger.boot();
    clinic = await ledger.principal('health', ['caseworker'], 'er-clinic');
    ngo = await ledger.principal('ngo', ['caseworker'], 'er-ngo');
    police = await ledger.principal('law-enforcement', ['caseworker', 'break-glass'], 'er-police');
    oversight = await ledger.principal('oversight-body', ['oversight'], 'er-dpa');
    coordinator = await ledger.principal('national-coordinator', ['coordinator'], 'er-nc');
    const report = await clinic.post<{ caseId: string; subjectId: string }>('/cases', REPORT, {
      'idempotency-key': 'er-report-1',
    });
    expect(report.status).toBe(201);
    ({ caseId, subjectId } = report.body);
    const consent = await clinic.post(`/cases/${caseId}/consents`, {
      agencyIds: [ngo.agencyId],
      categories: ['case-status', 'identity', 'contact'],
      purposes: ['assistance'],
      expiresAt: inDays(30),
      capture: { method: 'written', language: 'ro', interpreterUsed: true },
    });
    expect(consent.status).toBe(201);
    for (const [to, purpose, shared] of [
      [ngo.agencyId, 'assistance', ['case-status', 'identity']],
      [police.agencyId, 'protection', []],
    ] as const) {
      const r = await clinic.post(`/cases/${caseId}/referrals`, {
        toAgencyId: to,
        purpose,
        servicesRequested: purpose === 'assistance' ? ['accommodation'] : [],
        urgency: 'urgent',
        respondBy: inDays(2),
        sharedCategories: shared,
      });
      expect(r.status).toBe(201);
    }
    // Before: the NGO does read the name (so the searches below would find it if it stayed).
    const read = await ngo.call('GET', `/cases/${caseId}`, undefined, { 'x-purpose': 'assistance' });
    expect(JSON.stringify(read.body)).toContain(CANARY);
    await pause(20);
    beforeErasure = new Date().toISOString();
    await pause(20);
    const erased = await oversight.post(`/subjects/${subjectId}/erasure`, {
      ground: 'subject-request',
      reference: 'NGO-2026-777',
    });
    expect(erased.status).toBe(200);
  });

  afterAll(async () => {
    console.log(
      `outside-erasure: places searched ${tally.places}, leaked ${tally.leaked}${leaks.length ? ` (${leaks.join(', ')})` : ''}`,
    );
    await ledger.close();
  });

  it('the API gives nothing of the identity back, now or as of before the erasure', async () => {
    const reads: Array<[string, Promise<{ status: number; body: unknown }>]> = [
      ['case now', ngo.call('GET', `/cases/${caseId}`, undefined, { 'x-purpose': 'assistance' })],
      [
        'case asOf before erasure',
        ngo.call('GET', `/cases/${caseId}?asOf=${encodeURIComponent(beforeErasure)}`, undefined, {
          'x-purpose': 'assistance',
        }),
      ],
      [
        'break-glass read',
        police.post(`/cases/${caseId}/break-glass-reads`, {
          justification: 'Person reported missing from the shelter; imminent danger, location needed now.',
          purpose: 'protection',
        }),
      ],
      ['access report', ngo.get(`/subjects/${subjectId}/access-report`)],
      ['consent history', oversight.get(`/oversight/subjects/${subjectId}/consent-history`)],
      ['access log', oversight.get(`/oversight/access-log?subjectId=${subjectId}`)],
      ['access attempts', oversight.get(`/oversight/access-attempts?caseId=${caseId}`)],
      ['break-glass queue', oversight.get('/oversight/break-glass')],
      ['handoff board', coordinator.get('/coordinator/handoff-board')],
      ['replay of the report', clinic.post('/cases', REPORT, { 'idempotency-key': 'er-report-1' })],
      ['case list', ngo.get('/cases')],
      ['referrals in', ngo.get('/referrals?direction=in')],
    ];
    for (const [place, answer] of reads) {
      const a = await answer;
      look(place, JSON.stringify(a.body));
    }
    const html = await fetch(`${ledger.base}/subjects/${subjectId}/access-report?format=html`, {
      headers: { authorization: `Bearer ${ngo.apiKey}` },
    });
    look('access report html', await html.text());
    const now = await ngo.call<{ categories: Record<string, unknown> }>(
      'GET',
      `/cases/${caseId}`,
      undefined,
      {
        'x-purpose': 'assistance',
      },
    );
    expect(now.body.categories.identity).toEqual({ erased: true });
    expect(leaks).toEqual([]);
  });

  it('no file of the ledger, and no export, holds the identity', async () => {
    const result = { code: 0, out: '', err: '' };
    const io: ConsoleIo = {
      out: (text) => void (result.out += text),
      err: (text) => void (result.err += text),
      setExitCode: (code) => void (result.code = code),
      exitNow: (code) => {
        result.code = code;
        throw new Error(`exit ${code}`);
      },
      progress: false,
    };
    const cli = new Command('ledger').exitOverride();
    const exportFile = join(ledger.dataDir, 'export-after-erasure.ndjson');
    registerAuditCommands(cli, () => ledger.dataDir, io);
    await cli
      .parseAsync(
        [
          'export',
          '--from',
          '1',
          '--out',
          exportFile,
          '--purpose',
          'subject-access-request',
          '--reason',
          'DPA-2026-0777',
        ],
        {
          from: 'user',
        },
      )
      .catch(() => undefined);
    const files = filesUnder(ledger.dataDir);
    expect(files).toContain(exportFile);
    for (const file of files) {
      const bytes = readFileSync(file);
      tally.places++;
      if (needles.some((n) => bytes.includes(n))) {
        tally.leaked++;
        leaks.push(file.slice(ledger.dataDir.length + 1));
      }
    }
    rmSync(exportFile, { force: true });
    expect(leaks).toEqual([]);
  });

  /**
   * FINDING (design, fixed: justifications are sealed under the subject's key): the ledger's free text outside `identity` (a break-glass
   * justification, 30 to 1000 characters; a lawful basis's justification) is stored in clear in the
   * events and shown to oversight and in the subject access report. The API asks that it not
   * describe the person, but nothing can enforce it: a caseworker who writes the person's name there
   * leaves it readable after the erasure, over the API and in every file and export. Correct
   * behaviour: free text recorded on a subject's case is sealed under that subject's key, as
   * `identity` is, so that the erasure shreds it too (oversight then sees `{"erased": true}`).
   */
  it('free text about the person outside identity (a break-glass justification) is erased with it', async () => {
    const report = await clinic.post<{ caseId: string; subjectId: string }>('/cases', {
      ...REPORT,
      identity: { fullName: 'Another Invented Person' },
    });
    const c = report.body.caseId;
    expect(
      (
        await clinic.post(`/cases/${c}/referrals`, {
          toAgencyId: police.agencyId,
          purpose: 'protection',
          servicesRequested: [],
          urgency: 'urgent',
          respondBy: inDays(2),
          sharedCategories: [],
        })
      ).status,
    ).toBe(201);
    const glass = await police.post(`/cases/${c}/break-glass-reads`, {
      justification: `${CANARY} was reported missing from the shelter today; her location is needed now.`,
      purpose: 'protection',
    });
    expect(glass.status).toBe(200);
    expect(
      (
        await oversight.post(`/subjects/${report.body.subjectId}/erasure`, {
          ground: 'subject-request',
          reference: 'NGO-2026-778',
        })
      ).status,
    ).toBe(200);
    const places = [
      ['break-glass queue', JSON.stringify((await oversight.get('/oversight/break-glass')).body)],
      [
        'access report',
        JSON.stringify((await clinic.get(`/subjects/${report.body.subjectId}/access-report`)).body),
      ],
    ];
    const residue = places.filter(([, text]) => text!.includes(CANARY)).map(([place]) => place);
    console.log(
      `outside-erasure: free text after erasure readable in ${residue.length ? residue.join(', ') : 'nothing'}`,
    );
    expect(residue).toEqual([]);
  });

  /**
   * FIXED (was low): the request id is now a UUID (v4 or v7) the caller sent or one the ledger
   * makes, and the events record a keyed digest of the Idempotency-Key, not the key. The finding as
   * it was: a caller's "plain" `X-Request-Id` (letters, digits, `_`, `-`) is kept, logged, and
   * stored as the `correlationId` of every event the request records (and its `Idempotency-Key`
   * verbatim as `idempotencyKey`), in the immutable store and so
   * in every export and backup. An agency integration that uses its own case reference built from the
   * person's name and birth date as its request id writes them into the trail for good; the erasure
   * cannot reach them. Correct behaviour: a request id that is not an opaque id (a UUID) is replaced,
   * or it is kept in the answer and the logs only, never in events.
   */
  it("a request id or idempotency key made of the person's name is not written into the trail", async () => {
    const reference = 'Velmora_Dashkintree_1997-05-06';
    const report = await clinic.post<{ subjectId: string }>(
      '/cases',
      { ...REPORT, identity: { fullName: 'Another Invented Person' } },
      { 'x-request-id': reference, 'idempotency-key': `${reference}-report` },
    );
    expect(report.status).toBe(201);
    expect(
      (
        await oversight.post(`/subjects/${report.body.subjectId}/erasure`, {
          ground: 'subject-request',
          reference: 'NGO-2026-7791',
        })
      ).status,
    ).toBe(200);
    const stored: string[] = [];
    for await (const e of ledger.store.readAll())
      if (JSON.stringify(e.metadata).includes(reference) || JSON.stringify(e.data).includes(reference))
        stored.push(e.type);
    console.log(
      `outside-erasure: events keeping the name-made request id after the erasure ${stored.length} (${stored.join(', ')})`,
    );
    expect(stored).toEqual([]);
  });
  /**
   * FIXED (was low; attacker pass after the request-id fix): the consent capture's
   * `guardianReference` and `witnessPrincipalId` took any id-shaped text (letters, digits, `.`,
   * `_`, `-`): the DTO says "never the guardian's name", but `Velmora_Dashkintree_1997-05-06` passed,
   * and the witness was not checked against the registry. Both were stored in clear in
   * `ConsentGranted`, which the erasure does not reach. Now the guardian's reference is sealed under
   * the subject's key (ConsentGranted schema 2), and the witness must be a principal registered for
   * the recording agency (otherwise 400 `CONSENT.WITNESS_UNKNOWN`, nothing recorded).
   */
  it("a consent's guardian reference or witness made of the person's name does not outlive the erasure", async () => {
    const reference = 'Velmora_Dashkintree_1997-05-06';
    const report = await clinic.post<{ caseId: string; subjectId: string }>('/cases', {
      ...REPORT,
      identity: { fullName: 'A Third Invented Person' },
    });
    expect(report.status).toBe(201);
    const statuses: number[] = [];
    for (const capture of [
      {
        method: 'guardian',
        language: 'ro',
        interpreterUsed: true,
        guardianReference: `${reference}-guardian`,
      },
      {
        method: 'verbal-with-witness',
        language: 'ro',
        interpreterUsed: true,
        witnessPrincipalId: `${reference}-witness`,
      },
    ])
      statuses.push(
        (
          await clinic.post(`/cases/${report.body.caseId}/consents`, {
            agencyIds: [ngo.agencyId],
            categories: ['case-status'],
            purposes: ['assistance'],
            expiresAt: inDays(30),
            capture,
          })
        ).status,
      );
    expect(
      (
        await oversight.post(`/subjects/${report.body.subjectId}/erasure`, {
          ground: 'subject-request',
          reference: 'NGO-2026-779',
        })
      ).status,
    ).toBe(200);
    const stored: string[] = [];
    for await (const e of ledger.store.readAll())
      if (JSON.stringify(e.data).includes(reference) || JSON.stringify(e.metadata).includes(reference))
        stored.push(e.type);
    console.log(
      `outside-erasure: consents with a name-made guardian reference or witness answered ${statuses.join(', ')}; ` +
        `events keeping the name after the erasure ${stored.length} (${stored.join(', ')})`,
    );
    expect(statuses).toEqual([201, 400]);
    expect(stored).toEqual([]);
  });

  /**
   * Attack on the fix, as an insider at a party agency: the witness named as another agency's
   * principal (the oversight body's, the police's), an id nobody registered, a name shaped as an
   * id, an agency id: all refused with one answer (so the check tells nothing of other agencies'
   * registrations), none recorded. A principal of the recording agency, or the recorder, passes.
   */
  it("a consent's witness is a principal of the recording agency, and nothing else is recorded", async () => {
    const colleague = await ledger.principal('health', ['caseworker'], 'er-clinic');
    const report = await clinic.post<{ caseId: string }>('/cases', {
      ...REPORT,
      identity: { fullName: 'A Fourth Invented Person' },
    });
    expect(report.status).toBe(201);
    const witnessed = (witnessPrincipalId: string) =>
      clinic.post<{ code?: string; field?: string; detail?: string }>(
        `/cases/${report.body.caseId}/consents`,
        {
          agencyIds: [ngo.agencyId],
          categories: ['case-status'],
          purposes: ['assistance'],
          expiresAt: inDays(30),
          capture: {
            method: 'verbal-with-witness',
            language: 'ro',
            interpreterUsed: true,
            witnessPrincipalId,
          },
        },
      );
    const refusedIds: Array<[string, string]> = [
      ["another agency's principal", ngo.principalId],
      ["the oversight body's principal", oversight.principalId],
      ["the police's principal", police.principalId],
      ['an id nobody registered', randomUUID()],
      ['a name shaped as an id', 'Velmora_Dashkintree_1997-05-06'],
      ['an agency id', clinic.agencyId],
    ];
    const smuggledId = 'Velmora_D';
    const answers: Array<{ what: string; id: string; answer: Awaited<ReturnType<typeof witnessed>> }> = [];
    for (const [what, id] of refusedIds) answers.push({ what, id, answer: await witnessed(id) });
    const accepted = [await witnessed(colleague.principalId), await witnessed(clinic.principalId)];
    // The registry's answer slipped into the body itself: an unknown key, refused before anything.
    const smuggled = await clinic.post<{ field?: string }>(`/cases/${report.body.caseId}/consents`, {
      agencyIds: [ngo.agencyId],
      categories: ['case-status'],
      purposes: ['assistance'],
      expiresAt: inDays(30),
      capture: {
        method: 'verbal-with-witness',
        language: 'ro',
        interpreterUsed: true,
        witnessPrincipalId: smuggledId,
      },
      witnessAgencyId: clinic.agencyId,
    });
    const refused = answers.filter(
      (a) =>
        a.answer.status === 400 &&
        a.answer.body.code === 'CONSENT.WITNESS_UNKNOWN' &&
        a.answer.body.field === 'capture.witnessPrincipalId',
    );
    const details = new Set(answers.map((a) => a.answer.body.detail));
    const echoed = answers.filter((a) => JSON.stringify(a.answer.body).includes(a.id));
    const stored: string[] = [];
    for await (const e of ledger.store.readAll({ filter: { eventTypes: ['ConsentGranted'] } }))
      for (const [what, id] of [...refusedIds, ['smuggled', smuggledId]])
        if (JSON.stringify(e.data.capture).includes(id!)) stored.push(what!);
    console.log(
      `outside-erasure: witnesses not of the recording agency ${answers.length}, refused 400 ${refused.length} ` +
        `(${details.size} distinct answer), echoing the id ${echoed.length}, recorded ${stored.length}; ` +
        `own agency's and the recorder's answered ${accepted.map((a) => a.status).join(', ')}; ` +
        `the registry's answer smuggled into the body ${smuggled.status} ${String(smuggled.body.field)}`,
    );
    expect(smuggled.status).toBe(400);
    expect(refused.length).toBe(answers.length);
    expect(details.size).toBe(1);
    expect(echoed).toEqual([]);
    expect(stored).toEqual([]);
    expect(accepted.map((a) => a.status)).toEqual([201, 201]);
  });

  /**
   * Attack on the fix: a guardian's reference made of the name, looked for where it could come back:
   * the answer of a refused consent that carries it (a body error, a rule broken), an
   * Idempotency-Key replay, the subject access report, the events and the files; oversight's
   * consent history shows it opened while the person's key exists, and `{"erased": true}` after.
   */
  it("a guardian's reference is shown to oversight until the erasure and echoed nowhere", async () => {
    const reference = 'Velmora_Dashkintree_1997-05-06-gdn';
    const report = await clinic.post<{ caseId: string; subjectId: string }>('/cases', {
      ...REPORT,
      identity: { fullName: 'A Fifth Invented Person' },
    });
    expect(report.status).toBe(201);
    const { caseId, subjectId } = report.body;
    const body = (capture: Record<string, unknown>, agencyIds = [ngo.agencyId]) => ({
      agencyIds,
      categories: ['case-status'],
      purposes: ['assistance'],
      expiresAt: inDays(30),
      capture: { method: 'guardian', language: 'ro', interpreterUsed: false, ...capture },
    });
    // Sent twice with one Idempotency-Key: the same body, its expiry included.
    const recorded = body({ guardianReference: reference });
    const answers: Array<[string, { status: number; body: unknown }]> = [
      [
        'prose reference (400)',
        await clinic.post(`/cases/${caseId}/consents`, body({ guardianReference: 'Velmora Dashkintree' })),
      ],
      [
        'self-grant (422)',
        await clinic.post(
          `/cases/${caseId}/consents`,
          body({ guardianReference: reference }, [clinic.agencyId]),
        ),
      ],
      [
        'unknown witness (400)',
        await clinic.post(
          `/cases/${caseId}/consents`,
          body({ guardianReference: reference, witnessPrincipalId: ngo.principalId }),
        ),
      ],
      [
        'recorded',
        await clinic.post(`/cases/${caseId}/consents`, recorded, { 'idempotency-key': 'er-guardian-1' }),
      ],
      [
        'replay',
        await clinic.post(`/cases/${caseId}/consents`, recorded, { 'idempotency-key': 'er-guardian-1' }),
      ],
    ];
    const statuses = answers.map(([, a]) => a.status);
    const echoed = answers
      .filter(([, a]) => /Velmora|Dashkintree/.test(JSON.stringify(a.body)))
      .map(([what]) => what);
    type History = {
      entries: Array<{ caseId: string; type: string; capture?: { guardianReference?: unknown } }>;
    };
    const shown = async () =>
      (await oversight.get<History>(`/oversight/subjects/${subjectId}/consent-history`)).body.entries
        .filter((e) => e.caseId === caseId && e.type === 'ConsentGranted')
        .map((e) => e.capture?.guardianReference);
    const before = await shown();
    const reportBefore = JSON.stringify((await clinic.get(`/subjects/${subjectId}/access-report`)).body);
    expect(
      (
        await oversight.post(`/subjects/${subjectId}/erasure`, {
          ground: 'subject-request',
          reference: 'NGO-2026-780',
        })
      ).status,
    ).toBe(200);
    const after = await shown();
    const reportAfter = JSON.stringify((await clinic.get(`/subjects/${subjectId}/access-report`)).body);
    const stored: string[] = [];
    for await (const e of ledger.store.readAll())
      if ((JSON.stringify(e.data) + JSON.stringify(e.metadata)).includes('Dashkintree_1997-05-06-gdn'))
        stored.push(e.type);
    const files = filesUnder(ledger.dataDir).filter((f) =>
      readFileSync(f).includes('Dashkintree_1997-05-06-gdn'),
    );
    console.log(
      `outside-erasure: guardian reference made of the name, answers ${statuses.join(', ')}, echoed in ${echoed.length}; ` +
        `consent history before ${JSON.stringify(before)}, after ${JSON.stringify(after)}; ` +
        `access report holding it before ${Number(reportBefore.includes(reference))}, after ${Number(reportAfter.includes(reference))}; ` +
        `events ${stored.length}, files ${files.length}`,
    );
    expect(statuses).toEqual([400, 422, 400, 201, 201]);
    expect(echoed).toEqual([]);
    expect(before).toEqual([reference]);
    expect(after).toEqual([{ erased: true }]);
    expect([reportBefore.includes(reference), reportAfter.includes(reference)]).toEqual([false, false]);
    expect(stored).toEqual([]);
    expect(files).toEqual([]);
  });

  /**
   * FINDING (low, fixed): the erasure's own `reason` (10 to 500 characters of free text, written by
   * the oversight body) is stored in clear in the erasure event. A reason that names the person
   * ("Request of Velmora Dashkintree, ...") is written into the trail by the very act that was to
   * remove the name, for good. Correct behaviour: the reason refused when it holds the subject's
   * recorded name (the ledger still has it at that moment), or kept only as a reference code.
   * Fixed: why is a legal ground and a reference code; a prose reason is refused (400, `reason`).
   */
  it('an erasure reason naming the person is not written into the trail by the erasure', async () => {
    const name = 'Oriel Vantasquez';
    const report = await clinic.post<{ subjectId: string }>('/cases', {
      ...REPORT,
      identity: { fullName: name },
    });
    expect(report.status).toBe(201);
    const erased = await oversight.post<{ field?: string }>(`/subjects/${report.body.subjectId}/erasure`, {
      reason: `Request of ${name}, received by letter on 2 December.`,
    });
    expect({ status: erased.status, field: erased.body.field }).toEqual({ status: 400, field: 'reason' });
    const proper = await oversight.post(`/subjects/${report.body.subjectId}/erasure`, {
      ground: 'subject-request',
      reference: 'LETTER-2026-12-02',
    });
    expect(proper.status).toBe(200);
    const stored: string[] = [];
    for await (const e of ledger.store.readAll())
      if (JSON.stringify(e.data).includes(name) || JSON.stringify(e.metadata).includes(name))
        stored.push(e.type);
    console.log(
      `outside-erasure: erasure with the name in its reason answered ${erased.status}; events keeping the name ${stored.length} (${stored.join(', ')})`,
    );
    expect(stored).toEqual([]);
  });
});
