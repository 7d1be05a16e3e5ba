/**
 * Free text recorded on a subject's case outside `identity` (a break-glass justification, a lawful
 * basis's justification) is sealed under the subject's key, as identity is: a caseworker who names
 * the person there does not leave the name readable after the erasure. Before the erasure the
 * oversight body and the subject access report read the text as written; after it, every API
 * answer shows `{ "erased": true }` in its place, and no file of DATA_DIR (events, read models,
 * audit log) nor an export holds it (searched as UTF-8, UTF-16LE and base64). Counts are printed.
 */
import { Command } from 'commander';
import { readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { registerAuditCommands, type ConsoleIo } from '../../apps/ledger-cli/src/audit-commands';
import { Ledger, type Principal } from './harness';

const DAY_MS = 86_400_000;
const inDays = (days: number) => new Date(Date.now() + days * DAY_MS).toISOString();
const CANARY = 'Velmora Dashkintree';
const GLASS = `${CANARY} was reported missing from the shelter today; her location is needed now.`;
const BASIS = `Court order 2026/118 for ${CANARY}: the shelter must share her case status.`;
const needles = [CANARY].flatMap((s) => [
  Buffer.from(s, 'utf8'),
  Buffer.from(s, 'utf16le'),
  Buffer.from(Buffer.from(s, 'utf8').toString('base64').slice(0, 20), 'utf8'),
]);
const occurrences = (text: string) => text.split(CANARY).length - 1;

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

async function exportLog(dataDir: string, out: string): Promise<void> {
  const io: ConsoleIo = {
    out: () => undefined,
    err: () => undefined,
    setExitCode: () => undefined,
    exitNow: (code) => {
      throw new Error(`exit ${code}`);
    },
    progress: false,
  };
  const cli = new Command('ledger').exitOverride();
  registerAuditCommands(cli, () => dataDir, io);
  await cli.parseAsync(
    [
      'export',
      '--from',
      '1',
      '--out',
      out,
      '--purpose',
      'subject-access-request',
      '--reason',
      'DPA-2026-0778',
    ],
    { from: 'user' },
  );
}

describe('free text about the person outside identity is erased with it (e2e)', () => {
  let ledger: Ledger;
  let clinic: Principal;
  let shelter: Principal;
  let police: Principal;
  let oversight: Principal;
  let caseId: string;
  let subjectId: string;

  /** Every API answer that shows a justification, as text. */
  const answers = async (): Promise<Array<[string, number, string]>> => {
    const places: Array<[string, Promise<{ status: number; body: unknown }>]> = [
      ['break-glass queue', oversight.get('/oversight/break-glass')],
      ['access log', oversight.get(`/oversight/access-log?subjectId=${subjectId}`)],
      ['access attempts', oversight.get(`/oversight/access-attempts?caseId=${caseId}`)],
      ['consent history', oversight.get(`/oversight/subjects/${subjectId}/consent-history`)],
      ['access report', clinic.get(`/subjects/${subjectId}/access-report`)],
    ];
    const out: Array<[string, number, string]> = [];
    for (const [place, answer] of places) {
      const a = await answer;
      out.push([place, a.status, JSON.stringify(a.body)]);
    }
    const html = await fetch(`${ledger.base}/subjects/${subjectId}/access-report?format=html`, {
      headers: { authorization: `Bearer ${clinic.apiKey}` },
    });
    out.push(['access report html', html.status, await html.text()]);
    return out;
  };

  beforeAll(async () => {
    ledger = await Ledger.boot();
    clinic = await ledger.principal('health', ['caseworker'], 'ft-clinic');
    shelter = await ledger.principal('ngo', ['caseworker'], 'ft-shelter');
    police = await ledger.principal('law-enforcement', ['caseworker', 'break-glass'], 'ft-police');
    oversight = await ledger.principal('oversight-body', ['oversight'], 'ft-dpa');
    const report = await clinic.post<{ caseId: string; subjectId: string }>('/cases', {
      indicators: ['debt-bondage'],
      exploitationForms: ['labour'],
      minor: false,
      region: 'NL-ZH',
      identity: { fullName: 'Another Invented Person' },
    });
    expect(report.status).toBe(201);
    ({ caseId, subjectId } = report.body);
    const referral = await clinic.post(`/cases/${caseId}/referrals`, {
      toAgencyId: police.agencyId,
      purpose: 'protection',
      servicesRequested: [],
      urgency: 'urgent',
      respondBy: inDays(2),
      sharedCategories: [],
    });
    expect(referral.status).toBe(201);
    const basis = await clinic.post(`/cases/${caseId}/lawful-bases`, {
      agencyIds: [shelter.agencyId],
      categories: ['case-status'],
      purposes: ['assistance'],
      basis: 'court-order',
      justification: BASIS,
    });
    expect(basis.status).toBe(201);
    const glass = await police.post(`/cases/${caseId}/break-glass-reads`, {
      justification: GLASS,
      purpose: 'protection',
    });
    expect(glass.status).toBe(200);
  });

  afterAll(() => ledger.close());

  it('is read as written before the erasure, and nowhere after it: API, files, export', async () => {
    const before = await answers();
    for (const [place, status] of before) expect([place, status]).toEqual([place, 200]);
    const seenBefore = Object.fromEntries(before.map(([place, , text]) => [place, occurrences(text)]));
    console.log(`erasure-free-text: canary occurrences before the erasure ${JSON.stringify(seenBefore)}`);
    expect(seenBefore['break-glass queue']).toBeGreaterThanOrEqual(1);
    expect(seenBefore['access report']).toBe(1);
    expect(seenBefore['access report html']).toBe(1);
    expect(seenBefore['consent history']).toBe(1);
    const queue = JSON.parse(before[0]![2]) as {
      entries: Array<{ caseId?: string; justification?: unknown }>;
    };
    expect(queue.entries.find((e) => e.caseId === caseId)?.justification).toBe(GLASS);
    // The events hold the text sealed, never in clear.
    let clearEvents = 0;
    for await (const e of ledger.store.readAll()) if (JSON.stringify(e.data).includes(CANARY)) clearEvents++;
    expect(clearEvents).toBe(0);

    const erased = await oversight.post(`/subjects/${subjectId}/erasure`, {
      ground: 'subject-request',
      reference: 'NGO-2026-778',
    });
    expect(erased.status).toBe(200);

    const after = await answers();
    for (const [place, status] of after) expect([place, status]).toEqual([place, 200]);
    const seenAfter = Object.fromEntries(after.map(([place, , text]) => [place, occurrences(text)]));
    const queueAfter = JSON.parse(after[0]![2]) as {
      entries: Array<{ caseId?: string; justification?: unknown }>;
    };
    expect(queueAfter.entries.find((e) => e.caseId === caseId)?.justification).toEqual({ erased: true });
    const history = JSON.parse(after[3]![2]) as { entries: Array<{ type: string; justification?: unknown }> };
    expect(history.entries.find((e) => e.type === 'LawfulBasisRecorded')?.justification).toEqual({
      erased: true,
    });
    const reportAfter = JSON.parse(after[4]![2]) as {
      accesses: Array<{ breakGlass?: { justification: unknown } }>;
    };
    expect(reportAfter.accesses.find((a) => a.breakGlass)?.breakGlass?.justification).toEqual({
      erased: true,
    });

    const exportFile = join(ledger.dataDir, 'export-after-erasure.ndjson');
    await exportLog(ledger.dataDir, exportFile);
    const files = filesUnder(ledger.dataDir);
    expect(files).toContain(exportFile);
    const filesHolding = files
      .filter((file) => needles.some((n) => readFileSync(file).includes(n)))
      .map((file) => file.slice(ledger.dataDir.length + 1));
    rmSync(exportFile, { force: true });
    console.log(
      `erasure-free-text: canary occurrences after the erasure ${JSON.stringify(seenAfter)}; ` +
        `files searched ${files.length}, holding it ${filesHolding.length}${filesHolding.length ? ` (${filesHolding.join(', ')})` : ''}`,
    );
    expect(Object.values(seenAfter).reduce((a, b) => a + b, 0)).toBe(0);
    expect(filesHolding).toEqual([]);
  });
});
