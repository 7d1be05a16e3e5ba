/**
 * The read models against an operator with write access to DATA_DIR (THREAT-MODEL L9). The oversight
 * body's break-glass queue, the access log, the subject's access report and every party check answer
 * from `read-models.sqlite`; the audit log covers the events, not that file. Each attack edits it,
 * while the ledger runs or while it is stopped; then the running ledger (/health and the queries) and
 * `ledger verify-read-models` (offline) are asked. Counts are printed: kinds tried, detected offline,
 * detected online, undetected; and the check's cost on a store of ~100k events.
 */
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Command } from 'commander';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { SqliteEventStore, type NewEvent } from '@nrm/event-store';
import { currentSeal, Projector, SqliteReadModelStore, verifyReadModels } from '@nrm/projections';
import { PROJECTIONS } from '@nrm/runtime';
import type { ConsoleIo } from '../../apps/ledger-cli/src/audit-commands';
import { registerReadModelCommands } from '../../apps/ledger-cli/src/read-model-commands';
import {
  bootOn,
  copyOf,
  healthDetail,
  inDays,
  JUSTIFICATION,
  Ledger,
  pause,
  PLAIN_REPORT,
  referralBody,
  scrape,
  tamper as tamperFile,
  TEST_METRICS_TOKEN,
  WRITTEN,
  type Principal,
} from './harness';

const CHECK_EVERY_SECOND = { READ_MODEL_CHECK_SECONDS: '1' };

/** A ledger on a copied data directory, the read models checked every second. */
const boot = (dataDir: string) =>
  bootOn(dataDir, { METRICS_TOKEN: TEST_METRICS_TOKEN, ...CHECK_EVERY_SECOND });

/** SQL on the read-model file, every trigger dropped first (as the outside attacker does). */
const tamper = (dataDir: string, sql: string) => tamperFile(join(dataDir, 'read-models.sqlite'), sql);

/** `ledger verify-read-models` on a data directory. */
async function verifyOffline(dataDir: string): Promise<{ code: number; out: string; err: string }> {
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
  registerReadModelCommands(cli, () => dataDir, io);
  await cli.parseAsync(['verify-read-models'], { from: 'user' });
  return result;
}

type Integrity = { readModelIntegrity?: { kind?: string; tables?: Array<{ table: string }> } };

/** /health within `ms`: the diverged tables when 503 with a read-model finding, undefined while 200. */
async function healthFinding(app: NestFastifyApplication, ms = 6000): Promise<string[] | undefined> {
  const base = await app.getUrl();
  for (const deadline = Date.now() + ms; ; await pause(200)) {
    // The tables are detail: the scraper's token shows them (anyone else gets the status only).
    const health = await healthDetail<{ checks?: Integrity }>(base);
    if (health.status === 503) {
      // A problem+json answer: the indicators under `checks`.
      const body = health.body;
      const finding = body.checks?.readModelIntegrity;
      if (finding?.kind === 'read-model-diverged') return (finding.tables ?? []).map((t) => t.table);
    }
    if (Date.now() >= deadline) return undefined;
  }
}

/** What `ledger rebuild` does, on a stopped ledger's files. */
async function rebuild(dataDir: string): Promise<void> {
  const store = new SqliteEventStore({ filename: join(dataDir, 'events.sqlite') });
  const readModels = new SqliteReadModelStore(join(dataDir, 'read-models.sqlite'));
  const projector = new Projector({ store, readModels, projections: PROJECTIONS });
  try {
    for (const { name } of PROJECTIONS) await projector.rebuild(name);
  } finally {
    await projector.close();
    await readModels.close();
    await store.close();
  }
}

