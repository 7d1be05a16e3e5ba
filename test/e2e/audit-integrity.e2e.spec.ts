import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp } from '../../apps/ledger-api/src/bootstrap';
import { loadConfig } from '@nrm/runtime';
import type { Worker } from 'node:worker_threads';
import type { AuditLogThread } from '../../apps/ledger-api/src/audit/audit-log-thread-client';
import { AUDIT_LOG_THREAD } from '../../apps/ledger-api/src/audit/audit.module';
import { healthDetail, Ledger, Principal, scrape, TEST_METRICS_TOKEN } from './harness';

interface Check {
  status: string;
  kind?: string;
  position?: number;
  appends?: string;
  detail?: string;
}
interface Health {
  status: string;
  details?: Record<string, Check>;
  checks?: Record<string, Check>;
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const FAST = {
  AUDIT_CHECKPOINT_EVERY: '1',
  AUDIT_CHECKPOINT_INTERVAL_SECONDS: '1',
  AUDIT_INTEGRITY_CHECK_SECONDS: '1',
  AUDIT_REHASH_EVENTS_PER_SECOND: '100000',
  AUDIT_REHASH_PAUSE_SECONDS: '1',
};

async function restart(dataDir: string): Promise<NestFastifyApplication> {
  const app = await createApp(
    loadConfig({
      DATA_DIR: dataDir,
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
      METRICS_TOKEN: TEST_METRICS_TOKEN,
      ...FAST,
    }),
  );
  await app.listen({ port: 0, host: '127.0.0.1' });
  return app;
}

/** The operator with file access: SQL on the event store's file, its guards dropped first. */
function tamper(dataDir: string, sql: string): void {
  const db = new Database(join(dataDir, 'events.sqlite'));
  db.exec(
    `DROP TRIGGER IF EXISTS events_are_immutable_delete; DROP TRIGGER IF EXISTS events_are_immutable_update;`,
  );
  db.exec(sql);
  db.close();
}

/**
 * The running ledger notices the store diverging from its audit log: a deleted
 * tail and a changed byte turn /health degraded with the kind and position,
 * the metrics say so, and appends are refused (503) so that no position is
 * handed out again; a restart after restoring the store resumes.
 */
describe('audit integrity of the running ledger (e2e)', () => {
  let ledger: Ledger;
  let clinic: Principal;
  const tally = { attacks: 0, healthDegraded: 0, appendsRefused: 0, localised: 0, threadDeaths: 0 };

  const report = (who: Principal) =>
    who.post<{ position: number; caseId: string; code?: string; detail?: string }>('/cases', {
      indicators: ['debt-bondage'],
      exploitationForms: ['labour'],
      minor: false,
      region: 'NL-ZH',
    });

  // The detail (kind, position) goes to the scraper's token only; the status to anyone.
  async function degraded(base: string, seconds = 10): Promise<Health> {
    for (const deadline = Date.now() + seconds * 1000; Date.now() < deadline; await pause(100)) {
      const health = await healthDetail<Health>(base);
      if (health.status === 503) return health.body;
    }
    throw new Error('/health never degraded');
  }

  const integrityOf = (health: Health) => (health.details ?? health.checks ?? {}).auditIntegrity;

  beforeEach(async () => {
    ledger = await Ledger.boot(FAST);
    clinic = await ledger.principal('health', ['caseworker'], 'clinic-integrity');
    for (let i = 0; i < 5; i++) expect((await report(clinic)).status).toBe(201);
  });
  // The first test closes the app itself (to restart it): then only the directory is left to remove.
  afterEach(() => ledger.close().catch(() => rmSync(ledger.dataDir, { recursive: true, force: true })));
  afterAll(() =>
    console.log(
      `running ledger: attacks ${tally.attacks}, health degraded ${tally.healthDegraded}, appends refused ${tally.appendsRefused}, localised ${tally.localised}, thread deaths refusing appends ${tally.threadDeaths}`,
    ),
  );

  it('a deleted tail: health names it, appends are refused, a restart after restore resumes', async () => {
    tally.attacks++;
    const ok = await clinic.get<Health>('/health');
    expect(ok.status).toBe(200);
    const head = await ledger.store.headPosition();
    // Wait until the log holds every event, then keep a copy of the store (the operator's backup).
    for (
      let i = 0;
      i < 50 && (await clinic.get<{ treeSize: number }>('/audit/checkpoints/latest')).status !== 200;
      i++
    )
      await pause(100);
    await pause(1500);
    const backup = mkdtempSync(join(tmpdir(), 'nrm-backup-'));
    const copy = new Database(join(ledger.dataDir, 'events.sqlite'));
    copy.exec(`VACUUM INTO '${join(backup, 'events.sqlite')}'`);
    copy.close();

    tamper(ledger.dataDir, `DELETE FROM events WHERE position > ${head - 3}`);
    const health = await degraded(ledger.base);
    expect(integrityOf(health)).toMatchObject({
      status: 'down',
      kind: 'truncated',
      position: head - 2,
      appends: 'refused',
    });
    tally.healthDegraded++;
    if (integrityOf(health)?.position === head - 2) tally.localised++;

    const refused = await report(clinic);
    expect(refused.status).toBe(503);
    expect(refused.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(refused.body).toMatchObject({ code: 'AUDIT.INTEGRITY_HALT' });
    expect(refused.body.detail).toContain(`truncated at position ${head - 2}`);
    tally.appendsRefused++;
    const metrics = await scrape(ledger.base);
    expect(metrics).toMatch(/^nrm_audit_integrity_ok 0$/m);
    expect(metrics).toMatch(
      new RegExp(`^nrm_audit_integrity_finding_position\\{kind="truncated"\\} ${head - 2}$`, 'm'),
    );

    // A restart without a restore: the finding still stands.
    await ledger.app.close();
    let app = await restart(ledger.dataDir);
    let again = new Principal(await app.getUrl(), clinic.agencyId, clinic.principalId, clinic.apiKey);
    expect(integrityOf((await healthDetail<Health>(await app.getUrl())).body)).toMatchObject({
      kind: 'truncated',
    });
    expect((await report(again)).status).toBe(503);
    await app.close();

    // The operator restores the store from the backup and restarts: the ledger resumes after the head.
    for (const suffix of ['', '-wal', '-shm'])
      rmSync(join(ledger.dataDir, `events.sqlite${suffix}`), { force: true });
    const restored = new Database(join(backup, 'events.sqlite'));
    restored.exec(`VACUUM INTO '${join(ledger.dataDir, 'events.sqlite')}'`);
    restored.close();
    rmSync(backup, { recursive: true, force: true });
    app = await restart(ledger.dataDir);
    again = new Principal(await app.getUrl(), clinic.agencyId, clinic.principalId, clinic.apiKey);
    expect((await again.get<Health>('/health')).status).toBe(200);
    const resumed = await report(again);
    expect(resumed.status).toBe(201);
    expect(resumed.body.position).toBeGreaterThan(head);
    await app.close();
  });

  it('one byte changed in a stored event: found by the re-hash, appends refused', async () => {
    tally.attacks++;
    tamper(
      ledger.dataDir,
      `UPDATE events SET data = replace(data, '"region":"NL-ZH"', '"region":"NL-ZE"') WHERE position = (SELECT min(position) FROM events WHERE type = 'PotentialVictimReported')`,
    );
    const changed = new Database(join(ledger.dataDir, 'events.sqlite'), { readonly: true });
    const { position } = changed
      .prepare<[], { position: number }>(
        `SELECT min(position) AS position FROM events WHERE type = 'PotentialVictimReported'`,
      )
      .get()!;
    changed.close();
    const health = await degraded(ledger.base);
    expect(integrityOf(health)).toMatchObject({ status: 'down', kind: 'changed', position });
    tally.healthDegraded++;
    if (integrityOf(health)?.position === position) tally.localised++;
    const refused = await report(clinic);
    expect(refused.status).toBe(503);
    expect(refused.body.code).toBe('AUDIT.INTEGRITY_HALT');
    tally.appendsRefused++;
  });

  it("the audit log's thread dies: health names it, appends and audit routes are refused", async () => {
    expect((await clinic.get<Health>('/health')).status).toBe(200);
    // What an uncaught error in the thread would do: the thread is gone, the API runs on.
    const thread = ledger.app.get<AuditLogThread>(AUDIT_LOG_THREAD);
    await (thread as unknown as { worker: Worker }).worker.terminate();
    const health = await degraded(ledger.base);
    expect(integrityOf(health)).toMatchObject({ status: 'down', appends: 'refused' });
    expect(integrityOf(health)?.detail).toMatch(/^The audit log thread exited/);
    const refused = await report(clinic);
    expect(refused.status).toBe(503);
    expect(refused.body.code).toBe('AUDIT.UNAVAILABLE');
    expect((await clinic.get<{ code: string }>('/audit/checkpoints/latest')).body.code).toBe(
      'AUDIT.UNAVAILABLE',
    );
    expect(await scrape(ledger.base)).toMatch(/^nrm_audit_integrity_ok 0$/m);
    tally.threadDeaths++;
  });
});
