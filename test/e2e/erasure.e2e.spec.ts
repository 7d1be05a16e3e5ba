import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { SqliteEventStore } from '@nrm/event-store';
import { SqliteReadModelStore } from '@nrm/projections';
import { SubjectKeyStore } from '@nrm/privacy';
import type { AgencyKind, Role } from '@nrm/shared-kernel';
import { Command } from 'commander';
import { freePort } from './harness';
import { RegistryCommands } from '@nrm/access';
import { registerAuditCommands, type ConsoleIo } from '../../apps/ledger-cli/src/audit-commands';
import { loadRelayConfig } from '../../apps/relay/src/config';
import { runRelay } from '../../apps/relay/src/relay-process';

const ROOT = resolve(__dirname, '../..');

/** Every file under `dir`, recursively. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

/**
 * Crypto-shredding with a canary: a subject whose name, contact and notes are
 * a unique string goes through report, consent, referral and reads on a ledger
 * running as its own process with debug logs; then it is erased. Afterwards no
 * file of the ledger and no line it logged holds the canary or the subject's
 * key, and the identity reads as erased.
 */
describe('erasure by crypto-shredding, with a canary (e2e, API in its own process)', () => {
  const canary = `Canary${randomUUID().replace(/-/g, '')}`;
  const dataDir = mkdtempSync(join(tmpdir(), 'nrm-erasure-'));
  let api: ChildProcess;
  let logs = '';
  let base: string;
  const keys: Record<string, string> = {};

  async function principal(kind: AgencyKind, roles: Role[], agencyId: string): Promise<void> {
    const store = new SqliteEventStore({ filename: join(dataDir, 'events.sqlite') });
    try {
      const registry = new RegistryCommands(store);
      const context = () => ({ now: new Date().toISOString(), requestId: 'test', fingerprint: 'test' });
      await registry.registerAgency({ name: `Test ${kind}`, kind, country: 'NL', agencyId }, context());
      const { principalId } = await registry.registerPrincipal({ agencyId, label: 'desk', roles }, context());
      keys[agencyId] = (await registry.issueApiKey(principalId, context())).apiKey!;
    } finally {
      await store.close();
    }
  }

  /** The console's audit commands (`npm run ledger -- …`) on this ledger's data directory. */
  async function ledger(...args: string[]): Promise<{ code: number; out: string; err: string }> {
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
    registerAuditCommands(cli, () => dataDir, io);
    await cli.parseAsync(args, { from: 'user' }).catch(() => undefined);
    return result;
  }

  /** Runs the relay over this ledger's store until it has delivered everything stored; returns the messages it sent. */
  let relayed = 0;
  const topicPrefix = `canary-${canary.slice(-8).toLowerCase()}`;
  async function relayToHead(): Promise<number> {
    const brokers = process.env.KAFKA_BROKERS;
    if (!brokers)
      throw new Error(`no Kafka broker: ${process.env.NRM_KAFKA_UNAVAILABLE ?? 'KAFKA_BROKERS unset'}`);
    const relay = await runRelay(
      loadRelayConfig({
        KAFKA_BROKERS: brokers,
        DATA_DIR: dataDir,
        RELAY_TOPIC_PREFIX: topicPrefix,
        RELAY_HEALTH_PORT: '0',
        LOG_LEVEL: 'silent',
      }),
    );
    try {
      const store = new SqliteEventStore({ filename: join(dataDir, 'events.sqlite') });
      const head = await store.headPosition();
      await store.close();
      const deadline = Date.now() + 30_000;
      while (relay.relay.health().checkpoint < head) {
        if (Date.now() > deadline) throw new Error(`relay stuck: ${JSON.stringify(relay.relay.health())}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      relayed += relay.relay.health().messagesDelivered;
      return relayed;
    } finally {
      await relay.stop();
    }
  }

  async function call<T = Record<string, unknown>>(
    agencyId: string,
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<{ status: number; body: T }> {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${keys[agencyId]!}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, body: (await response.json()) as T };
  }

  beforeAll(async () => {
    await principal('health', ['caseworker'], 'clinic-canary');
    await principal('ngo', ['caseworker'], 'ngo-canary');
    await principal('oversight-body', ['oversight'], 'oversight-canary');
    await principal('labour-inspectorate', ['caseworker'], 'inspectorate-canary');
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    api = spawn(
      process.execPath,
      [
        '-r',
        'ts-node/register/transpile-only',
        '-r',
        'tsconfig-paths/register',
        'apps/ledger-api/src/main.ts',
      ],
      {
        cwd: ROOT,
        env: {
          ...process.env,
          DATA_DIR: dataDir,
          PORT: String(port),
          LOG_LEVEL: 'trace',
          TS_NODE_PROJECT: join(ROOT, 'tsconfig.json'),
        },
        stdio: 'pipe',
      },
    );
    api.stdout?.on('data', (chunk: Buffer) => (logs += chunk.toString()));
    api.stderr?.on('data', (chunk: Buffer) => (logs += chunk.toString()));
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (api.exitCode !== null) throw new Error(`the API exited: ${logs.slice(-2000)}`);
      try {
        if ((await fetch(`${base}/health`)).status === 200) break;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error('the API did not start in time');
      await new Promise((r) => setTimeout(r, 200));
    }
  }, 90_000);

  afterAll(async () => {
    if (api.exitCode === null && api.signalCode === null) {
      api.kill('SIGKILL');
      await new Promise((r) => api.once('exit', r));
    }
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('shows the identity to the entitled agency, then after erasure nowhere: 0 plaintext hits, 0 key hits', async () => {
    const report = {
      indicators: ['debt-bondage'],
      exploitationForms: ['labour'],
      minor: false,
      region: 'NL-ZH',
      identity: {
        fullName: `Ana ${canary}`,
        birthDate: '1999-04-01',
        nationality: 'MD',
        contact: `+00 ${canary}`,
        notes: `Met at the clinic; ${canary}`,
      },
    };
    const reportKey = { 'idempotency-key': randomUUID() };
    const reported = await call<{ caseId: string; subjectId: string }>(
      'clinic-canary',
      'POST',
      '/cases',
      report,
      reportKey,
    );
    expect(reported.status).toBe(201);
    const { caseId, subjectId } = reported.body;
    expect(
      (
        await call('clinic-canary', 'POST', `/cases/${caseId}/consents`, {
          agencyIds: ['ngo-canary'],
          categories: ['identity', 'contact', 'case-status'],
          purposes: ['assistance'],
          expiresAt: '2030-01-01T00:00:00Z',
          capture: { method: 'written', language: 'ro', interpreterUsed: true },
        })
      ).status,
    ).toBe(201);
    const referral = await call('clinic-canary', 'POST', `/cases/${caseId}/referrals`, {
      toAgencyId: 'ngo-canary',
      purpose: 'assistance',
      servicesRequested: ['accommodation'],
      urgency: 'urgent',
      respondBy: new Date(Date.now() + 86_400_000).toISOString(),
      sharedCategories: ['case-status'],
    });
    expect(referral.status).toBe(201);
    const purpose = { 'x-purpose': 'assistance' };
    type View = { categories: Record<string, Record<string, unknown>> };
    const before = await call<View>('ngo-canary', 'GET', `/cases/${caseId}`, undefined, purpose);
    expect(before.status).toBe(200);
    expect(before.body.categories.identity).toMatchObject({ fullName: `Ana ${canary}`, nationality: 'MD' });
    expect(before.body.categories.contact).toEqual({ contact: `+00 ${canary}` });
    const asOf = encodeURIComponent(new Date().toISOString());
    const past = await call<View>('ngo-canary', 'GET', `/cases/${caseId}?asOf=${asOf}`, undefined, purpose);
    expect(past.body.categories.identity).toMatchObject({ fullName: `Ana ${canary}` });

    // The key as it is now, to look for it afterwards.
    const keyStore = new SubjectKeyStore(
      new SqliteReadModelStore(join(dataDir, 'keys.sqlite'), { secureDelete: true, durable: true }),
    );
    const key = await keyStore.existingKey(subjectId);
    await keyStore.close();
    expect(key).toBeDefined();

    // The relay carries the case to the agencies' Kafka topics (real broker, topics of this test only).
    await relayToHead();

    // A checkpoint the oversight body keeps from before the erasure.
    const trusted = await ledger('checkpoint');
    expect(trusted.code).toBe(0);
    writeFileSync(join(dataDir, 'trusted-checkpoint.json'), trusted.out);
    writeFileSync(join(dataDir, 'log.pub'), (await ledger('public-key')).out);

    // Only the oversight body's oversight role or the coordinator may erase; others learn nothing.
    const why = { ground: 'subject-request', reference: 'NGO-2026-311' };
    expect((await call('ngo-canary', 'POST', `/subjects/${subjectId}/erasure`, why)).status).toBe(403);
    expect((await call('oversight-canary', 'POST', `/subjects/${randomUUID()}/erasure`, why)).status).toBe(
      404,
    );
    // Why is a legal ground and a reference code: no prose that could name the person outlives the key.
    const refusedWhy = [];
    for (const body of [
      { reason: 'short' },
      { reason: 'Request of the person through the assisting NGO, ref. 2026-311.' },
      {},
      { ground: 'because' },
      { ground: 'subject-request', reference: 'Request of the person' },
    ]) {
      const a = await call<{ field?: string }>(
        'oversight-canary',
        'POST',
        `/subjects/${subjectId}/erasure`,
        body,
      );
      refusedWhy.push(`${a.status} ${a.body.field}`);
    }
    expect(refusedWhy).toEqual(['400 reason', '400 reason', '400 ground', '400 ground', '400 reference']);
    const erased = await call('oversight-canary', 'POST', `/subjects/${subjectId}/erasure`, why);
    expect(erased.status).toBe(200);
    const again = await call<{ code: string }>(
      'oversight-canary',
      'POST',
      `/subjects/${subjectId}/erasure`,
      why,
    );
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('SUBJECT.ALREADY_ERASED');

    // The report sent again with its Idempotency-Key: refused, nothing sealed or recorded again.
    const retried = await call<{ code: string }>('clinic-canary', 'POST', '/cases', report, reportKey);
    expect(retried.status).toBe(409);
    expect(retried.body.code).toBe('SUBJECT.ERASED');

    const after = await call<View>('ngo-canary', 'GET', `/cases/${caseId}`, undefined, purpose);
    expect(after.status).toBe(200);
    expect(after.body.categories.identity).toEqual({ erased: true });
    expect(after.body.categories.contact).toEqual({ erased: true });
    expect(after.body.categories['case-status']).toBeDefined();
    const pastAfter = await call<View>(
      'ngo-canary',
      'GET',
      `/cases/${caseId}?asOf=${asOf}`,
      undefined,
      purpose,
    );
    expect(pastAfter.body.categories.identity).toEqual({ erased: true });

    // Stop the ledger so that every file is as it will stay; the relay delivers what the erasure added.
    api.kill('SIGTERM');
    await new Promise((r) => api.once('exit', r));
    const delivered = await relayToHead();
    expect(delivered).toBeGreaterThan(0);

    // The log still verifies against the checkpoint taken before the erasure: no event was changed.
    const store = new SqliteEventStore({ filename: join(dataDir, 'events.sqlite') });
    const head = await store.headPosition();
    await store.close();
    const exportFile = join(dataDir, 'export.ndjson');
    const exported = await ledger(
      'export',
      ...['--from', '1', '--to', String(head), '--out', exportFile],
      ...['--purpose', 'integrity-check', '--reason', 'ERASURE-CHECK-1'],
    );
    expect(exported.err).toBe('');
    expect(exported.code).toBe(0);
    const verified = await ledger(
      'verify',
      ...['--file', exportFile, '--checkpoint', join(dataDir, 'trusted-checkpoint.json')],
      ...['--public-key', join(dataDir, 'log.pub')],
    );
    expect(verified.code).toBe(0);
    expect(JSON.parse(verified.out)).toMatchObject({ verified: true });

    // Then every byte of every file (events, read models, keys, audit log, the export) and the logs,
    // for the canary, the key, and an unkeyed digest of the request that carried the identity.
    const digest = createHash('sha256')
      .update(`POST /cases\n${JSON.stringify(report)}`)
      .digest('hex');
    const needles = [
      Buffer.from(canary),
      key!,
      Buffer.from(key!.toString('base64')),
      Buffer.from(key!.toString('hex')),
      Buffer.from(digest),
    ];
    const files = filesUnder(dataDir);
    let hits = 0;
    let bytes = 0;
    for (const file of files) {
      const content = readFileSync(file);
      bytes += content.length;
      for (const needle of needles) if (content.includes(needle)) hits++;
    }
    for (const needle of needles) if (logs.includes(needle.toString('utf8'))) hits++;
    // Every Kafka log segment of this test's topics (a directory per topic partition), on the broker the tests use.
    const kafkaData = join(process.env.NRM_KAFKA_DIR ?? '/tmp/nrm-kafka', 'data');
    const topicDirs = readdirSync(kafkaData).filter((name) => name.startsWith(topicPrefix));
    expect(topicDirs.length).toBeGreaterThan(0);
    const kafkaFiles = topicDirs.flatMap((name) => filesUnder(join(kafkaData, name)));
    let kafkaBytes = 0;
    for (const file of kafkaFiles) {
      const content = readFileSync(file);
      kafkaBytes += content.length;
      for (const needle of needles) if (content.includes(needle)) hits++;
    }
    process.stdout.write(
      `erasure canary: ${files.length} files (${bytes} bytes, an export of ${head} events among them), ${kafkaFiles.length} Kafka files (${kafkaBytes} bytes, ${delivered} messages of this test) and ${logs.length} characters of trace logs searched; plaintext and key hits ${hits}; the log verifies against the checkpoint from before the erasure\n`,
    );
    expect(logs.length).toBeGreaterThan(1000); // the logs were there to search
    expect(hits).toBe(0);
  }, 90_000);
});
