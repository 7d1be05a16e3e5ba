import type { LoggerService } from '@nestjs/common';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '@nrm/runtime';
import { QuietBootLogger, startupFacts, startupLine } from './startup';

describe('startup output', () => {
  it('logs Nest boot chatter (modules, routes) at debug and everything else as given', () => {
    const calls: string[] = [];
    const inner: LoggerService = {
      log: (m: unknown, c?: unknown) => void calls.push(`log ${String(c)} ${String(m)}`),
      debug: (m: unknown, c?: unknown) => void calls.push(`debug ${String(c)} ${String(m)}`),
      error: () => undefined,
      warn: () => undefined,
    };
    const logger = new QuietBootLogger(inner);
    logger.log('Mapped {/health, GET} route', 'RouterExplorer');
    logger.log('AppModule dependencies initialized', 'InstanceLoader');
    logger.log('caught up', 'Projector');
    expect(calls).toEqual([
      'debug RouterExplorer Mapped {/health, GET} route',
      'debug InstanceLoader AppModule dependencies initialized',
      'log Projector caught up',
    ]);
  });

  it('names the URL, the docs, the data directory and the stores in one line', () => {
    const config = loadConfig({
      DATA_DIR: '/tmp/ledger-data',
      HOST: '0.0.0.0',
      CONSOLE_DIR: '/nonexistent/console',
    });
    const facts = startupFacts(config, 41234);
    expect(facts.url).toBe('http://127.0.0.1:41234');
    const line = startupLine(facts);
    expect(line.split('\n')).toEqual([
      'nrm-ledger listening on http://127.0.0.1:41234  API docs http://127.0.0.1:41234/docs  data /tmp/ledger-data  ' +
        'event store sqlite /tmp/ledger-data/events.sqlite  read models sqlite (projector embedded)  ' +
        'console not built (npm run build:console)',
      '',
    ]);
  });

  it('names a PostgreSQL event store by its schema, never its URL (which holds a password)', () => {
    const config = loadConfig({
      EVENT_STORE: 'postgres',
      EVENT_STORE_URL: 'postgres://nrm_events:invented-password@db:5432/nrm_events',
      EVENT_STORE_SCHEMA: 'nrm_events',
      ID_DERIVATION_SECRET: 'an-invented-secret-of-at-least-32-characters',
      KEY_STORE: 'postgres',
      KEY_STORE_URL: 'postgres://keys@db:5432/ledger',
      AUDIT_LOG_STORE: 'postgres',
      AUDIT_LOG_URL: 'postgres://audit@db:5432/ledger',
    });
    const line = startupLine(startupFacts(config, 3000));
    expect(line).toContain('event store postgres schema nrm_events ');
    expect(line).not.toContain('invented-password');
  });

  it('names where to open the console once it is built', () => {
    const built = mkdtempSync(join(tmpdir(), 'nrm-console-'));
    try {
      writeFileSync(join(built, 'index.html'), '<!doctype html>');
      const facts = startupFacts(loadConfig({ DATA_DIR: '/tmp/ledger-data', CONSOLE_DIR: built }), 41234);
      expect(facts.console).toBe('http://127.0.0.1:41234/console/');
      expect(startupLine(facts)).toMatch(/ {2}console http:\/\/127\.0\.0\.1:41234\/console\/\n$/);
    } finally {
      rmSync(built, { recursive: true, force: true });
    }
  });
});
