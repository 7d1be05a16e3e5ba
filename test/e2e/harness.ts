import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { spawn, type ChildProcess } from 'node:child_process';
import Database from 'better-sqlite3';
import { cpSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { RegistryCommands } from '@nrm/access';
import { createApp } from '../../apps/ledger-api/src/bootstrap';
import { runAuditConsole } from '../../apps/ledger-cli/test/audit-console';
import { loadConfig } from '@nrm/runtime';
import { idDerivationSecret, storedIdempotencyKey } from '@nrm/runtime/commands';
import { EVENT_STORE, type EventStore } from '@nrm/event-store';
import type { AgencyKind, DataCategory, Purpose, Role } from '@nrm/shared-kernel';
import { AnswerTally, toOpenApiPath, type DocumentWithAnswers } from './declared-answers';

const READ_AUDIT_TYPES = new Set(['RecordAccessed', 'AccessDenied', 'BreakGlassAccessUsed']);

/**
 * Rate limits no suite of one address reaches (the fuzz, insider and existence suites send thousands of
 * requests, some with wrong credentials on purpose); rate-limits.e2e.spec.ts boots with tight ones.
 */
export const GENEROUS_RATE_LIMITS: Readonly<Record<string, string>> = {
  RATE_LIMIT_PER_PRINCIPAL: '10000000',
  RATE_LIMIT_PER_ADDRESS: '10000000',
  RATE_LIMIT_FAILED_AUTH: '10000000',
};

/** The scrape credential of every test ledger (invented): GET /metrics needs it (METRICS_TOKEN). */
export const TEST_METRICS_TOKEN = 'e2e-scrape-token-0c5d7f19a2b84e6d9f03';

/** The Prometheus text of a ledger at `base`, read as the scraper does (with METRICS_TOKEN). */
export async function scrape(base: string): Promise<string> {
  const answer = await fetch(`${base}/metrics`, {
    headers: { authorization: `Bearer ${TEST_METRICS_TOKEN}` },
  });
  if (answer.status !== 200) throw new Error(`GET /metrics answered ${answer.status}`);
  return answer.text();
}

/** A test ledger's configuration on `dataDir`: silent (or TEST_LOG_LEVEL), generous rate limits, the scrape token, then `env`. */
function testConfig(dataDir: string, env: Record<string, string>) {
  return loadConfig({
    DATA_DIR: dataDir,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    ...GENEROUS_RATE_LIMITS,
    METRICS_TOKEN: TEST_METRICS_TOKEN,
    ...env,
  });
}

/**
 * GET /health as the scraper asks it (with METRICS_TOKEN): each check's detail (positions, cursors,
 * findings), where anyone else gets each check's status only.
 */
export async function healthDetail<T = Record<string, unknown>>(base: string): Promise<Answer<T>> {
  const response = await fetch(`${base}/health`, {
    headers: { authorization: `Bearer ${TEST_METRICS_TOKEN}` },
  });
  return { status: response.status, body: (await response.json()) as T, headers: response.headers };
}

/** The id secret of each booted ledger (what its events' Idempotency-Key digests are keyed with). */
const idSecrets = new WeakMap<NestFastifyApplication, Buffer>();

/** A booted ledger on a temporary SQLite file, with helpers to register principals and call the API. */
export class Ledger {
  private constructor(
    readonly app: NestFastifyApplication,
    readonly base: string,
    readonly dataDir: string,
    /** Every error answer of the suite, checked against the OpenAPI document on close. */
    readonly answers: AnswerTally,
  ) {}

  static async boot(env: Record<string, string> = {}): Promise<Ledger> {
    const dataDir = mkdtempSync(join(tmpdir(), 'nrm-e2e-'));
    const config = testConfig(dataDir, { METRICS_TOKEN: TEST_METRICS_TOKEN, ...env });
    const app = await createApp(config);
    idSecrets.set(app, idDerivationSecret(config));
    const answers = new AnswerTally();
    app
      .getHttpAdapter()
      .getInstance()
      .addHook('onSend', async (request, reply, payload) => {
        const route = request.routeOptions.url;
        if (route === undefined || reply.statusCode < 400) return payload;
        let code: string | undefined;
        if (
          typeof payload === 'string' &&
          /^application\/problem\+json/.test(String(reply.getHeader('content-type')))
        )
          try {
            code = (JSON.parse(payload) as { code?: string }).code;
          } catch {
            code = undefined;
          }
        answers.record(`${request.method} ${toOpenApiPath(route)}`, reply.statusCode, code);
        return payload;
      });
    await app.listen({ port: 0, host: '127.0.0.1' });
    return new Ledger(app, await app.getUrl(), dataDir, answers);
  }

  /** What the events record of a principal's Idempotency-Key: its keyed digest, never the key. */
  storedIdempotencyKey(principalId: string, key: string): string {
    return storedIdempotencyKey(idSecrets.get(this.app)!, principalId, key);
  }

  get store(): EventStore {
    return this.app.get<EventStore>(EVENT_STORE);
  }

  /** The read audit so far (`RecordAccessed`, `AccessDenied`), oldest first. */
  async auditEvents(): Promise<Array<{ type: string; data: Record<string, unknown> }>> {
    const out = [];
    for await (const e of this.store.readAll({ filter: { eventTypes: ['RecordAccessed', 'AccessDenied'] } }))
      out.push({ type: e.type, data: e.data });
    return out;
  }

  /**
   * The events appended after `position`, but the audit of access (`AccessDenied` and the like: a
   * refused request is recorded, and that is all it may record), as `type stream`.
   */
  async recordedAfter(position: number): Promise<string[]> {
    const out = [];
    for await (const e of this.store.readAll({ fromPosition: { after: position } }))
      if (!READ_AUDIT_TYPES.has(e.type)) out.push(`${e.type} ${e.stream}`);
    return out;
  }

  /**
   * Closes the app, then fails if any answer of the suite was a (status, code) that the OpenAPI
   * document does not declare for its operation: the message names the operation to declare it on.
   */
  async close(): Promise<void> {
    let undeclared: string[] = [];
    if (this.answers.answers > 0) {
      const response = await fetch(`${this.base}/openapi.json`).catch(() => undefined);
      if (response?.ok) undeclared = this.answers.undeclared((await response.json()) as DocumentWithAnswers);
    }
    await this.app.close();
    rmSync(this.dataDir, { recursive: true, force: true });
    if (undeclared.length > 0)
      throw new Error(`answers the OpenAPI document does not declare:\n${undeclared.join('\n')}`);
  }

  /** Registers an agency and one principal with the given roles, as the console would; returns its API key. */
  async principal(
    kind: AgencyKind,
    roles: Role[],
    agencyId = `${kind}-${randomUUID().slice(0, 8)}`,
  ): Promise<Principal> {
    const registry = new RegistryCommands(this.store);
    const context = () => ({ now: new Date().toISOString(), requestId: 'test', fingerprint: 'test' });
    const exists = await registry.agencyExists(agencyId);
    if (!exists)
      await registry.registerAgency({ name: `Test ${kind}`, kind, country: 'NL', agencyId }, context());
    const { principalId } = await registry.registerPrincipal(
      { agencyId, label: `${kind} desk`, roles },
      context(),
    );
    const { apiKey } = await registry.issueApiKey(principalId, context());
    return new Principal(this.base, agencyId, principalId, apiKey!);
  }
}

export interface Answer<T = Record<string, unknown>> {
  readonly status: number;
  readonly body: T;
  readonly headers: Headers;
}

/** An authenticated caller of the API. */
export class Principal {
  constructor(
    private readonly base: string,
    readonly agencyId: string,
    readonly principalId: string,
    readonly apiKey: string,
  ) {}

  async call<T = Record<string, unknown>>(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<Answer<T>> {
    const response = await fetch(`${this.base}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${this.apiKey}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : {}) as T, headers: response.headers };
  }

  post<T = Record<string, unknown>>(path: string, body?: unknown, headers?: Record<string, string>) {
    return this.call<T>('POST', path, body ?? {}, headers);
  }

  get<T = Record<string, unknown>>(path: string) {
    return this.call<T>('GET', path);
  }

  /** The same principal, calling the ledger at `base` (another boot on the same files). */
  at(base: string): Principal {
    return new Principal(base, this.agencyId, this.principalId, this.apiKey);
  }
}

/** A TCP port free on loopback now, for a server a test starts in another process. */
export function freePort(): Promise<number> {
  return new Promise((found, failed) => {
    const server = createServer();
    server.once('error', failed);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => found(port));
    });
  });
}

/**
 * apps/projector as a child process on a ledger's stores (`env` names them; `dataDir` is the
 * ledger's), resolved once its /health on `healthPort` answers 200. A projector that exits or stays
 * unhealthy for 30 s is stopped and the start fails with what it wrote on stderr.
 */
export async function startProjectorProcess(
  env: Readonly<Record<string, string>>,
  dataDir: string,
  healthPort: number,
): Promise<ChildProcess> {
  const root = resolve(__dirname, '../..');
  const child = spawn(
    process.execPath,
    ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register', 'apps/projector/src/main.ts'],
    {
      cwd: root,
      env: {
        ...process.env,
        ...env,
        DATA_DIR: dataDir,
        PROJECTOR_HEALTH_PORT: String(healthPort),
        LOG_LEVEL: 'error',
        TS_NODE_PROJECT: join(root, 'tsconfig.json'),
      },
      stdio: 'pipe',
    },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`projector exited: ${stderr}`);
    const answer = await fetch(`http://127.0.0.1:${healthPort}/health`).catch(() => undefined);
    if (answer?.status === 200) return child;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`projector not healthy in time: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The audit log's checkpoints, integrity check and rehash every second or event: an attack shows at once. */
export const FAST_AUDIT: Readonly<Record<string, string>> = {
  AUDIT_CHECKPOINT_EVERY: '1',
  AUDIT_CHECKPOINT_INTERVAL_SECONDS: '1',
  AUDIT_INTEGRITY_CHECK_SECONDS: '1',
  AUDIT_REHASH_EVENTS_PER_SECOND: '100000',
  AUDIT_REHASH_PAUSE_SECONDS: '1',
};

export const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const DAY_MS = 86_400_000;
/** The instant `days` from now (negative: ago), as the API takes it. */
export const inDays = (days: number) => new Date(Date.now() + days * DAY_MS).toISOString();

/** A report of a potential victim without identity data (invented). */
export const PLAIN_REPORT = {
  indicators: ['debt-bondage'],
  exploitationForms: ['labour'],
  minor: false,
  region: 'NL-ZH',
};

/** A break-glass read's justification (invented). */
export const JUSTIFICATION =
  'Person reported missing from the shelter; imminent danger, location needed now.';

/** A written consent's capture (invented). */
export const WRITTEN = { method: 'written', language: 'ro', interpreterUsed: true };

/** The body of a consent for `agencyIds`, good for 90 days. */
export const consentBody = (
  agencyIds: string[],
  categories: DataCategory[],
  purposes: Purpose[],
  capture: object = WRITTEN,
) => ({
  agencyIds,
  categories,
  purposes,
  expiresAt: inDays(90),
  capture,
});

/** The body of an urgent referral to `toAgencyId`, due in 2 days (accommodation asked for assistance). */
export const referralBody = (
  toAgencyId: string,
  purpose: Purpose,
  sharedCategories: DataCategory[] = [],
) => ({
  toAgencyId,
  purpose,
  servicesRequested: purpose === 'assistance' ? ['accommodation'] : [],
  urgency: 'urgent',
  respondBy: inDays(2),
  sharedCategories,
});

/**
 * A case `clinic` reports (`report`), with a consent for `ngo` (case status and identity, for
 * assistance) and a referral to it sharing the case status; each answer goes through `ok`.
 */
export async function caseReferredTo(
  clinic: Principal,
  ngo: Principal,
  report: object,
  ok: <T>(answer: Promise<Answer<T>>) => Promise<T>,
): Promise<{ caseId: string; subjectId: string; consentId: string; referralId: string }> {
  const { caseId, subjectId } = await ok<{ caseId: string; subjectId: string }>(
    clinic.post('/cases', report),
  );
  const { consentId } = await ok<{ consentId: string }>(
    clinic.post(
      `/cases/${caseId}/consents`,
      consentBody([ngo.agencyId], ['case-status', 'identity'], ['assistance']),
    ),
  );
  const { referralId } = await ok<{ referralId: string }>(
    clinic.post(`/cases/${caseId}/referrals`, referralBody(ngo.agencyId, 'assistance', ['case-status'])),
  );
  return { caseId, subjectId, consentId, referralId };
}

// ---- an operator with write access to DATA_DIR ----------------------------------------------------

/** A ledger booted on an existing data directory (a copy an attack edited); the files stay the caller's. */
export async function bootOn(
  dataDir: string,
  env: Record<string, string> = {},
): Promise<NestFastifyApplication> {
  const app = await createApp(testConfig(dataDir, env));
  await app.listen({ port: 0, host: '127.0.0.1' });
  return app;
}

/** The running ledger's /health when it answers 503 within 6 seconds (polled every 200 ms), else undefined. */
export async function degradedHealth(app: NestFastifyApplication): Promise<Response | undefined> {
  const base = await app.getUrl();
  for (const deadline = Date.now() + 6000; Date.now() < deadline; await pause(200)) {
    // The kind and position of a finding are detail: the scraper's token shows them.
    const health = await fetch(`${base}/health`, {
      headers: { authorization: `Bearer ${TEST_METRICS_TOKEN}` },
    });
    if (health.status === 503) return health;
  }
  return undefined;
}

/** SQL on one of a ledger's SQLite files, every trigger (the guards) dropped first. */
export function tamper(file: string, sql: string): void {
  const db = new Database(file);
  for (const { name } of db
    .prepare<[], { name: string }>(`SELECT name FROM sqlite_master WHERE type = 'trigger'`)
    .all())
    db.exec(`DROP TRIGGER "${name}"`);
  db.exec(sql);
  db.close();
}

/** A copy of a stopped ledger's data directory, without its audit lease, in a new `prefix…` directory. */
export function copyOf(dataDir: string, prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  cpSync(dataDir, dir, { recursive: true });
  rmSync(join(dir, 'audit.lease'), { force: true });
  return dir;
}

/**
 * What the oversight body keeps outside DATA_DIR (README, "Proving integrity"): the newest signed
 * checkpoint once it covers every event, and the log's verifier key, as checkpoint.json and
 * ledger.vkey in a new `prefix…` directory.
 */
export async function keepCheckpoint(ledger: Ledger, oversight: Principal, prefix: string): Promise<string> {
  const head = await ledger.store.headPosition();
  let checkpoint = await oversight.get<{ treeSize: number }>('/audit/checkpoints/latest');
  for (let i = 0; i < 100 && (checkpoint.status !== 200 || checkpoint.body.treeSize < head); i++) {
    await pause(100);
    checkpoint = await oversight.get<{ treeSize: number }>('/audit/checkpoints/latest');
  }
  expect(checkpoint.body.treeSize).toBeGreaterThanOrEqual(head);
  const key = await oversight.get<{ verifierKey: string }>('/audit/public-key');
  const kept = mkdtempSync(join(tmpdir(), prefix));
  writeFileSync(join(kept, 'checkpoint.json'), JSON.stringify(checkpoint.body));
  writeFileSync(join(kept, 'ledger.vkey'), `${key.body.verifierKey}\n`);
  return kept;
}

/**
 * `ledger export` (with `reason`) and `ledger verify` of `dataDir` against what `kept` holds: undefined
 * when it verifies, else the finding (`<kind> at position <n>`, or `refused`), `exportNote` added when
 * the export failed. OA_DEBUG=1 prints what the console said.
 */
export async function verifyAgainstKept(
  dataDir: string,
  kept: string,
  reason: string,
  exportNote: string,
): Promise<string | undefined> {
  const out = join(kept, `log-${readdirSync(kept).length}.ndjson`);
  const exported = await runAuditConsole(
    dataDir,
    'export',
    '--from',
    '1',
    '--out',
    out,
    '--purpose',
    'integrity-check',
    '--reason',
    reason,
  );
  const verified = await runAuditConsole(
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
  return `${finding ?? 'refused'}${exported.code === 0 ? '' : exportNote}`;
}
