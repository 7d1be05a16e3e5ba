import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { appendInvented } from '../../../libs/audit/test/invented-events';
import {
  dropSchema,
  openPostgresStore,
  TEST_POSTGRES_URL,
  uniqueSchema,
} from '../../../libs/event-store/test/postgres';
import { runAuditConsole } from '../test/audit-console';
import { EXIT } from './audit-commands';

/**
 * `ledger rotate-audit-key` on the production stores (EVENT_STORE=postgres, AUDIT_LOG_STORE=postgres):
 * the console works on its replica of the deployment's one log, and the rotation reaches the
 * shared log, so that a replica started on the new key (a new pod: empty DATA_DIR) takes the whole
 * log, and one given the retired key signs nothing.
 */
describe('ledger rotate-audit-key with the audit log in PostgreSQL (int)', () => {
  const events = uniqueSchema('rotev');
  const audit = `audit_rotcli_${events.slice(-12)}`;
  const saved = { ...process.env };
  let root: string;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'nrm-cli-rot-pg-'));
    Object.assign(process.env, {
      EVENT_STORE: 'postgres',
      EVENT_STORE_URL: TEST_POSTGRES_URL,
      EVENT_STORE_SCHEMA: events,
      AUDIT_LOG_STORE: 'postgres',
      AUDIT_LOG_URL: TEST_POSTGRES_URL,
      AUDIT_LOG_SCHEMA: audit,
      KEY_STORE: 'postgres',
      KEY_STORE_URL: TEST_POSTGRES_URL,
      KEY_STORE_SCHEMA: `${audit}_keys`,
      ID_DERIVATION_SECRET: 'an-invented-secret-for-this-test-only-0123456789',
    });
    const store = openPostgresStore(events);
    try {
      await appendInvented(store, 120);
    } finally {
      await store.close();
    }
  });
  afterAll(async () => {
    process.env = saved;
    rmSync(root, { recursive: true, force: true });
    await dropSchema(events);
    await dropSchema(audit);
    await dropSchema(`${audit}_keys`);
  });

  const dataDir = (name: string) => join(root, name);
  const ledger = (dir: string, keyFile: string, ...args: string[]) => {
    process.env.AUDIT_SIGNING_KEY_FILE = keyFile;
    return runAuditConsole(dir, ...args);
  };

  it('shares the retired key, a new replica on the new key takes the log, the retired key signs nothing', async () => {
    // The deployment's one signing key (a Secret in Kubernetes), here a file of the console's.
    const keyFile = join(root, 'keys', 'audit-signing-key.pem');
    mkdirSync(join(root, 'keys'), { mode: 0o700 });
    const { privateKey } = generateKeyPairSync('ed25519');
    writeFileSync(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), { mode: 0o600 });
    const first = await ledger(dataDir('console'), keyFile, 'checkpoint');
    expect(first.err).toBe('');
    expect(first.code).toBe(EXIT.ok);

    const rotated = await ledger(dataDir('console'), keyFile, 'rotate-audit-key');
    expect(rotated.err).toBe('');
    expect(rotated.code).toBe(EXIT.ok);
    const { retiredKeyId, keyId } = JSON.parse(rotated.out) as { retiredKeyId: string; keyId: string };

    const admin = new pg.Client({ connectionString: TEST_POSTGRES_URL });
    await admin.connect();
    let shared: { key_id: string; successor: string }[];
    let checkpoints: number;
    try {
      shared = (
        await admin.query<{ key_id: string; successor: string }>(
          `SELECT key_id, successor FROM ${audit}.audit_retired_keys`,
        )
      ).rows;
      checkpoints = (
        await admin.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${audit}.audit_checkpoints`)
      ).rows[0]!.n;
    } finally {
      await admin.end();
    }
    expect(shared).toEqual([{ key_id: retiredKeyId, successor: keyId }]);

    // A new replica (empty DATA_DIR) on the new key: reads the old key's checkpoints too, signs on.
    const store = openPostgresStore(events);
    try {
      await appendInvented(store, 10);
    } finally {
      await store.close();
    }
    const fresh = await ledger(dataDir('new-pod'), keyFile, 'checkpoint');
    expect(fresh.err).toBe('');
    expect(fresh.code).toBe(EXIT.ok);
    expect(JSON.parse(fresh.out)).toMatchObject({ keyId });

    // The retired key, configured again on another replica, with something new to sign: refused.
    const more = openPostgresStore(events);
    try {
      await appendInvented(more, 5);
    } finally {
      await more.close();
    }
    const retiredFile = `${keyFile}.retired-${retiredKeyId}`;
    const again = await ledger(dataDir('old-pod'), retiredFile, 'checkpoint');
    console.log(
      `rotate-audit-key on PostgreSQL: ${checkpoints} checkpoints and 1 retired key in the shared log; ` +
        `new replica signed with ${keyId}; the retired key: exit ${again.code}`,
    );
    expect(again.code).not.toBe(EXIT.ok);
    expect(again.err).toMatch(/retired/);
  });
});
