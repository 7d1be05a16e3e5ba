import { readFileSync } from 'node:fs';
import { connectionStringProblem } from '@nrm/event-store';

/** Every setting the relay reads from its environment, validated at start with one line per problem. */
export interface RelayConfig {
  /** Bootstrap brokers, `host:port`. */
  readonly KAFKA_BROKERS: readonly string[];
  /** TLS to the brokers (required with SASL unless explicitly `false`, which only tests should do). */
  readonly KAFKA_SSL: boolean;
  /** PEM file of the CA that signed the brokers' certificates; the system CAs when unset. */
  readonly KAFKA_SSL_CA_FILE: string | undefined;
  /** SASL/SCRAM authentication of the relay's user; none when unset. */
  readonly KAFKA_SASL_MECHANISM: KafkaSaslMechanism | undefined;
  readonly KAFKA_SASL_USERNAME: string | undefined;
  readonly KAFKA_SASL_PASSWORD: string | undefined;
  readonly DATA_DIR: string;
  readonly EVENT_STORE: 'sqlite' | 'postgres' | 'eventstoredb';
  /** With EVENT_STORE=postgres: the same connection string and schema the api uses. */
  readonly EVENT_STORE_URL: string | undefined;
  readonly EVENT_STORE_SCHEMA: string;
  /** With EVENT_STORE=eventstoredb: the same connection string the api uses. */
  readonly EVENTSTOREDB_URL: string | undefined;
  readonly SQLITE_SYNCHRONOUS: 'FULL' | 'NORMAL';
  readonly RELAY_CLIENT_ID: string;
  /** Put before every topic name (`<prefix>nrm.agency.<agencyId>`, `<prefix>nrm.coordinator`). */
  readonly RELAY_TOPIC_PREFIX: string;
  readonly RELAY_BATCH_SIZE: number;
  readonly RELAY_RETRY_MAX_MS: number;
  /** GET /health answers on this port, on HOST; 0 picks a free one. */
  readonly RELAY_HEALTH_PORT: number;
  /** How often the audit log's new signed checkpoints are copied to `<prefix>nrm.audit.checkpoints`. */
  readonly RELAY_CHECKPOINT_COPY_MS: number;
  /** Where the api keeps the audit log: 'sqlite' (DATA_DIR/audit.sqlite, shared directory) or 'postgres'. */
  readonly AUDIT_LOG_STORE: 'sqlite' | 'postgres';
  /** With AUDIT_LOG_STORE=postgres: the same connection string and schema the api uses. */
  readonly AUDIT_LOG_URL: string | undefined;
  readonly AUDIT_LOG_SCHEMA: string;
  readonly HOST: string;
  readonly LOG_LEVEL: LogLevel;
}

export const KAFKA_SASL_MECHANISMS = ['scram-sha-512', 'scram-sha-256'] as const;
export type KafkaSaslMechanism = (typeof KAFKA_SASL_MECHANISMS)[number];

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export class RelayConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Relay configuration error:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'RelayConfigError';
  }
}

const BROKER = /^[A-Za-z0-9.-]+:\d{1,5}$/;
const NAME = /^[A-Za-z0-9._-]+$/;