describe('read models tampered with by an operator with write access to DATA_DIR (e2e)', () => {
  let seed: string;
  let clinic: Principal;
  let police: Principal;
  let oversight: Principal;
  /** A case the police are not party to, with a consent recorded for them in advance. */
  let foreignCase: string;
  const tally = { kinds: 0, detectedOffline: 0, detectedOnline: 0, undetected: 0 };
  const lines: string[] = [];
  const dirs: string[] = [];

  const fresh = (): string => {
    const dir = copyOf(seed, 'nrm-rm-tamper-');
    dirs.push(dir);
    return dir;
  };
  const queue = async (base: string) => {
    const answer = await oversight
      .at(base)
      .get<{ entries?: unknown[] }>('/oversight/break-glass?status=pending');
    return answer.status === 200 ? String(answer.body.entries?.length) : `refused ${answer.status}`;
  };
  const record = (
    kind: string,
    offline: { code: number; err: string },
    online: string[] | undefined,
    more: string,
  ) => {
    tally.kinds++;
    if (offline.code === 1) tally.detectedOffline++;
    if (online) tally.detectedOnline++;
    if (offline.code !== 1 && !online) tally.undetected++;
    lines.push(
      `  ${kind}: offline ${offline.code === 1 ? offline.err.trim().replace(/^ledger: /, '') : 'NOT DETECTED'}; ` +
        `online ${online ? `health 503 (${online.join(', ')})` : 'NOT DETECTED'}; ${more}`,
    );
  };

  beforeAll(async () => {
    const ledger = await Ledger.boot(CHECK_EVERY_SECOND);
    clinic = await ledger.principal('health', ['caseworker'], 'rm-clinic');
    police = await ledger.principal('law-enforcement', ['caseworker', 'break-glass'], 'rm-police');
    oversight = await ledger.principal('oversight-body', ['oversight'], 'rm-dpa');
    const caseId = (await clinic.post<{ caseId: string }>('/cases', PLAIN_REPORT)).body.caseId;
    const referral = await clinic.post(
      `/cases/${caseId}/referrals`,
      referralBody(police.agencyId, 'protection'),
    );
    expect(referral.status).toBe(201);
    const glass = await police.post(`/cases/${caseId}/break-glass-reads`, {
      justification: JUSTIFICATION,
      purpose: 'protection',
    });
    expect(glass.status).toBe(200);
    foreignCase = (await clinic.post<{ caseId: string }>('/cases', PLAIN_REPORT)).body.caseId;
    const consent = await clinic.post(`/cases/${foreignCase}/consents`, {
      agencyIds: [police.agencyId],
      categories: ['case-status'],
      purposes: ['protection'],
      expiresAt: inDays(30),
      capture: WRITTEN,
    });
    expect(consent.status).toBe(201);
    expect(await queue(ledger.base)).toBe('1');
    await ledger.app.close();
    seed = ledger.dataDir;
  });

  afterAll(() => {
    console.log(
      `read-model tampering: kinds ${tally.kinds}, detected offline ${tally.detectedOffline}, ` +
        `detected online ${tally.detectedOnline}, undetected ${tally.undetected}\n${lines.join('\n')}`,
    );
    for (const dir of [...dirs, seed]) rmSync(dir, { recursive: true, force: true });
  });

  it('finds untouched read models equal to their rebuild: health 200, verify exit 0', async () => {
    const dir = fresh();
    const app = await boot(dir);
    try {
      expect(await healthFinding(app, 1500)).toBeUndefined();
      expect((await fetch(`${await app.getUrl()}/health`)).status).toBe(200);
      expect(await queue(await app.getUrl())).toBe('1');
    } finally {
      await app.close();
    }
    const offline = await verifyOffline(dir);
    expect(offline).toMatchObject({ code: 0, err: '' });
    expect(JSON.parse(offline.out)).toMatchObject({ verified: true, divergences: [] });
  });

  it('a break-glass read deleted from the access log while the ledger runs: the queue is refused, not emptied', async () => {
    const dir = fresh();
    let app = await boot(dir);
    tamper(dir, `DELETE FROM access_log WHERE type = 'BreakGlassAccessUsed'`);
    // The very next query: the file was written by someone other than the projector.
    const queueAtOnce = await queue(await app.getUrl());
    const online = await healthFinding(app);
    const queueThen = await queue(await app.getUrl());
    const report = await oversight.at(await app.getUrl()).get('/oversight/access-log');
    await app.close();
    const offline = await verifyOffline(dir);
    // A restart does not wash it out: the check at start finds it before the ledger serves.
    app = await boot(dir);
    const atRestart = await healthFinding(app, 0);
    const queueAtRestart = await queue(await app.getUrl());
    await app.close();
    // The operator's way back: `ledger rebuild` on the stopped ledger; the queue holds the read again.
    await rebuild(dir);
    app = await boot(dir);
    const healthAfter = (await fetch(`${await app.getUrl()}/health`)).status;
    const queueAfter = await queue(await app.getUrl());
    await app.close();
    record(
      'break-glass row deleted (running)',
      offline,
      online,
      `queue at once ${queueAtOnce}, after detection ${queueThen}, access log ${report.status}; at restart health ${atRestart ? '503' : '200'}, queue ${queueAtRestart}; ` +
        `after rebuild health ${healthAfter}, queue ${queueAfter}`,
    );
    expect(online).toContain('access_log');
    expect(queueAtOnce).toBe('refused 503');
    expect(queueThen).toBe('refused 503');
    expect(report.status).toBe(503);
    expect(offline.code).toBe(1);
    expect(offline.err).toMatch(/access_log: 1 missing, 0 unjustified/);
    expect(JSON.parse(offline.out)).toMatchObject({
      verified: false,
      divergences: [{ table: 'access_log', missing: 1, unjustified: 0 }],
    });
    expect(atRestart).toContain('access_log');
    expect(queueAtRestart).toBe('refused 503');
    expect([healthAfter, queueAfter]).toEqual([200, '1']);
  });

  it('a party row added to the case directory while the ledger runs: the case does not open', async () => {
    const dir = fresh();
    const app = await boot(dir);
    const cop = police.at(await app.getUrl());
    const read = async () =>
      (await cop.call('GET', `/cases/${foreignCase}`, undefined, { 'x-purpose': 'protection' })).status;
    const before = await read();
    tamper(
      dir,
      `INSERT INTO case_parties (case_id, agency_id, relation, since)
       VALUES ('${foreignCase}', '${police.agencyId}', 'referral-receiver', '${new Date().toISOString()}')`,
    );
    const atOnce = await read();
    const online = await healthFinding(app);
    const after = await read();
    const metrics = await scrape(await app.getUrl());
    await app.close();
    const offline = await verifyOffline(dir);
    record(
      'party row added (running)',
      offline,
      online,
      `police read before ${before}, at once ${atOnce}, after detection ${after}`,
    );
    expect(before).toBe(404);
    expect(atOnce).toBe(503);
    expect(online).toEqual(['case_parties']);
    expect(after).toBe(503);
    expect(metrics).toMatch(/^nrm_read_model_divergence\{table="case_parties"\} 1$/m);
    expect(metrics).toMatch(/^nrm_read_model_checks_total\{result="diverged"\} [1-9]/m);
    expect(JSON.parse(offline.out)).toMatchObject({
      verified: false,
      divergences: [{ table: 'case_parties', missing: 0, unjustified: 1 }],
    });
  });

  it.each([
    ['referral row deleted (stopped)', 'DELETE FROM referral_docs', 'referral_docs'],
    [
      'a read re-attributed to another agency (stopped)',
      `UPDATE access_log SET agency_id = 'rm-someone-else' WHERE type = 'RecordAccessed'`,
      'access_log',
    ],
    [
      'subject index of the access report emptied (stopped)',
      'DELETE FROM access_log_subject_cases',
      'access_log_subject_cases',
    ],
    ['a table dropped (stopped)', 'DROP TABLE case_parties', 'case_parties'],
  ])('%s: found by the check at start, before the ledger serves', async (kind, sql, table) => {
    const dir = fresh();
    tamper(dir, sql);
    const offline = await verifyOffline(dir);
    const app = await boot(dir);
    const online = await healthFinding(app, 0);
    const mine = await clinic.at(await app.getUrl()).get('/cases?limit=5');
    await app.close();
    record(kind, offline, online, `clinic's case list ${mine.status}`);
    expect(offline.code).toBe(1);
    expect(online).toContain(table);
    expect(mine.status).toBe(503);
  });

  it('a clean close seals the file: the next start serves at once; an edit while stopped breaks the seal; a row forged under a rewritten seal is found by the background check', async () => {
    const dir = fresh();
    const seal = join(dir, 'read-models.sqlite.seal.json');
    let app = await boot(dir); // a copied directory carries no valid seal: checked before serving
    await app.close();
    const sealedAtClose = existsSync(seal);
    // Edited while stopped: the seal no longer names the file, so the start checks before it serves.
    tamper(dir, 'DELETE FROM referral_docs');
    app = await boot(dir);
    const editedAtStart = await healthFinding(app, 0);
    await app.close();
    const sealedAfterFinding = existsSync(seal);
    // Put right (`ledger rebuild`), started (checked), closed clean: sealed again.
    await rebuild(dir);
    app = await boot(dir);
    await app.close();
    // The forger who also rewrites the seal: a party row in the region the seal vouched for.
    tamper(
      dir,
      `INSERT INTO case_parties (case_id, agency_id, relation, since)
       VALUES ('${foreignCase}', '${police.agencyId}', 'referral-receiver', '${new Date().toISOString()}')`,
    );
    writeFileSync(seal, `${JSON.stringify(currentSeal(join(dir, 'read-models.sqlite')))}\n`);
    app = await boot(dir);
    const servedAtStart = (await fetch(`${await app.getUrl()}/health`)).status;
    const online = await healthFinding(app);
    const cop = police.at(await app.getUrl());
    const after = (await cop.call('GET', `/cases/${foreignCase}`, undefined, { 'x-purpose': 'protection' }))
      .status;
    await app.close();
    const resealed = existsSync(seal);
    const offline = await verifyOffline(dir);
    record(
      'party row forged under a rewritten seal (stopped)',
      offline,
      online,
      `sealed at close ${sealedAtClose}; edit without the seal found at start ${editedAtStart ? 'yes' : 'no'}; ` +
        `forged seal: health at start ${servedAtStart}, police read after the background check ${after}, sealed at close ${resealed}`,
    );
    expect(sealedAtClose).toBe(true);
    expect(editedAtStart).toContain('referral_docs');
    expect(sealedAfterFinding).toBe(false);
    expect(online).toEqual(['case_parties']);
    expect(after).toBe(503);
    expect(resealed).toBe(false);
    expect(offline.code).toBe(1);
  });

  it('costs a bounded time on a store of ~100k events (figures printed)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nrm-rm-cost-'));
    dirs.push(dir);
    const store = new SqliteEventStore({ filename: join(dir, 'events.sqlite'), synchronous: 'NORMAL' });
    const readModels = new SqliteReadModelStore(join(dir, 'read-models.sqlite'));
    try {
      const seeded = Date.now();
      const head = await seedStore(store, Number(process.env.READ_MODEL_COST_CASES ?? 8400));
      const seedSeconds = (Date.now() - seeded) / 1000;
      const projector = new Projector({ store, readModels, projections: PROJECTIONS });
      const projected = Date.now();
      await projector.start();
      expect(await projector.waitFor(head, 600_000)).toBe(true);
      const projectSeconds = (Date.now() - projected) / 1000;
      await projector.close();
      const stall = monitorEventLoopDelay({ resolution: 10 });
      stall.enable();
      const cpu = process.cpuUsage();
      const result = await verifyReadModels({
        store,
        readModelFile: join(dir, 'read-models.sqlite'),
        projections: PROJECTIONS,
        batchSize: 128,
      });
      const used = process.cpuUsage(cpu);
      stall.disable();
      expect(result.ok).toBe(true);
      expect(result.eventsReplayed).toBe(head);
      console.log(
        `read-model check cost: ${head} events (seeded in ${seedSeconds.toFixed(1)} s, projected live in ${projectSeconds.toFixed(1)} s); ` +
          `check ${result.seconds.toFixed(2)} s wall, ${((used.user + used.system) / 1e6).toFixed(2)} s CPU, ` +
          `${Math.round(head / result.seconds)} events/s, ${result.tables} tables, ${result.rows} rows compared; ` +
          `longest event-loop stall ${(stall.max / 1e6).toFixed(1)} ms (p99 ${(stall.percentile(99) / 1e6).toFixed(1)} ms)`,
      );
    } finally {
      await readModels.close();
      await store.close();
    }
  }, 900_000);
});

