import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { EVENT_STORE, type EventStore } from '@nrm/event-store';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp } from '../../apps/ledger-api/src/bootstrap';
import { loadConfig } from '@nrm/runtime';
import { TEST_METRICS_TOKEN } from './harness';

const SCRAPER = { authorization: `Bearer ${TEST_METRICS_TOKEN}` };

describe('ledger-api boots on the embedded store (e2e)', () => {
  let app: NestFastifyApplication;
  let base: string;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'nrm-e2e-'));
    app = await createApp(
      loadConfig({ DATA_DIR: dataDir, LOG_LEVEL: 'silent', METRICS_TOKEN: TEST_METRICS_TOKEN }),
    );
    await app.listen({ port: 0, host: '127.0.0.1' });
    base = await app.getUrl();
  });

  afterAll(async () => {
    await app?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('reports healthy with the store checked, and keeps its events under DATA_DIR', async () => {
    const response = await fetch(`${base}/health`, { headers: SCRAPER });
    expect(response.status).toBe(200);
    const body = (await response.json()) as {
      status: string;
      details: Record<string, { status: string; adapter: string }>;
    };
    expect(body.status).toBe('ok');
    expect(body.details.eventStore).toMatchObject({ status: 'up', adapter: 'sqlite' });
    expect(existsSync(join(dataDir, 'events.sqlite'))).toBe(true);
  });

  it('gives each check its status only without the scraper token, an agency-like bearer or a wrong one', async () => {
    const statusOnly = { status: 'up' };
    const expected = {
      status: 'ok',
      info: {
        eventStore: statusOnly,
        projector: statusOnly,
        auditIntegrity: statusOnly,
        readModelIntegrity: statusOnly,
      },
      error: {},
      details: {
        eventStore: statusOnly,
        projector: statusOnly,
        auditIntegrity: statusOnly,
        readModelIntegrity: statusOnly,
      },
    };
    for (const headers of <Array<Record<string, string>>>[
      {},
      { authorization: 'Bearer nrm_invented-agency-key-0000000000' },
      { authorization: `Bearer ${TEST_METRICS_TOKEN}x` },
      { authorization: TEST_METRICS_TOKEN },
    ]) {
      const response = await fetch(`${base}/health`, { headers });
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual(expected);
    }
  });

  it('echoes an X-Request-Id that is a random or time-ordered UUID, and replaces any other', async () => {
    const v4 = '3f2b8c1e-9d4a-4e7b-8c2d-1a5f6e7d8c9b';
    const v7 = '01938a2e-5c7b-7d3e-9f10-2b3c4d5e6f70';
    for (const [sent, echoed] of [
      [v4, v4],
      [v4.toUpperCase(), v4],
      [v7, v7],
    ] as const) {
      const given = await fetch(`${base}/health`, { headers: { 'x-request-id': sent } });
      expect(given.headers.get('x-request-id')).toBe(echoed);
    }
    const replaced: string[] = [];
    for (const sent of [
      'caseworker-42',
      'Velmora_Dashkintree_1997-05-06',
      'bad id\twith tab',
      // A name-based UUID (v5, a hash of something) and a v1 (a machine's address) are not opaque.
      '2ed6657d-e927-568b-95e1-2665a8aea6a2',
      'c232ab00-9414-11ec-b3c8-9f6bdeced846',
      `${v4}-x`,
    ]) {
      const answer = await fetch(`${base}/health`, { headers: { 'x-request-id': sent } });
      const id = answer.headers.get('x-request-id') ?? '';
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      if (id !== sent) replaced.push(sent);
    }
    expect(replaced).toHaveLength(6);
  });

  it('answers an unknown route with application/problem+json', async () => {
    const response = await fetch(`${base}/no-such-route`);
    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const body = (await response.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ status: 404, code: 'HTTP.NOT_FOUND', title: 'Not Found' });
    expect(body.requestId).toBe(response.headers.get('x-request-id'));
  });

  it('answers a malformed JSON body with a 400 problem, not a 500', async () => {
    const response = await fetch(`${base}/health`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"unterminated',
    });
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  });

  it('reports 503 as a problem, with the failing check, once the store is gone', async () => {
    await app.get<EventStore>(EVENT_STORE).close();
    const response = await fetch(`${base}/health`, { headers: SCRAPER });
    expect(response.status).toBe(503);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(await response.json()).toMatchObject({
      status: 503,
      checks: { eventStore: { status: 'down', detail: 'closed' } },
    });
    // Without the token: the same 503, the failing check named, its detail not.
    const anyone = await fetch(`${base}/health`);
    expect(anyone.status).toBe(503);
    expect(anyone.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const body = (await anyone.json()) as { checks: Record<string, unknown> };
    expect(body).toMatchObject({ status: 503 });
    expect(body.checks.eventStore).toEqual({ status: 'down' });
    expect(JSON.stringify(body)).not.toContain('closed');
  });
});

describe('ledger-api refuses to boot on bad configuration (e2e)', () => {
  it('exits 1 and names every wrong variable', () => {
    const run = spawnSync(process.execPath, [require.resolve('tsx/cli'), 'apps/ledger-api/src/main.ts'], {
      env: { ...process.env, PORT: '99999', SQLITE_SYNCHRONOUS: 'OFF', LOG_LEVEL: 'loud' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('Configuration error:');
    expect(run.stderr).toContain('PORT must be an integer from 0 to 65535 (got "99999")');
    expect(run.stderr).toContain('SQLITE_SYNCHRONOUS must be FULL or NORMAL (got "OFF")');
    expect(run.stderr).toContain('LOG_LEVEL must be one of');
  });
});

describe('malformed HTTP (e2e)', () => {
  it('answers a request Node cannot parse with a 400 problem document', async () => {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { connect } = await import('node:net');
    const dir = mkdtempSync(join(tmpdir(), 'nrm-e2e-'));
    const app = await createApp(loadConfig({ DATA_DIR: dir, LOG_LEVEL: 'silent' }));
    await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      const { port } = new URL(await app.getUrl());
      const answer = await new Promise<string>((resolve, reject) => {
        const socket = connect(Number(port), '127.0.0.1', () =>
          socket.write('GET /health HTTP/1.1\r\nHost: x\r\nX-Bad: a\u0001b\r\n\r\n'),
        );
        let text = '';
        socket.on('data', (d: Buffer) => (text += d.toString()));
        socket.on('end', () => resolve(text));
        socket.on('error', reject);
      });
      expect(answer).toMatch(/^HTTP\/1\.1 400/);
      expect(answer).toContain('content-type: application/problem+json');
      expect(answer).toContain('"code":"HTTP.MALFORMED_REQUEST"');
    } finally {
      await app.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
