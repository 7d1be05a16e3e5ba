import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { RegistryCommands } from '@nrm/access';
import { createApp } from '../../apps/ledger-api/src/bootstrap';
import { loadConfig } from '@nrm/runtime';
import { idDerivationSecret, storedIdempotencyKey } from '@nrm/runtime/commands';
import { EVENT_STORE, type EventStore } from '@nrm/event-store';
import type { AgencyKind, Role } from '@nrm/shared-kernel';
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
    const config = loadConfig({
      DATA_DIR: dataDir,
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
      METRICS_TOKEN: TEST_METRICS_TOKEN,
      ...GENEROUS_RATE_LIMITS,
      ...env,
    });
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