export function loadRelayConfig(env: NodeJS.ProcessEnv = process.env): RelayConfig {
  const problems: string[] = [];
  const value = (name: string): string | undefined => {
    const raw = env[name];
    return raw === undefined || raw.trim() === '' ? undefined : raw.trim();
  };
  const integer = (name: string, fallback: number, min: number, max: number): number => {
    const raw = value(name);
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!/^\d+$/.test(raw) || n < min || n > max) {
      problems.push(`${name} must be an integer from ${min} to ${max}`);
      return fallback;
    }
    return n;
  };
  const oneOf = <T extends string>(name: string, allowed: readonly T[], fallback: T, hint = ''): T => {
    const raw = value(name);
    if (raw === undefined) return fallback;
    const found = allowed.find((a) => a === raw);
    const choices = allowed.length > 2 ? `one of ${allowed.join(', ')}` : allowed.join(' or ');
    if (found === undefined) problems.push(`${name} must be ${choices}${hint}`);
    return found ?? fallback;
  };

  const brokersRaw = value('KAFKA_BROKERS');
  const brokers = (brokersRaw ?? '').split(',').map((b) => b.trim());
  if (brokersRaw === undefined)
    problems.push('KAFKA_BROKERS is required: a comma-separated list of host:port, e.g. 127.0.0.1:19092');
  else if (!brokers.every((b) => BROKER.test(b) && Number(b.split(':')[1]) <= 65535))
    problems.push(
      'KAFKA_BROKERS must be a comma-separated list of host:port, e.g. kafka-1:9092,kafka-2:9092',
    );

  const clientId = value('RELAY_CLIENT_ID') ?? 'nrm-relay';
  if (!NAME.test(clientId)) problems.push('RELAY_CLIENT_ID must be letters, digits, ".", "_" or "-"');
  const prefix = value('RELAY_TOPIC_PREFIX') ?? '';
  if (prefix !== '' && (!NAME.test(prefix) || prefix.length > 100))
    problems.push('RELAY_TOPIC_PREFIX must be at most 100 letters, digits, ".", "_" or "-"');

  const kafka = kafkaSecurity(value, problems);
  const config: RelayConfig = {
    KAFKA_BROKERS: brokers,
    ...kafka,
    DATA_DIR: value('DATA_DIR') ?? './data',
    EVENT_STORE: oneOf('EVENT_STORE', ['sqlite', 'postgres', 'eventstoredb'] as const, 'sqlite'),
    EVENT_STORE_URL: value('EVENT_STORE_URL'),
    EVENT_STORE_SCHEMA: value('EVENT_STORE_SCHEMA') ?? 'nrm_events',
    EVENTSTOREDB_URL: value('EVENTSTOREDB_URL'),
    SQLITE_SYNCHRONOUS: oneOf('SQLITE_SYNCHRONOUS', ['FULL', 'NORMAL'] as const, 'FULL'),
    RELAY_CLIENT_ID: clientId,
    RELAY_TOPIC_PREFIX: prefix,
    RELAY_BATCH_SIZE: integer('RELAY_BATCH_SIZE', 500, 1, 10_000),
    RELAY_RETRY_MAX_MS: integer('RELAY_RETRY_MAX_MS', 30_000, 100, 600_000),
    RELAY_HEALTH_PORT: integer('RELAY_HEALTH_PORT', 3002, 0, 65535),
    RELAY_CHECKPOINT_COPY_MS: integer('RELAY_CHECKPOINT_COPY_MS', 5000, 100, 3_600_000),
    AUDIT_LOG_STORE: oneOf('AUDIT_LOG_STORE', ['sqlite', 'postgres'] as const, 'sqlite'),
    AUDIT_LOG_URL: value('AUDIT_LOG_URL'),
    AUDIT_LOG_SCHEMA: value('AUDIT_LOG_SCHEMA') ?? 'nrm_audit',
    HOST: value('HOST') ?? '127.0.0.1',
    LOG_LEVEL: oneOf('LOG_LEVEL', LOG_LEVELS, 'info'),
  };
  if (config.EVENT_STORE === 'postgres' && config.EVENT_STORE_URL === undefined)
    problems.push('EVENT_STORE_URL must be set when EVENT_STORE=postgres');
  if (config.EVENT_STORE_URL !== undefined && !/^postgres(ql)?:\/\/\S+$/.test(config.EVENT_STORE_URL))
    problems.push(
      'EVENT_STORE_URL must be a postgres:// connection string, e.g. postgres://ledger@db:5432/ledger',
    );
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(config.EVENT_STORE_SCHEMA))
    problems.push(
      'EVENT_STORE_SCHEMA must be lower-case letters, digits and _ (at most 63), not starting with a digit',
    );
  if (config.EVENT_STORE === 'eventstoredb') {
    if (config.EVENTSTOREDB_URL === undefined)
      problems.push('EVENTSTOREDB_URL must be set when EVENT_STORE=eventstoredb');
    else {
      const problem = connectionStringProblem(config.EVENTSTOREDB_URL);
      if (problem !== undefined) problems.push(`EVENTSTOREDB_URL ${problem}`);
    }
  }
  if (config.AUDIT_LOG_STORE === 'postgres' && config.AUDIT_LOG_URL === undefined)
    problems.push('AUDIT_LOG_URL must be set when AUDIT_LOG_STORE=postgres');
  if (config.AUDIT_LOG_URL !== undefined && !/^postgres(ql)?:\/\/\S+$/.test(config.AUDIT_LOG_URL))
    problems.push(
      'AUDIT_LOG_URL must be a postgres:// connection string, e.g. postgres://audit@db:5432/ledger',
    );
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(config.AUDIT_LOG_SCHEMA))
    problems.push(
      'AUDIT_LOG_SCHEMA must be lower-case letters, digits and _ (at most 63), not starting with a digit',
    );
  if (problems.length > 0) throw new RelayConfigError(problems);
  return config;
}

