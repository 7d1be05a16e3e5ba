import type { LoggerService } from '@nestjs/common';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { redactConnectionString } from '@nrm/event-store';
import type { LedgerConfig } from '@nrm/runtime';

/**
 * Nest's boot chatter (one line per module and per route: about ninety) is
 * logged at debug, so that at the default level the first lines a person reads
 * are the ledger's own. Everything else passes through unchanged.
 */
const BOOT_CONTEXTS = new Set([
  'NestFactory',
  'InstanceLoader',
  'RoutesResolver',
  'RouterExplorer',
  'NestApplication',
]);

export class QuietBootLogger implements LoggerService {
  constructor(private readonly inner: LoggerService) {}

  log(message: unknown, ...rest: unknown[]): void {
    const context = rest[rest.length - 1];
    if (typeof context === 'string' && BOOT_CONTEXTS.has(context) && this.inner.debug)
      this.inner.debug(message, ...rest);
    else this.inner.log(message, ...rest);
  }
  error(message: unknown, ...rest: unknown[]): void {
    this.inner.error(message, ...rest);
  }
  warn(message: unknown, ...rest: unknown[]): void {
    this.inner.warn(message, ...rest);
  }
  debug(message: unknown, ...rest: unknown[]): void {
    this.inner.debug?.(message, ...rest);
  }
  verbose(message: unknown, ...rest: unknown[]): void {
    this.inner.verbose?.(message, ...rest);
  }
  fatal(message: unknown, ...rest: unknown[]): void {
    if (this.inner.fatal) this.inner.fatal(message, ...rest);
    else this.inner.error(message, ...rest);
  }
}

/** Where the ledger answers and what it stores in, as a person reads it after `npm start`. */
export interface StartupFacts {
  readonly url: string;
  readonly docs: string;
  readonly dataDir: string;
  readonly eventStore: string;
  readonly readModels: string;
  readonly projector: LedgerConfig['PROJECTOR'];
  /** Where to open the web console, or undefined when CONSOLE_DIR holds no build. */
  readonly console: string | undefined;
}

export function startupFacts(config: LedgerConfig, port: number): StartupFacts {
  // A wildcard address is not one to open in a browser: name the loopback instead.
  const host = config.HOST === '0.0.0.0' || config.HOST === '::' ? '127.0.0.1' : config.HOST;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const dataDir = resolve(config.DATA_DIR);
  return {
    url,
    docs: `${url}/docs`,
    dataDir,
    eventStore:
      config.EVENT_STORE === 'sqlite'
        ? `sqlite ${resolve(dataDir, 'events.sqlite')}`
        : config.EVENT_STORE === 'postgres'
          ? `postgres schema ${config.EVENT_STORE_SCHEMA}`
          : `eventstoredb ${redactConnectionString(config.EVENTSTOREDB_URL ?? '')}`,
    readModels:
      config.READ_MODEL_STORE === 'sqlite' ? 'sqlite' : `postgres schema ${config.READ_MODEL_SCHEMA}`,
    projector: config.PROJECTOR,
    console: existsSync(resolve(config.CONSOLE_DIR, 'index.html')) ? `${url}/console/` : undefined,
  };
}

/** The one line `npm start` prints for a person (on stderr: stdout stays JSON log lines). */
export function startupLine(facts: StartupFacts): string {
  return (
    `nrm-ledger listening on ${facts.url}  API docs ${facts.docs}  data ${facts.dataDir}  ` +
    `event store ${facts.eventStore}  read models ${facts.readModels} (projector ${facts.projector})  ` +
    `console ${facts.console ?? 'not built (npm run build:console)'}\n`
  );
}
