/**
 * The operator with write access to DATA_DIR, as an attacker who read the README and the threat
 * model but not the source. The oversight body kept a signed checkpoint and the log's verifier key
 * outside DATA_DIR (README, "Proving integrity"). The operator then edits the SQLite files with the
 * guards dropped: deletes the tail and appends again (also resetting the high-water mark and
 * letting the ledger rebuild and re-sign its log with the key it holds), swaps two events, edits a
 * consent grant, and edits the read models the API answers from. After each, `ledger export` and
 * `ledger verify` against the kept checkpoint, and the running ledger's /health, are asked.
 * Counts are printed: attacks, detected offline, detected online, undetected.
 */
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import Database from 'better-sqlite3';
import { cpSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runAuditConsole } from '../../apps/ledger-cli/test/audit-console';
import { createApp } from '../../apps/ledger-api/src/bootstrap';
import { loadConfig } from '@nrm/runtime';
import { GENEROUS_RATE_LIMITS, healthDetail, Ledger, Principal, TEST_METRICS_TOKEN } from './harness';

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const DAY_MS = 86_400_000;
const inDays = (days: number) => new Date(Date.now() + days * DAY_MS).toISOString();
const FAST = {
  AUDIT_CHECKPOINT_EVERY: '1',
  AUDIT_CHECKPOINT_INTERVAL_SECONDS: '1',
  AUDIT_INTEGRITY_CHECK_SECONDS: '1',
  AUDIT_REHASH_EVENTS_PER_SECOND: '100000',
  AUDIT_REHASH_PAUSE_SECONDS: '1',
};
const REPORT = { indicators: ['debt-bondage'], exploitationForms: ['labour'], minor: false, region: 'NL-ZH' };
const WRITTEN = { method: 'written', language: 'ro', interpreterUsed: true };

async function boot(dataDir: string, env: Record<string, string> = FAST): Promise<NestFastifyApplication> {
  const app = await createApp(
    loadConfig({
      DATA_DIR: dataDir,
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
      METRICS_TOKEN: TEST_METRICS_TOKEN,
      ...GENEROUS_RATE_LIMITS,
      ...env,
    }),
  );
  await app.listen({ port: 0, host: '127.0.0.1' });
  return app;
}

/** SQL on one of the ledger's files, every trigger (the guards) dropped first. */
function tamper(file: string, sql: string): void {
  const db = new Database(file);
  for (const { name } of db
    .prepare<[], { name: string }>(`SELECT name FROM sqlite_master WHERE type = 'trigger'`)
    .all())
    db.exec(`DROP TRIGGER "${name}"`);
  db.exec(sql);
  db.close();
}

/** The console's audit commands (`npm run ledger -- …`) on a data directory. */
const ledgerCli = runAuditConsole;

