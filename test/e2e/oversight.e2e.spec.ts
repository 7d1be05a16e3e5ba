import { RegistryCommands } from '@nrm/access';
import { Ledger, type Principal } from './harness';

interface Entry {
  position: number;
  eventId: string;
  type: string;
  at: string;
  agencyId?: string;
  caseId?: string;
  subjectId?: string;
  view?: string;
  purpose?: string;
  basis?: Array<{ category: string; basis: string; consentId?: string }>;
  reason?: string;
  justification?: string;
  review?: { status: string; finding?: string; note?: string };
}
interface Page<T = Entry> {
  entries: T[];
  next?: { cursor: number };
  code?: string;
  field?: string;
}
interface ReportAccess {
  at: string;
  agencyId: string;
  agencyName: string | null;
  view: string;
  purpose?: string;
  basis: Array<{ category: string; basis: string }>;
  breakGlass?: { justification: string; review: { status: string; finding?: string } };
}

const SCRIPT_NAME = 'Lighthouse <script>alert("pwned")</script> & Sons';
const JUSTIFICATION =
  'Person reported missing from shelter; imminent danger, location of support needed now.';

describe('oversight views, break-glass and the subject access report (e2e)', () => {
  let ledger: Ledger;
  let clinic: Principal;
  let ngo: Principal;
  let shelter: Principal;
  let police: Principal;
  let inspector: Principal;
  let dpa: Principal;
  let dpaClerk: Principal;
  let coordinator: Principal;
  let caseId: string;
  let subjectId: string;
  let consentId: string;
  let breakGlassEventId: string;

  const purpose = (p: string) => ({ 'x-purpose': p });

  async function audit(types = ['RecordAccessed', 'AccessDenied', 'BreakGlassAccessUsed', 'AccessReviewed']) {
    const out: Array<{ id: string; type: string; data: Record<string, unknown> }> = [];
    for await (const e of ledger.store.readAll({ filter: { eventTypes: types } }))
      out.push({ id: e.id, type: e.type, data: e.data });
    return out;
  }

  /** The audit events appended while `act` runs. */
  async function audited(act: () => Promise<unknown>) {
    const before = (await audit()).length;
    await act();
    return (await audit()).slice(before);
  }

  async function html(who: Principal, path: string) {
    const response = await fetch(`${ledger.base}${path}`, {
      headers: { authorization: `Bearer ${who.apiKey}` },
    });
    return {
      status: response.status,
      type: response.headers.get('content-type'),
      text: await response.text(),
    };
  }

  let ngoReferralId = '';
  beforeAll(async () => {
    ledger = await Ledger.boot();
    const console = () => ({ now: new Date().toISOString(), requestId: 'test', fingerprint: 'test' });
    await new RegistryCommands(ledger.store).registerAgency(
      { name: SCRIPT_NAME, kind: 'ngo', country: 'NL', agencyId: 'ngo-ov' },
      console(),
    );
    clinic = await ledger.principal('health', ['caseworker'], 'clinic-ov');
    ngo = await ledger.principal('ngo', ['caseworker'], 'ngo-ov');
    shelter = await ledger.principal('shelter', ['caseworker'], 'shelter-ov');
    police = await ledger.principal('law-enforcement', ['caseworker', 'break-glass'], 'police-ov');
    inspector = await ledger.principal('labour-inspectorate', ['caseworker', 'break-glass'], 'inspect-ov');
    dpa = await ledger.principal('oversight-body', ['oversight'], 'dpa-ov');
    dpaClerk = await ledger.principal('oversight-body', ['caseworker'], 'dpa-ov');
    coordinator = await ledger.principal('national-coordinator', ['coordinator', 'oversight'], 'coord-ov');

    const reported = await clinic.post<{ caseId: string; subjectId: string }>('/cases', {
      indicators: ['debt-bondage'],
      exploitationForms: ['labour'],
      minor: false,
      region: 'NL-ZH',
    });
    expect(reported.status).toBe(201);
    ({ caseId, subjectId } = reported.body);
    const granted = await clinic.post<{ consentId: string }>(`/cases/${caseId}/consents`, {
      agencyIds: ['ngo-ov'],
      categories: ['case-status', 'support-needs'],
      purposes: ['assistance'],
      expiresAt: '2030-01-01T00:00:00Z',
      capture: { method: 'written', language: 'en', interpreterUsed: false },
    });
    expect(granted.status).toBe(201);
    consentId = granted.body.consentId;
    const respondBy = new Date(Date.now() + 86_400_000).toISOString();
    for (const [to, shared] of [
      ['ngo-ov', ['case-status']],
      ['shelter-ov', []],
      ['police-ov', []],
    ] as const) {
      const made = await clinic.post<{ referralId: string }>(`/cases/${caseId}/referrals`, {
        toAgencyId: to,
        purpose: to === 'police-ov' ? 'protection' : 'assistance',
        servicesRequested: ['accommodation'],
        urgency: 'urgent',
        respondBy,
        sharedCategories: shared,
      });
      expect(made.status).toBe(201);
      if (to === 'ngo-ov') ngoReferralId = made.body.referralId;
    }
    // A covered read, and a party whose agency no consent covers.
    expect((await ngo.call('GET', `/cases/${caseId}`, undefined, purpose('assistance'))).status).toBe(200);
    expect((await shelter.call('GET', `/cases/${caseId}`, undefined, purpose('assistance'))).status).toBe(
      403,
    );
  });
  afterAll(() => ledger.close());

  describe('break-glass read', () => {
    it('returns every category beyond consent and records BreakGlassAccessUsed before answering', async () => {
      let answer: Awaited<ReturnType<typeof police.post>> | undefined;
      const events = await audited(async () => {
        answer = await police.post(`/cases/${caseId}/break-glass-reads`, {
          justification: JUSTIFICATION,
          purpose: 'protection',
        });
      });
      expect(answer!.status).toBe(200);
      const body = answer!.body as { categories: Record<string, unknown>; basis: Record<string, string> };
      expect(Object.keys(body.categories).sort()).toEqual(['case-status', 'exploitation', 'support-needs']);
      expect(JSON.stringify(body.categories)).toContain('debt-bondage'); // outside any consent for the police
      expect(body.basis).toEqual({
        'case-status': 'break-glass',
        exploitation: 'break-glass',
        'support-needs': 'break-glass',
      });
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({
        type: 'BreakGlassAccessUsed',
        data: {
          principalId: police.principalId,
          agencyId: 'police-ov',
          caseId,
          subjectId,
          // Sealed under the subject's key, so that the subject's erasure shreds it: never in clear.
          sealedJustification: { alg: 'A256GCM', keyId: subjectId },
          purpose: 'protection',
        },
      });
      expect(JSON.stringify(events[0])).not.toContain(JUSTIFICATION.slice(0, 20));
      breakGlassEventId = events[0]!.id;
    });

    it('refuses without the role (403), outside the case (404 as for no case) and with a short justification (400), auditing each', async () => {
      const body = { justification: JUSTIFICATION, purpose: 'protection' };
      const events = await audited(async () => {
        const noRole = await ngo.post(`/cases/${caseId}/break-glass-reads`, body);
        expect(noRole.status).toBe(403);
        expect(noRole.body).toMatchObject({ code: 'ACCESS.BREAK_GLASS_ROLE_REQUIRED' });
        const outsider = await inspector.post(`/cases/${caseId}/break-glass-reads`, body);
        const missing = await inspector.post(
          '/cases/00000000-0000-4000-8000-000000000000/break-glass-reads',
          body,
        );
        expect([outsider.status, missing.status]).toEqual([404, 404]);
        expect({ ...outsider.body, requestId: 0 }).toEqual({ ...missing.body, requestId: 0 });
        const short = await police.post(`/cases/${caseId}/break-glass-reads`, {
          justification: 'because',
          purpose: 'protection',
        });
        expect(short.status).toBe(400);
        expect(short.body).toMatchObject({ field: 'justification' });
        const unknownField = await police.post(`/cases/${caseId}/break-glass-reads`, { ...body, extra: 1 });
        expect(unknownField.status).toBe(400);
        // No body at all, from a principal without the role: still refused, still audited.
        const noBody = await ngo.call('POST', `/cases/${caseId}/break-glass-reads`);
        expect(noBody.status).toBe(403);
      });
      expect(events.map((e) => [e.type, e.data.reason, e.data.agencyId])).toEqual([
        ['AccessDenied', 'break-glass-role-required', 'ngo-ov'],
        ['AccessDenied', 'not-a-party-or-unknown-case', 'inspect-ov'],
        ['AccessDenied', 'not-a-party-or-unknown-case', 'inspect-ov'],
        ['AccessDenied', 'break-glass-request-invalid', 'police-ov'],
        ['AccessDenied', 'break-glass-request-invalid', 'police-ov'],
        ['AccessDenied', 'break-glass-role-required', 'ngo-ov'],
      ]);
    });
  });

  describe('oversight views', () => {
    it('shows who read the case, when and on which basis, newest first, and audits the read of the log', async () => {
      let log: Page | undefined;
      const events = await audited(async () => {
        const answer = await dpa.get<Page>(`/oversight/access-log?caseId=${caseId}`);
        expect(answer.status).toBe(200);
        log = answer.body;
      });
      const reads = log!.entries.map((e) => [e.type, e.agencyId, e.view]);
      expect(reads).toEqual([
        ['BreakGlassAccessUsed', 'police-ov', 'case-break-glass'],
        ['RecordAccessed', 'ngo-ov', 'case'],
      ]);
      const [breakGlass, read] = log!.entries;
      expect(read).toMatchObject({ subjectId, purpose: 'assistance' });
      expect(read!.basis).toEqual(
        expect.arrayContaining([
          { category: 'case-status', basis: 'consent', consentId },
          { category: 'support-needs', basis: 'consent', consentId },
        ]),
      );
      expect(breakGlass).toMatchObject({ justification: JUSTIFICATION, review: { status: 'pending' } });
      expect(events).toEqual([
        expect.objectContaining({
          type: 'RecordAccessed',
          data: expect.objectContaining({ view: 'access-log' }),
        }),
      ]);

      const bySubject = await dpa.get<Page>(`/oversight/access-log?subjectId=${subjectId}&agencyId=ngo-ov`);
      expect(bySubject.body.entries.map((e) => e.type)).toEqual(['RecordAccessed']);
      const paged = await dpa.get<Page>(`/oversight/access-log?caseId=${caseId}&limit=1`);
      expect(paged.body.entries.map((e) => e.type)).toEqual(['BreakGlassAccessUsed']);
      const rest = await dpa.get<Page>(
        `/oversight/access-log?caseId=${caseId}&limit=1&cursor=${paged.body.next!.cursor}`,
      );
      expect(rest.body.entries.map((e) => e.agencyId)).toEqual(['ngo-ov']);
      const future = await dpa.get<Page>(`/oversight/access-log?caseId=${caseId}&from=2099-01-01T00:00:00Z`);
      expect(future.body.entries).toEqual([]);
    });

    it('lists denials with their reason, filtered by agency', async () => {
      const denials = await dpa.get<Page>('/oversight/denials?agencyId=shelter-ov');
      expect(denials.status).toBe(200);
      expect(denials.body.entries).toEqual([
        expect.objectContaining({
          type: 'AccessDenied',
          caseId,
          subjectId,
          reason: 'no-consent-or-lawful-basis',
          purpose: 'assistance',
        }),
      ]);
      const all = await dpa.get<Page>('/oversight/denials?limit=100');
      expect(all.body.entries.map((e) => e.reason)).toEqual(
        expect.arrayContaining(['break-glass-role-required', 'not-a-party-or-unknown-case']),
      );
    });

    it('queues the break-glass access until it is reviewed once; a second review conflicts', async () => {
      const pending = await dpa.get<Page>('/oversight/break-glass?status=pending');
      expect(pending.body.entries.map((e) => e.eventId)).toEqual([breakGlassEventId]);
      expect((await dpa.get<Page>('/oversight/break-glass?status=reviewed')).body.entries).toEqual([]);

      const reviewed = await dpa.post(`/oversight/break-glass/${breakGlassEventId}/review`, {
        finding: 'justified',
        note: 'DPA-2026-0117',
      });
      expect(reviewed.status).toBe(200);
      expect(reviewed.body).toMatchObject({ accessEventId: breakGlassEventId, finding: 'justified' });
      const again = await dpa.post(`/oversight/break-glass/${breakGlassEventId}/review`, {
        finding: 'unjustified',
      });
      expect(again.status).toBe(409);
      expect(again.body).toMatchObject({ code: 'OVERSIGHT.ALREADY_REVIEWED' });
      const unknown = await dpa.post('/oversight/break-glass/00000000-0000-4000-8000-000000000000/review', {
        finding: 'justified',
      });
      expect(unknown.status).toBe(404);
      // A read's audit event is not a break-glass access.
      const plainRead = (await audit(['RecordAccessed']))[0]!;
      expect(
        (await dpa.post(`/oversight/break-glass/${plainRead.id}/review`, { finding: 'justified' })).status,
      ).toBe(404);
      const badFinding = await dpa.post(`/oversight/break-glass/${breakGlassEventId}/review`, {
        finding: 'fine',
      });
      expect(badFinding.status).toBe(400);
      expect(badFinding.body).toMatchObject({ field: 'finding' });
      const prose = await dpa.post(`/oversight/break-glass/${breakGlassEventId}/review`, {
        finding: 'justified',
        note: 'the person said that',
      });
      expect(prose.status).toBe(400);
      expect(prose.body).toMatchObject({ field: 'note' });

      expect((await audit(['AccessReviewed'])).map((e) => e.data.finding)).toEqual(['justified']);
      expect((await dpa.get<Page>('/oversight/break-glass?status=pending')).body.entries).toEqual([]);
      const done = await dpa.get<Page>('/oversight/break-glass?status=reviewed');
      expect(done.body.entries).toEqual([
        expect.objectContaining({
          eventId: breakGlassEventId,
          review: expect.objectContaining({
            status: 'reviewed',
            finding: 'justified',
            note: 'DPA-2026-0117',
          }),
        }),
      ]);
    });

    it('lists the subject’s consent history: the grant with its scope, then the withdrawal', async () => {
      const withdrawn = await clinic.post(`/cases/${caseId}/consents/${consentId}/withdrawal`, {});
      expect(withdrawn.status).toBe(200);
      let history: Page<Record<string, unknown>> & { caseIds?: string[] } = { entries: [] };
      const events = await audited(async () => {
        const answer = await dpa.get<typeof history>(`/oversight/subjects/${subjectId}/consent-history`);
        expect(answer.status).toBe(200);
        history = answer.body;
      });
      expect(history.caseIds).toEqual([caseId]);
      expect(history.entries).toEqual([
        expect.objectContaining({
          type: 'ConsentGranted',
          caseId,
          consentId,
          recordedByAgencyId: 'clinic-ov',
          recordedByPrincipalId: clinic.principalId,
          scope: {
            agencyIds: ['ngo-ov'],
            categories: ['case-status', 'support-needs'],
            purposes: ['assistance'],
          },
          expiresAt: '2030-01-01T00:00:00Z',
        }),
        expect.objectContaining({
          type: 'ConsentWithdrawn',
          consentId,
          whole: true,
          recordedByAgencyId: 'clinic-ov',
        }),
      ]);
      expect(events).toEqual([
        expect.objectContaining({
          type: 'RecordAccessed',
          data: expect.objectContaining({ view: 'consent-history', subjectId }),
        }),
      ]);
      const unknown = await dpa.get('/oversight/subjects/no-such-subject/consent-history');
      expect(unknown.status).toBe(404);
    });
  });

  describe('subject access report', () => {
    // The report goes to an agency in contact with the person: the NGO once the person reached it.
    beforeAll(async () => {
      for (const step of ['acknowledgement', 'acceptance', 'handoff'])
        expect((await ngo.post(`/referrals/${ngoReferralId}/${step}`)).status).toBe(200);
    });

    it('lists every access to the subject’s data in order, with agency names and the break-glass review', async () => {
      let report:
        { accesses: ReportAccess[]; caseIds: string[]; requestedBy: { agencyName: string } } | undefined;
      const events = await audited(async () => {
        const answer = await ngo.get<NonNullable<typeof report>>(
          `/subjects/${subjectId}/access-report?format=json`,
        );
        expect(answer.status).toBe(200);
        report = answer.body;
      });
      expect(report!.caseIds).toEqual([caseId]);
      expect(report!.requestedBy.agencyName).toBe(SCRIPT_NAME);
      expect(report!.accesses.map((a) => [a.agencyId, a.view])).toEqual([
        ['ngo-ov', 'case'],
        ['police-ov', 'case-break-glass'],
        ['dpa-ov', 'consent-history'],
      ]);
      const times = report!.accesses.map((a) => a.at);
      expect([...times].sort()).toEqual(times);
      expect(report!.accesses[0]).toMatchObject({ agencyName: SCRIPT_NAME, purpose: 'assistance' });
      expect(report!.accesses[1]).toMatchObject({
        agencyName: 'Test law-enforcement',
        breakGlass: { justification: JUSTIFICATION, review: { status: 'reviewed', finding: 'justified' } },
      });
      expect(JSON.stringify(report)).not.toContain(police.principalId);
      expect(events).toEqual([
        expect.objectContaining({
          type: 'RecordAccessed',
          data: expect.objectContaining({ view: 'subject-access-report', subjectId, agencyId: 'ngo-ov' }),
        }),
      ]);
    });

    it('renders a printable HTML page with every agency name escaped', async () => {
      const page = await html(ngo, `/subjects/${subjectId}/access-report?format=html`);
      expect(page.status).toBe(200);
      expect(page.type).toBe('text/html; charset=utf-8');
      expect(page.text).toContain('@media print');
      expect(page.text).not.toMatch(/<script/i);
      expect(page.text).toContain(
        'Lighthouse &lt;script&gt;alert(&quot;pwned&quot;)&lt;/script&gt; &amp; Sons',
      );
      expect(page.text).toContain('Test law-enforcement');
      expect(page.text).toContain('reviewed by the oversight body: justified');
    });

    it('answers an agency that does not assist the person as for an unknown subject, and audits both', async () => {
      const events = await audited(async () => {
        const stranger = await inspector.get(`/subjects/${subjectId}/access-report`);
        const unknown = await inspector.get('/subjects/no-such-subject/access-report');
        expect([stranger.status, unknown.status]).toEqual([404, 404]);
        expect({ ...stranger.body, requestId: 0 }).toEqual({ ...unknown.body, requestId: 0 });
        // The oversight body assists no one: refused before anything is looked up.
        const oversight = await dpa.get(`/subjects/${subjectId}/access-report`);
        expect(oversight.status).toBe(403);
      });
      expect(events.map((e) => [e.type, e.data.reason, e.data.subjectId])).toEqual([
        ['AccessDenied', 'not-a-party-or-unknown-subject', subjectId],
        ['AccessDenied', 'not-a-party-or-unknown-subject', 'no-such-subject'],
        ['AccessDenied', 'access-report-not-for-role-or-kind', subjectId],
      ]);
    });
  });

  describe('refusals and bad input', () => {
    const routes = [
      ['GET', '/oversight/access-log'],
      ['GET', '/oversight/denials'],
      ['GET', '/oversight/break-glass'],
      ['GET', '/oversight/subjects/any-subject/consent-history'],
      ['POST', '/oversight/break-glass/00000000-0000-4000-8000-000000000000/review'],
    ] as const;

    it('refuses every oversight route to anyone but the oversight role in the oversight body, auditing each', async () => {
      for (const who of [ngo, dpaClerk, coordinator]) {
        const events = await audited(async () => {
          for (const [method, path] of routes) {
            const answer = await who.call(
              method,
              path,
              method === 'POST' ? { finding: 'justified' } : undefined,
            );
            expect([path, answer.status, answer.body.code]).toEqual([path, 403, 'OVERSIGHT.ONLY']);
          }
        });
        expect(events).toHaveLength(routes.length);
        expect(events.every((e) => e.type === 'AccessDenied' && e.data.reason === 'oversight-only')).toBe(
          true,
        );
        expect(events.every((e) => e.data.principalId === who.principalId)).toBe(true);
      }
      expect((await audit(['AccessReviewed'])).length).toBe(1);
    });

    it.each([
      ['/oversight/access-log?limit=0', 'limit'],
      ['/oversight/access-log?limit=101', 'limit'],
      ['/oversight/access-log?cursor=abc', 'cursor'],
      ['/oversight/access-log?from=yesterday', 'from'],
      ['/oversight/access-log?from=2026-01-01', 'from'],
      ['/oversight/access-log?from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z', 'to'],
      ['/oversight/access-log?subjectId=%3Cx%3E', 'subjectId'],
      ['/oversight/access-log?unknown=1', 'unknown'],
      ['/oversight/denials?agencyId=a%20b', 'agencyId'],
      ['/oversight/break-glass?status=open', 'status'],
      ['/oversight/subjects/bad%20id/consent-history', 'subjectId'],
    ])('answers 400 naming the field for %s', async (path, field) => {
      const answer = await dpa.get<{ code: string; field: string }>(path);
      expect(answer.status).toBe(400);
      expect(answer.body.field).toBe(field);
    });

    it('answers 400 for a bad report format or page size', async () => {
      const format = await ngo.get<{ field: string }>(`/subjects/${subjectId}/access-report?format=pdf`);
      expect([format.status, format.body.field]).toEqual([400, 'format']);
      const limit = await ngo.get<{ field: string }>(`/subjects/${subjectId}/access-report?limit=500`);
      expect([limit.status, limit.body.field]).toEqual([400, 'limit']);
    });
  });
});