function event(type: string, data: Record<string, unknown>, at: string): NewEvent {
  return {
    id: randomUUID(),
    type,
    schemaVersion: 1,
    data: data as NewEvent['data'],
    metadata: { correlationId: randomUUID(), principalId: 'cost', agencyId: 'cost', occurredAt: at },
  };
}

/** Invented cases, each: a report, an assessment, a referral through to handoff, support, and reads (12 events). */
async function seedStore(store: SqliteEventStore, cases: number): Promise<number> {
  const at = '2026-11-30T10:00:00.000Z';
  for (let i = 0; i < cases; i++) {
    const caseId = randomUUID();
    const subjectId = randomUUID();
    const referralId = randomUUID();
    await store.append(
      `identification-${caseId}`,
      [
        event(
          'PotentialVictimReported',
          {
            caseId,
            subjectId,
            reportedByAgencyId: 'clinic',
            reportedByAgencyKind: 'health',
            indicators: ['debt-bondage', 'withheld-documents'],
            exploitationForms: ['labour'],
            minor: false,
            region: 'NL-ZH',
            reportedAt: at,
          },
          at,
        ),
        event(
          'IndicatorsAssessed',
          {
            caseId,
            outcome: 'indicators-present',
            indicatorsConfirmed: ['debt-bondage'],
            exploitationForms: ['labour'],
            assessedByAgencyId: 'clinic',
            assessedAt: at,
          },
          at,
        ),
      ],
      { expectedRevision: 'no-stream' },
    );
    await store.append(
      `referral-${referralId}`,
      [
        event(
          'ReferralMade',
          {
            referralId,
            caseId,
            fromAgencyId: 'clinic',
            fromAgencyKind: 'health',
            toAgencyId: 'ngo',
            toAgencyKind: 'ngo',
            transnational: false,
            purpose: 'assistance',
            servicesRequested: ['accommodation'],
            urgency: 'urgent',
            respondBy: at,
            sharedCategories: ['case-status'],
            madeByPrincipalId: 'p',
            madeAt: at,
          },
          at,
        ),
        event('ReferralAcknowledged', { referralId, caseId, byAgencyId: 'ngo', acknowledgedAt: at }, at),
        event('ReferralAccepted', { referralId, caseId, byAgencyId: 'ngo', acceptedAt: at }, at),
        event('HandoffCompleted', { referralId, caseId, byAgencyId: 'ngo', completedAt: at }, at),
      ],
      { expectedRevision: 'no-stream' },
    );
    await store.append(
      `access-${caseId}`,
      Array.from({ length: 6 }, (_, n) =>
        event(
          'RecordAccessed',
          {
            principalId: 'p-ngo',
            agencyId: 'ngo',
            agencyKind: 'ngo',
            caseId,
            subjectId,
            view: 'case',
            purpose: 'assistance',
            categories: [{ category: 'case-status', basis: 'consent', consentId: 'c-1' }],
            requestId: `r-${i}-${n}`,
            accessedAt: at,
          },
          at,
        ),
      ),
      { expectedRevision: 'no-stream' },
    );
  }
  return store.headPosition();
}
