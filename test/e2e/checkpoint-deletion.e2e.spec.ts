import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import Database from 'better-sqlite3';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { createApp } from '../../apps/ledger-api/src/bootstrap';
import { loadConfig } from '@nrm/runtime';
import { healthDetail, Ledger, Principal, scrape, TEST_METRICS_TOKEN } from './harness';

type Integrity = { status: string; kind?: string; position?: number; appends?: string };
interface Health {
  status: string;
  details?: Record<string, Integrity>;
  checks?: Record<string, Integrity>;
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const FAST = {
  // Known gap: with the log in its worker thread (the default) the deletion was not always
  // reported within 10 s in CI (THREAT-MODEL, L13); this suite holds the watch on the loop.
  AUDIT_LOG_THREAD: 'off',
  AUDIT_CHECKPOINT_EVERY: '1',
  AUDIT_CHECKPOINT_INTERVAL_SECONDS: '1',
  AUDIT_INTEGRITY_CHECK_SECONDS: '1',
  AUDIT_REHASH_EVENTS_PER_SECOND: '100000',
  AUDIT_REHASH_PAUSE_SECONDS: '1',
};

/**
 * The operator with file access deletes the newest signed checkpoints and the Merkle tail from
 * audit.sqlite while the ledger runs, the events untouched. The running ledger remembers the
 * newest checkpoint it signed: /health turns 503 naming `checkpoint-deleted`, the metric says so,
 * appends are refused, and a restart without a restore keeps it so.
 */
describe('signed checkpoints deleted from the running ledger’s log (e2e)', () => {
  let ledger: Ledger;
  const tally = { attacks: 0, noticedOnline: 0, appendsRefused: 0, noticedAtRestart: 0 };
  afterAll(() =>
    console.log(
      `checkpoint deletion (e2e): attacks ${tally.attacks}, noticed online ${tally.noticedOnline}, appends refused ${tally.appendsRefused}, noticed at restart ${tally.noticedAtRestart}`,
    ),
  );
  afterEach(() => ledger.close().catch(() => rmSync(ledger.dataDir, { recursive: true, force: true })));

  const report = (who: Principal) =>
    who.post<{ code?: string; detail?: string }>('/cases', {
      indicators: ['debt-bondage'],
      exploitationForms: ['labour'],
      minor: false,
      region: 'NL-ZH',
    });
  const integrityOf = (health: Health) => (health.details ?? health.checks ?? {}).auditIntegrity;

  it('the newest 3 checkpoints and the Merkle tail deleted: health 503, metric, appends refused', async () => {
    tally.attacks++;
    ledger = await Ledger.boot(FAST);
    const clinic = await ledger.principal('health', ['caseworker'], 'clinic-checkpoints');
    for (let i = 0; i < 6; i++) expect((await report(clinic)).status).toBe(201);
    const head = await ledger.store.headPosition();
    let latest = await clinic.get<{ treeSize: number }>('/audit/checkpoints/latest');
    for (let i = 0; i < 100 && (latest.status !== 200 || latest.body.treeSize < head); i++) {
      await pause(100);
      latest = await clinic.get<{ treeSize: number }>('/audit/checkpoints/latest');
    }
    expect(latest.body.treeSize).toBe(head);
    await pause(1500); // a head check has seen the newest checkpoint
    expect((await clinic.get<Health>('/health')).status).toBe(200);

    // Keep the checkpoints up to the fourth newest, and the leaves up to its size.
    const db = new Database(join(ledger.dataDir, 'audit.sqlite'));
    for (const { name } of db
      .prepare<[], { name: string }>(`SELECT name FROM sqlite_master WHERE type = 'trigger'`)
      .all())
      db.exec(`DROP TRIGGER "${name}"`);
    const sizes = db
      .prepare<[], { size: number }>('SELECT tree_size AS size FROM checkpoints ORDER BY tree_size DESC')
      .all()
      .map((r) => r.size);
    const kept = sizes[3]!;
    db.transaction(() => {
      db.prepare('DELETE FROM checkpoints WHERE tree_size > ?').run(kept);
      db.prepare('DELETE FROM merkle_nodes WHERE (idx + 1) * (1 << level) > ?').run(kept);
      db.prepare('DELETE FROM leaf_positions WHERE leaf >= ?').run(kept);
    })();
    db.close();

    let health: Health | undefined;
    for (const deadline = Date.now() + 10_000; Date.now() < deadline && !health; await pause(100)) {
      // The finding's kind and position are detail: the scraper's token shows them.
      const answer = await healthDetail<Health>(ledger.base);
      if (answer.status === 503) health = answer.body;
    }
    expect(health && integrityOf(health)).toMatchObject({
      status: 'down',
      kind: 'checkpoint-deleted',
      position: kept + 1,
      appends: 'refused',
    });
    tally.noticedOnline++;
    const refused = await report(clinic);
    expect(refused.status).toBe(503);
    expect(refused.body.code).toBe('AUDIT.INTEGRITY_HALT');
    expect(refused.body.detail).toContain(`checkpoint-deleted at position ${kept + 1}`);
    tally.appendsRefused++;
    const metrics = await scrape(ledger.base);
    expect(metrics).toMatch(/^nrm_audit_integrity_ok 0$/m);
    expect(metrics).toMatch(
      new RegExp(`^nrm_audit_integrity_finding_position\\{kind="checkpoint-deleted"\\} ${kept + 1}$`, 'm'),
    );

    // A restart without a restore: the finding still stands, appends stay refused.
    await ledger.app.close();
    const app: NestFastifyApplication = await createApp(
      loadConfig({
        DATA_DIR: ledger.dataDir,
        LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
        METRICS_TOKEN: TEST_METRICS_TOKEN,
        ...FAST,
      }),
    );
    await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      const again = new Principal(await app.getUrl(), clinic.agencyId, clinic.principalId, clinic.apiKey);
      expect(integrityOf((await healthDetail<Health>(await app.getUrl())).body)).toMatchObject({
        kind: 'checkpoint-deleted',
        position: kept + 1,
      });
      expect((await report(again)).status).toBe(503);
      tally.noticedAtRestart++;
    } finally {
      await app.close();
    }
  });
});