describe('an operator with write access to DATA_DIR (e2e)', () => {
  let seed: string;
  let kept: string;
  let clinic: Principal;
  let ngo: Principal;
  let oversight: Principal;
  let police: Principal;
  let caseId: string;
  const tally = { attacks: 0, detectedOffline: 0, detectedOnline: 0, undetected: 0 };
  const lines: string[] = [];
  const dirs: string[] = [];

  const fresh = (): string => {
    const dir = mkdtempSync(join(tmpdir(), 'nrm-oa-op-'));
    cpSync(seed, dir, { recursive: true });
    rmSync(join(dir, 'audit.lease'), { force: true });
    dirs.push(dir);
    return dir;
  };

  beforeAll(async () => {
    // The seed: a ledger with a case, consent, a referral and reads, and the oversight body's kept checkpoint.
    const ledger = await Ledger.boot(FAST);
    clinic = await ledger.principal('health', ['caseworker'], 'op-clinic');
    ngo = await ledger.principal('ngo', ['caseworker'], 'op-ngo');
    police = await ledger.principal('law-enforcement', ['caseworker', 'break-glass'], 'op-police');
    oversight = await ledger.principal('oversight-body', ['oversight'], 'op-dpa');
    caseId = (await clinic.post<{ caseId: string }>('/cases', REPORT)).body.caseId;
    const granted = await clinic.post(`/cases/${caseId}/consents`, {
      agencyIds: [ngo.agencyId],
      categories: ['case-status'],
      purposes: ['assistance'],
      expiresAt: inDays(30),
      capture: WRITTEN,
    });
    expect(granted.status).toBe(201);
    const referral = await clinic.post(`/cases/${caseId}/referrals`, {
      toAgencyId: ngo.agencyId,
      purpose: 'assistance',
      servicesRequested: ['accommodation'],
      urgency: 'urgent',
      respondBy: inDays(2),
      sharedCategories: ['case-status'],
    });
    expect(referral.status).toBe(201);
    expect((await ngo.call('GET', `/cases/${caseId}`, undefined, { 'x-purpose': 'assistance' })).status).toBe(
      200,
    );
    for (let i = 0; i < 4; i++) expect((await clinic.post('/cases', REPORT)).status).toBe(201);
    const head = await ledger.store.headPosition();
    let checkpoint = await oversight.get<{ treeSize: number }>('/audit/checkpoints/latest');
    for (let i = 0; i < 100 && (checkpoint.status !== 200 || checkpoint.body.treeSize < head); i++) {
      await pause(100);
      checkpoint = await oversight.get<{ treeSize: number }>('/audit/checkpoints/latest');
    }
    expect(checkpoint.body.treeSize).toBeGreaterThanOrEqual(head);
    const key = await oversight.get<{ verifierKey: string }>('/audit/public-key');
    kept = mkdtempSync(join(tmpdir(), 'nrm-oa-kept-'));
    writeFileSync(join(kept, 'checkpoint.json'), JSON.stringify(checkpoint.body));
    writeFileSync(join(kept, 'ledger.vkey'), `${key.body.verifierKey}\n`);
    await ledger.app.close();
    seed = ledger.dataDir;
  });

  afterAll(() => {
    console.log(
      `outside-operator: attacks ${tally.attacks}, detected offline ${tally.detectedOffline}, ` +
        `detected online ${tally.detectedOnline}, undetected ${tally.undetected}\n${lines.join('\n')}`,
    );
    for (const dir of [...dirs, seed, kept]) rmSync(dir, { recursive: true, force: true });
  });

  /** export + verify against the kept checkpoint: the finding's kind, or undefined when it verifies. */
  async function verifyOffline(dataDir: string): Promise<string | undefined> {
    const out = join(kept, `log-${readdirSync(kept).length}.ndjson`);
    const exported = await ledgerCli(
      dataDir,
      'export',
      '--from',
      '1',
      '--out',
      out,
      '--purpose',
      'integrity-check',
      '--reason',
      'DPA-2026-0001',
    );
    const verified = await ledgerCli(
      dataDir,
      'verify',
      '--file',
      out,
      '--checkpoint',
      join(kept, 'checkpoint.json'),
      '--public-key',
      join(kept, 'ledger.vkey'),
    );
    if (verified.code === 0 && /"verified":\s*true/.test(verified.out)) return undefined;
    if (process.env.OA_DEBUG) console.log(verified.out, verified.err, exported.out, exported.err);
    const finding = /not verified: ([a-z-]+ at position \d+)/.exec(verified.out + verified.err)?.[1];
    return `${finding ?? 'refused'}${exported.code === 0 ? '' : ' (export finding)'}`;
  }

  /** The running ledger: degraded /health within a few seconds, or undefined. */
  async function online(app: NestFastifyApplication): Promise<string | undefined> {
    const base = await app.getUrl();
    for (const deadline = Date.now() + 6000; Date.now() < deadline; await pause(200)) {
      // The kind and position are detail: the scraper's token shows them.
      type Integrity = { auditIntegrity?: { kind?: string; position?: number } };
      const health = await healthDetail<{ checks?: Integrity; details?: Integrity }>(base);
      if (health.status === 503) {
        const integrity = health.body.checks?.auditIntegrity ?? health.body.details?.auditIntegrity;
        return integrity?.kind ? `${integrity.kind} at position ${integrity.position}` : 'degraded';
      }
    }
    return undefined;
  }

  async function attack(name: string, act: (dataDir: string) => Promise<void>): Promise<void> {
    tally.attacks++;
    const dataDir = fresh();
    await act(dataDir);
    const app = await boot(dataDir);
    // The operator appends after the tampering, through the API, as if nothing happened.
    const again = new Principal(await app.getUrl(), clinic.agencyId, clinic.principalId, clinic.apiKey);
    const append = await again.post('/cases', REPORT);
    const onlineKind = await online(app);
    await app.close();
    const offlineKind = await verifyOffline(dataDir);
    if (offlineKind) tally.detectedOffline++;
    if (onlineKind) tally.detectedOnline++;
    if (!offlineKind && !onlineKind) tally.undetected++;
    lines.push(
      `  ${name}: offline ${offlineKind ?? 'NOT DETECTED'}, online ${onlineKind ?? 'not detected'}, append after it ${append.status}`,
    );
    expect(offlineKind).toBeDefined();
  }

  const events = (dir: string) => join(dir, 'events.sqlite');
  const auditLog = (dir: string) => join(dir, 'audit.sqlite');
  const dropLog = (dir: string) => {
    for (const suffix of ['', '-wal', '-shm']) rmSync(`${auditLog(dir)}${suffix}`, { force: true });
    // The cosignatures and any anchor go with it: the operator wants a fresh log signed with the key it holds.
    for (const suffix of ['', '-wal', '-shm'])
      rmSync(join(dir, `audit-cosignatures.sqlite${suffix}`), { force: true });
  };

  it('deletes the last 3 events, then the ledger appends again', () =>
    attack('tail deleted, then appended', async (dir) => {
      tamper(events(dir), `DELETE FROM events WHERE position > (SELECT max(position) - 3 FROM events)`);
    }));

  it('deletes the tail, resets the high-water mark, and lets the ledger rebuild and re-sign its log', () =>
    attack('tail deleted, mark reset, log rebuilt and re-signed', async (dir) => {
      tamper(
        events(dir),
        `DELETE FROM events WHERE position > (SELECT max(position) - 3 FROM events);
         UPDATE positions_handed_out SET position = (SELECT max(position) FROM events)`,
      );
      dropLog(dir);
    }));

  it('swaps two events in the middle', () =>
    attack('two events swapped', async (dir) => {
      tamper(
        events(dir),
        `CREATE TEMP TABLE pair AS SELECT position FROM events WHERE type = 'PotentialVictimReported' ORDER BY position LIMIT 2 OFFSET 1;
         UPDATE events SET position = -1 WHERE position = (SELECT min(position) FROM pair);
         UPDATE events SET position = (SELECT min(position) FROM pair) WHERE position = (SELECT max(position) FROM pair);
         UPDATE events SET position = (SELECT max(position) FROM pair) WHERE position = -1;`,
      );
    }));

  it('widens a consent grant in place (case-status → also identity, health, exploitation)', () =>
    attack('consent grant widened', async (dir) => {
      tamper(
        events(dir),
        `UPDATE events SET data = replace(data, '"categories":["case-status"]', '"categories":["case-status","identity","health","exploitation"]')
         WHERE type = 'ConsentGranted'`,
      );
    }));

  it('widens a consent grant and rebuilds the log, re-signed with the key in DATA_DIR', () =>
    attack('consent grant widened, log rebuilt and re-signed', async (dir) => {
      tamper(
        events(dir),
        `UPDATE events SET data = replace(data, '"categories":["case-status"]', '"categories":["case-status","identity","health","exploitation"]')
         WHERE type = 'ConsentGranted'`,
      );
      dropLog(dir);
    }));

  it('with the kept checkpoint as anchor, a store and log rewritten and re-signed are refused at start', async () => {
    tally.attacks++;
    const dataDir = fresh();
    tamper(
      events(dataDir),
      `UPDATE events SET data = replace(data, '"categories":["case-status"]', '"categories":["case-status","identity","health","exploitation"]')
       WHERE type = 'ConsentGranted'`,
    );
    dropLog(dataDir);
    let refusedAt = 'boot refused';
    try {
      const app = await boot(dataDir, {
        ...FAST,
        AUDIT_ANCHOR_CHECKPOINT_FILE: join(kept, 'checkpoint.json'),
      });
      const again = new Principal(await app.getUrl(), clinic.agencyId, clinic.principalId, clinic.apiKey);
      const append = await again.post('/cases', REPORT);
      const kind = await online(app);
      await app.close();
      refusedAt = `health ${kind ?? 'ok'}, append ${append.status}`;
      expect(kind).toBeDefined();
      expect(append.status).toBe(503);
    } catch (error) {
      if (refusedAt !== 'boot refused') throw error;
    }
    tally.detectedOnline++;
    lines.push(`  consent widened, log rebuilt, anchor set: ${refusedAt}`);
  });

  it('deletes a read of the case (RecordAccessed) from the middle', () =>
    attack('access event deleted', async (dir) => {
      tamper(
        events(dir),
        `DELETE FROM events WHERE position = (SELECT min(position) FROM events WHERE type = 'RecordAccessed')`,
      );
    }));

  /**
   * FINDING (fixed: read models are checked against a rebuild, libs/projections/src/verify): the oversight body's queue of break-glass reads, its access log and the
   * subject's access report are answered from `read-models.sqlite`, which no integrity check covers.
   * An operator who deletes the row of a break-glass read from `access_log` hides it from the review
   * queue and from the subject's report, with /health `ok`, `ledger verify` passing (the events are
   * intact) and no finding anywhere. Correct behaviour: a read model that lost an audit event is noticed
   * (and the queue answers from what the store holds), as the audit log notices a changed store.
   */
  it('cannot hide a break-glass read from oversight by deleting its read-model row (read models are verified)', async () => {
    tally.attacks++;
    const dataDir = fresh();
    let app = await boot(dataDir);
    const base = await app.getUrl();
    const cop = new Principal(base, police.agencyId, police.principalId, police.apiKey);
    const dpa = new Principal(base, oversight.agencyId, oversight.principalId, oversight.apiKey);
    const clin = new Principal(base, clinic.agencyId, clinic.principalId, clinic.apiKey);
    const r = await clin.post<{ referralId: string }>(`/cases/${caseId}/referrals`, {
      toAgencyId: police.agencyId,
      purpose: 'protection',
      servicesRequested: [],
      urgency: 'urgent',
      respondBy: inDays(2),
      sharedCategories: [],
    });
    expect(r.status).toBe(201);
    const glass = await cop.post(`/cases/${caseId}/break-glass-reads`, {
      justification: 'Person reported missing from the shelter; imminent danger, location needed now.',
      purpose: 'protection',
    });
    expect(glass.status).toBe(200);
    // The queue's length, or -1 when the ledger refuses to answer from a read model found tampered.
    const queue = async () => {
      const answer = await dpa.get<{ entries?: unknown[] }>('/oversight/break-glass?status=pending');
      return answer.status === 200 ? (answer.body.entries?.length ?? 0) : -1;
    };
    expect(await queue()).toBe(1);
    tamper(join(dataDir, 'read-models.sqlite'), `DELETE FROM access_log WHERE type = 'BreakGlassAccessUsed'`);
    const hidden = await queue();
    const health = await online(app);
    await app.close();
    const offline = await verifyOffline(dataDir);
    app = await boot(dataDir);
    const restarted = await new Principal(
      await app.getUrl(),
      oversight.agencyId,
      oversight.principalId,
      oversight.apiKey,
    ).get<{ entries?: unknown[] }>('/oversight/break-glass?status=pending');
    const afterRestart = restarted.status === 200 ? (restarted.body.entries?.length ?? 0) : -1;
    await app.close();
    // Online: refused at once and after a restart, health degraded. Offline, `ledger verify` checks
    // the events and the log only; `ledger verify-read-models` catches this (read-model-tamper e2e).
    const detected = hidden !== 0 && health !== undefined && afterRestart !== 0;
    if (!detected) tally.undetected++;
    else tally.detectedOnline++;
    lines.push(
      `  break-glass row deleted from read-models.sqlite: queue ${hidden} (was 1), health ${health ?? 'ok'}, ` +
        `verify ${offline ?? 'verified'}, queue after restart ${afterRestart}`,
    );
    expect(detected).toBe(true);
  });

  /**
   * FINDING (fixed, same root as the one above): the party check reads the case directory in
   * `read-models.sqlite`. An operator who adds a `case_parties` row makes an agency party to a case
   * nobody referred to it: a consent recorded for it in advance (say, before a planned referral) then
   * opens the case to it, with /health ok and `ledger verify` passing. Correct behaviour: a party
   * relation with no event behind it opens nothing (the directory is checked against the store, or
   * rebuilt when it diverges).
   */
  it('cannot make an agency party to a case by a row in the case directory', async () => {
    tally.attacks++;
    const dataDir = fresh();
    let app = await boot(dataDir);
    const base = await app.getUrl();
    const clin = new Principal(base, clinic.agencyId, clinic.principalId, clinic.apiKey);
    const cop = new Principal(base, police.agencyId, police.principalId, police.apiKey);
    const fresh2 = await clin.post<{ caseId: string }>('/cases', REPORT);
    const c = fresh2.body.caseId;
    expect(
      (
        await clin.post(`/cases/${c}/consents`, {
          agencyIds: [police.agencyId],
          categories: ['case-status'],
          purposes: ['protection'],
          expiresAt: inDays(30),
          capture: WRITTEN,
        })
      ).status,
    ).toBe(201);
    const before = (await cop.call('GET', `/cases/${c}`, undefined, { 'x-purpose': 'protection' })).status;
    tamper(
      join(dataDir, 'read-models.sqlite'),
      `INSERT INTO case_parties (case_id, agency_id, relation, since) VALUES ('${c}', '${police.agencyId}', 'referral-receiver', '${new Date().toISOString()}')`,
    );
    const after = (await cop.call('GET', `/cases/${c}`, undefined, { 'x-purpose': 'protection' })).status;
    const health = await online(app);
    await app.close();
    const offline = await verifyOffline(dataDir);
    app = await boot(dataDir);
    await app.close();
    lines.push(
      `  party row added to read-models.sqlite: read before ${before}, after ${after}, health ${health ?? 'ok'}, verify ${offline ?? 'verified'}`,
    );
    if (after === 200 && !health && !offline) tally.undetected++;
    else tally.detectedOnline++;
    // Refused either way: as a non-party (404) or as a read model found tampered (503).
    expect([404, 503]).toContain(after);
    expect(health).toBeDefined();
  });
});