type KafkaSecurity = Pick<
  RelayConfig,
  'KAFKA_SSL' | 'KAFKA_SSL_CA_FILE' | 'KAFKA_SASL_MECHANISM' | 'KAFKA_SASL_USERNAME' | 'KAFKA_SASL_PASSWORD'
>;

/**
 * TLS and SASL/SCRAM towards Kafka. Every half-given setting stops the boot: a relay that would
 * connect without the authentication its operator meant to give it must not start.
 */
function kafkaSecurity(value: (name: string) => string | undefined, problems: string[]): KafkaSecurity {
  const sslRaw = value('KAFKA_SSL');
  if (sslRaw !== undefined && sslRaw !== 'true' && sslRaw !== 'false')
    problems.push('KAFKA_SSL must be true or false');
  const ssl = sslRaw === 'true';
  const caFile = value('KAFKA_SSL_CA_FILE');
  if (caFile !== undefined) {
    if (!ssl) problems.push('KAFKA_SSL_CA_FILE is set but KAFKA_SSL is not true: set KAFKA_SSL=true');
    let pem: string | undefined;
    try {
      pem = readFileSync(caFile, 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
      problems.push(`KAFKA_SSL_CA_FILE cannot be read (${code}): ${caFile}`);
    }
    if (pem !== undefined && !pem.includes('-----BEGIN CERTIFICATE-----'))
      problems.push(`KAFKA_SSL_CA_FILE holds no PEM certificate: ${caFile}`);
  }

  const mechanismRaw = value('KAFKA_SASL_MECHANISM');
  const mechanism = KAFKA_SASL_MECHANISMS.find((m) => m === mechanismRaw?.toLowerCase());
  if (mechanismRaw !== undefined && mechanism === undefined)
    problems.push(`KAFKA_SASL_MECHANISM must be ${KAFKA_SASL_MECHANISMS.join(' or ')}`);
  const username = value('KAFKA_SASL_USERNAME');
  const password = value('KAFKA_SASL_PASSWORD');
  if (mechanismRaw !== undefined) {
    if (username === undefined) problems.push('KAFKA_SASL_USERNAME is required with KAFKA_SASL_MECHANISM');
    else if (!/^[A-Za-z0-9._@-]{1,200}$/.test(username))
      problems.push('KAFKA_SASL_USERNAME must be letters, digits, ".", "_", "@" or "-"');
    if (password === undefined) problems.push('KAFKA_SASL_PASSWORD is required with KAFKA_SASL_MECHANISM');
    // SCRAM sends no password, but over plaintext anyone on the path sees every message.
    if (sslRaw === undefined)
      problems.push(
        'KAFKA_SSL must be set with KAFKA_SASL_MECHANISM: true, or false to authenticate over plaintext (tests only)',
      );
  } else if (username !== undefined || password !== undefined)
    problems.push(
      'KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD need KAFKA_SASL_MECHANISM (scram-sha-512 or scram-sha-256)',
    );
  return {
    KAFKA_SSL: ssl,
    KAFKA_SSL_CA_FILE: caFile,
    KAFKA_SASL_MECHANISM: mechanism,
    KAFKA_SASL_USERNAME: mechanism !== undefined ? username : undefined,
    KAFKA_SASL_PASSWORD: mechanism !== undefined ? password : undefined,
  };
}
