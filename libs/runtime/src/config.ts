import { plainToInstance } from 'class-transformer';
import { NOTE_COSIGNATURE_V1, parseVerifierKey } from '@nrm/audit';
import { AGENCY_KINDS, type AgencyKind } from '@nrm/shared-kernel';
import { connectionStringProblem, redactConnectionString } from '@nrm/event-store';
import {
  IsIn,
  IsInt,
  IsNotEmpty,
  IsOptional,
  IsString,
  IsUrl,
  Matches,
  Max,
  MinLength,
  Min,
  validateSync,
} from 'class-validator';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * Every setting the ledger reads from its environment, with its default.
 * The README's configuration table lists the same names: keep them together.
 */
export class LedgerConfig {
  @IsInt({ message: 'PORT must be an integer from 0 to 65535' })
  @Min(0, { message: 'PORT must be an integer from 0 to 65535' })
  @Max(65535, { message: 'PORT must be an integer from 0 to 65535' })
  PORT = 3000;

  @IsString()
  @IsNotEmpty({ message: 'HOST must name an interface address, e.g. 127.0.0.1 or 0.0.0.0' })
  HOST = '127.0.0.1';

  @IsString()
  @IsNotEmpty({ message: 'DATA_DIR must be a directory path' })
  DATA_DIR = './data';

  /** The built web console (`npm run build:console`), served at /console; absent, /console is not served. */
  @IsString()
  @IsNotEmpty({ message: 'CONSOLE_DIR must be a directory path' })
  CONSOLE_DIR = './dist/console';

  @IsIn(['sqlite', 'postgres', 'eventstoredb'], {
    message: "EVENT_STORE must be 'sqlite' (the embedded default), 'postgres' or 'eventstoredb'",
  })
  EVENT_STORE: 'sqlite' | 'postgres' | 'eventstoredb' = 'sqlite';

  /** PostgreSQL connection string of the event store, required with EVENT_STORE=postgres. */
  @IsOptional()
  @Matches(/^postgres(ql)?:\/\/\S+$/, {
    message: 'EVENT_STORE_URL must be a postgres:// connection string, e.g. postgres://ledger@db:5432/ledger',
  })
  EVENT_STORE_URL?: string = undefined;

  /** The PostgreSQL schema of the events, with EVENT_STORE=postgres. */
  @Matches(/^[a-z_][a-z0-9_]{0,62}$/, {
    message:
      'EVENT_STORE_SCHEMA must be lower-case letters, digits and _ (at most 63), not starting with a digit',
  })
  EVENT_STORE_SCHEMA = 'nrm_events';

  /** EventStoreDB/KurrentDB connection string, required with EVENT_STORE=eventstoredb (checked in loadConfig). */
  @IsOptional()
  @IsString()
  EVENTSTOREDB_URL?: string = undefined;

  @IsIn(['FULL', 'NORMAL'], { message: 'SQLITE_SYNCHRONOUS must be FULL or NORMAL' })
  SQLITE_SYNCHRONOUS: 'FULL' | 'NORMAL' = 'FULL';

  /**
   * With FULL, commit the SQLite event store's appends on a writer thread, so that the API's event
   * loop never waits for an fsync (on); or on the event loop (off), which saves a hop between
   * threads per group where every core is saturated anyway.
   */
  @IsIn(['on', 'off'], { message: 'SQLITE_WRITER_THREAD must be on or off' })
  SQLITE_WRITER_THREAD: 'on' | 'off' = 'on';

  @IsIn(LOG_LEVELS, { message: `LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}` })
  LOG_LEVEL: LogLevel = 'info';

  /**
   * on: each log line is written to stdout before the call that logs it returns (a blocking write
   * per line). off: lines are gathered in memory and written in chunks of 4 KiB, or every 100 ms,
   * by an asynchronous write, and flushed synchronously on a clean exit, a fatal line or an
   * uncaught exception; a kill -9 or a power cut loses the lines of the last 100 ms at most.
   */
  @IsIn(['on', 'off'], { message: 'LOG_SYNC must be on or off' })
  LOG_SYNC: 'on' | 'off' = 'off';

  @IsInt({ message: 'BODY_LIMIT_BYTES must be an integer from 1024 to 16777216' })
  @Min(1024, { message: 'BODY_LIMIT_BYTES must be an integer from 1024 to 16777216' })
  @Max(16 * 1024 * 1024, { message: 'BODY_LIMIT_BYTES must be an integer from 1024 to 16777216' })
  BODY_LIMIT_BYTES = 1024 * 1024;

  /** Agency kinds competent to decide reasonable and conclusive grounds (a country's choice). */
  @IsIn(AGENCY_KINDS, {
    each: true,
    message: `COMPETENT_AGENCY_KINDS must list kinds among ${AGENCY_KINDS.join(', ')}`,
  })
  COMPETENT_AGENCY_KINDS: AgencyKind[] = ['law-enforcement', 'asylum-authority', 'national-coordinator'];

  /** Smallest count the coordinator's statistics publish: the installation's, never a request's. */
  @IsInt({ message: 'STATS_MIN_CELL must be an integer from 2 to 100' })
  @Min(2, { message: 'STATS_MIN_CELL must be an integer from 2 to 100' })
  @Max(100, { message: 'STATS_MIN_CELL must be an integer from 2 to 100' })
  STATS_MIN_CELL = 5;

  /** Region codes the coordinator's statistics publish as columns; cases of any other region count under `other`. */
  @Matches(/^(?!other$)[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/, {
    each: true,
    message: 'STATS_REGIONS must list region codes (letters, digits, ".", "_", ":", "-"), other than "other"',
  })
  STATS_REGIONS: string[] = [];

  /** Where read models live: a SQLite file under DATA_DIR (embedded default) or PostgreSQL (production). */
  @IsIn(['sqlite', 'postgres'], { message: "READ_MODEL_STORE must be 'sqlite' or 'postgres'" })
  READ_MODEL_STORE: 'sqlite' | 'postgres' = 'sqlite';

  /** PostgreSQL connection string, required with READ_MODEL_STORE=postgres. */
  @IsOptional()
  @Matches(/^postgres(ql)?:\/\/\S+$/, {
    message: 'READ_MODEL_URL must be a postgres:// connection string, e.g. postgres://ledger@db:5432/ledger',
  })
  READ_MODEL_URL?: string = undefined;

  /** The PostgreSQL schema of the read models. */
  @Matches(/^[a-z_][a-z0-9_]{0,62}$/, {
    message:
      'READ_MODEL_SCHEMA must be lower-case letters, digits and _ (at most 63), not starting with a digit',
  })
  READ_MODEL_SCHEMA = 'nrm_read_models';

  /**
   * 'embedded': the API process runs the projector (the default). 'external': a
   * separate projector process (apps/projector) keeps the read models; the API
   * only reads them and follows the projector's checkpoints.
   */
  @IsIn(['embedded', 'external'], { message: "PROJECTOR must be 'embedded' or 'external'" })
  PROJECTOR: 'embedded' | 'external' = 'embedded';

  /**
   * With PROJECTOR=embedded, run the projector in a worker thread of the API process, on its own
   * connections to the stores, so that applying events and committing the read models never run
   * on the event loop that serves requests (on); or on that loop (off).
   */
  @IsIn(['on', 'off'], { message: 'PROJECTOR_THREAD must be on or off' })
  PROJECTOR_THREAD: 'on' | 'off' = 'on';

  /** Where subjects' data keys live (apart from the events): a SQLite file under DATA_DIR, or PostgreSQL. */
  @IsIn(['sqlite', 'postgres'], { message: "KEY_STORE must be 'sqlite' or 'postgres'" })
  KEY_STORE: 'sqlite' | 'postgres' = 'sqlite';

  /** PostgreSQL connection string, required with KEY_STORE=postgres. */
  @IsOptional()
  @Matches(/^postgres(ql)?:\/\/\S+$/, {
    message: 'KEY_STORE_URL must be a postgres:// connection string, e.g. postgres://keys@db:5432/ledger',
  })
  KEY_STORE_URL?: string = undefined;

  /** The PostgreSQL schema of the key store. */
  @Matches(/^[a-z_][a-z0-9_]{0,62}$/, {
    message:
      'KEY_STORE_SCHEMA must be lower-case letters, digits and _ (at most 63), not starting with a digit',
  })
  KEY_STORE_SCHEMA = 'nrm_keys';

  /**
   * The erasure register (JSON lines: subject id, time): every destroyed key, kept apart from the
   * backups so that a restore re-applies erasures made after its backup. Default
   * DATA_DIR/erasure-register.jsonl; put it on other storage than DATA_DIR and its backups.
   */
  @IsOptional()
  @IsString()
  @IsNotEmpty({ message: 'ERASURE_REGISTER_FILE must be a file path' })
  ERASURE_REGISTER_FILE?: string = undefined;

  /**
   * Where the verifiable audit log lives: 'sqlite' (DATA_DIR/audit.sqlite, the embedded default;
   * a file lock beside it lets one process write) or 'postgres' (one log for every API replica,
   * a PostgreSQL advisory lock lets one write; each keeps a checked replica in DATA_DIR).
   */
  @IsIn(['sqlite', 'postgres'], { message: "AUDIT_LOG_STORE must be 'sqlite' or 'postgres'" })
  AUDIT_LOG_STORE: 'sqlite' | 'postgres' = 'sqlite';

  /**
   * Run the verifiable audit log (hashing each event into the tree, signing checkpoints), its
   * integrity watch and the audit routes' answers in a worker thread of the API process, on its
   * own connections to the stores (on); or on the event loop that serves requests (off).
   */
  @IsIn(['on', 'off'], { message: 'AUDIT_LOG_THREAD must be on or off' })
  AUDIT_LOG_THREAD: 'on' | 'off' = 'on';

  /** PostgreSQL connection string, required with AUDIT_LOG_STORE=postgres. */
  @IsOptional()
  @Matches(/^postgres(ql)?:\/\/\S+$/, {
    message: 'AUDIT_LOG_URL must be a postgres:// connection string, e.g. postgres://audit@db:5432/ledger',
  })
  AUDIT_LOG_URL?: string = undefined;

  /** The PostgreSQL schema of the audit log. */
  @Matches(/^[a-z_][a-z0-9_]{0,62}$/, {
    message:
      'AUDIT_LOG_SCHEMA must be lower-case letters, digits and _ (at most 63), not starting with a digit',
  })
  AUDIT_LOG_SCHEMA = 'nrm_audit';

  /** The Ed25519 key that signs the audit log's checkpoints (PEM); default DATA_DIR/audit-signing-key.pem, made on first use (0600). */
  @IsOptional()
  @IsString()
  @IsNotEmpty({ message: 'AUDIT_SIGNING_KEY_FILE must be a file path' })
  AUDIT_SIGNING_KEY_FILE?: string = undefined;

  /** The log's origin: the first line of every checkpoint note and its key's name; default derived from the key. */
  @IsOptional()
  @Matches(/^[^\s+]{1,200}$/u, {
    message: 'AUDIT_LOG_ORIGIN must be a name without spaces or "+", e.g. ledger.example.org/audit',
  })
  AUDIT_LOG_ORIGIN?: string = undefined;

  /** Witnesses whose cosignatures the ledger takes: C2SP verifier keys of type 0x04, comma-separated. */
  @Matches(/^[^\s+]+\+[0-9a-f]{8}\+BA?[A-Za-z0-9+/]+=*$/, {
    each: true,
    message: 'AUDIT_WITNESS_KEYS must list witness verifier keys <name>+<8 hex>+<base64 of 0x04 and the key>',
  })
  AUDIT_WITNESS_KEYS: string[] = [];

  /** A signed checkpoint of the audit log after this many new events. */
  @IsInt({ message: 'AUDIT_CHECKPOINT_EVERY must be an integer from 1 to 1000000' })
  @Min(1, { message: 'AUDIT_CHECKPOINT_EVERY must be an integer from 1 to 1000000' })
  @Max(1_000_000, { message: 'AUDIT_CHECKPOINT_EVERY must be an integer from 1 to 1000000' })
  AUDIT_CHECKPOINT_EVERY = 1000;

  /** ... and at least this often while the log grows. */
  @IsInt({ message: 'AUDIT_CHECKPOINT_INTERVAL_SECONDS must be an integer from 1 to 86400' })
  @Min(1, { message: 'AUDIT_CHECKPOINT_INTERVAL_SECONDS must be an integer from 1 to 86400' })
  @Max(86_400, { message: 'AUDIT_CHECKPOINT_INTERVAL_SECONDS must be an integer from 1 to 86400' })
  AUDIT_CHECKPOINT_INTERVAL_SECONDS = 60;

  /** How often the running ledger compares the store's head and last event with the audit log. */
  @IsInt({ message: 'AUDIT_INTEGRITY_CHECK_SECONDS must be an integer from 1 to 3600' })
  @Min(1, { message: 'AUDIT_INTEGRITY_CHECK_SECONDS must be an integer from 1 to 3600' })
  @Max(3600, { message: 'AUDIT_INTEGRITY_CHECK_SECONDS must be an integer from 1 to 3600' })
  AUDIT_INTEGRITY_CHECK_SECONDS = 5;

  /**
   * The read models (SQLite) against a rebuild from the events: `on` checks at start, before
   * serving, and then every READ_MODEL_CHECK_SECONDS; a divergence refuses queries and fails /health.
   */
  @IsIn(['on', 'off'], { message: "READ_MODEL_CHECK must be 'on' or 'off'" })
  READ_MODEL_CHECK: 'on' | 'off' = 'on';

  /** Seconds between two periodic read-model checks (0: at start only). */
  @IsInt({ message: 'READ_MODEL_CHECK_SECONDS must be an integer from 0 to 604800' })
  @Min(0, { message: 'READ_MODEL_CHECK_SECONDS must be an integer from 0 to 604800' })
  @Max(604_800, { message: 'READ_MODEL_CHECK_SECONDS must be an integer from 0 to 604800' })
  READ_MODEL_CHECK_SECONDS = 3600;

  /** The full re-hash of the store against the log: events per second at most (0: none). */
  @IsInt({ message: 'AUDIT_REHASH_EVENTS_PER_SECOND must be an integer from 0 to 1000000' })
  @Min(0, { message: 'AUDIT_REHASH_EVENTS_PER_SECOND must be an integer from 0 to 1000000' })
  @Max(1_000_000, { message: 'AUDIT_REHASH_EVENTS_PER_SECOND must be an integer from 0 to 1000000' })
  AUDIT_REHASH_EVENTS_PER_SECOND = 1000;

  /** Pause between two full re-hash passes. */
  @IsInt({ message: 'AUDIT_REHASH_PAUSE_SECONDS must be an integer from 0 to 604800' })
  @Min(0, { message: 'AUDIT_REHASH_PAUSE_SECONDS must be an integer from 0 to 604800' })
  @Max(604_800, { message: 'AUDIT_REHASH_PAUSE_SECONDS must be an integer from 0 to 604800' })
  AUDIT_REHASH_PAUSE_SECONDS = 3600;

  /** A signed checkpoint kept outside DATA_DIR (JSON): the log must reach it, with the same root. */
  @IsOptional()
  @IsString()
  @IsNotEmpty({ message: 'AUDIT_ANCHOR_CHECKPOINT_FILE must be a file path' })
  AUDIT_ANCHOR_CHECKPOINT_FILE?: string = undefined;

  /**
   * Keys the ids derived from an Idempotency-Key. Set the same value (32+ characters) on every
   * process writing to one EventStoreDB; unset, it is made once into DATA_DIR.
   */
  @IsOptional()
  @IsString()
  @MinLength(32, { message: 'ID_DERIVATION_SECRET must be at least 32 characters' })
  ID_DERIVATION_SECRET?: string = undefined;

  /**
   * The bearer credential Prometheus scrapes GET /metrics with (`Authorization: Bearer <token>`).
   * Unset, /metrics is off: it answers 404 as an unknown path does. Not an agency's credential.
   */
  @IsOptional()
  @Matches(/^[A-Za-z0-9._~+/-]{32,512}$/, {
    message:
      'METRICS_TOKEN must be 32 to 512 characters of A-Z, a-z, 0-9 and . _ ~ + / - (e.g. openssl rand -hex 32)',
  })
  METRICS_TOKEN?: string = undefined;

  /** The projector process (apps/projector) answers GET /health on this port, on HOST. */
  @IsInt({ message: 'PROJECTOR_HEALTH_PORT must be an integer from 0 to 65535' })
  @Min(0, { message: 'PROJECTOR_HEALTH_PORT must be an integer from 0 to 65535' })
  @Max(65535, { message: 'PROJECTOR_HEALTH_PORT must be an integer from 0 to 65535' })
  PROJECTOR_HEALTH_PORT = 3001;

  /** JWT bearer tokens (production): all three set, or none. */
  @IsOptional()
  @IsUrl(
    { require_tld: false, protocols: ['http', 'https'], require_protocol: true },
    { message: 'AUTH_JWKS_URL must be an http(s) URL' },
  )
  AUTH_JWKS_URL?: string = undefined;

  @IsOptional()
  @IsString()
  AUTH_JWT_ISSUER?: string = undefined;

  @IsOptional()
  @IsString()
  AUTH_JWT_AUDIENCE?: string = undefined;

  /** One deadline for fetching the JWKS (connection, headers and body); past it a JWT request gets 503. */
  @IsInt({ message: 'AUTH_JWKS_TIMEOUT_MS must be an integer from 100 to 60000' })
  @Min(100, { message: 'AUTH_JWKS_TIMEOUT_MS must be an integer from 100 to 60000' })
  @Max(60_000, { message: 'AUTH_JWKS_TIMEOUT_MS must be an integer from 100 to 60000' })
  AUTH_JWKS_TIMEOUT_MS = 5000;

  /** A token with a key id not in the cached JWKS fetches it again at most this often. */
  @IsInt({ message: 'AUTH_JWKS_COOLDOWN_MS must be an integer from 0 to 3600000' })
  @Min(0, { message: 'AUTH_JWKS_COOLDOWN_MS must be an integer from 0 to 3600000' })
  @Max(3_600_000, { message: 'AUTH_JWKS_COOLDOWN_MS must be an integer from 0 to 3600000' })
  AUTH_JWKS_COOLDOWN_MS = 30_000;

  /**
   * Where the rate limits count: 'memory' (each process on its own, the embedded default) or 'redis'
   * (shared by every API replica; REDIS_URL). An unreachable Redis fails open to per-process counts.
   */
  @IsIn(['memory', 'redis'], { message: "RATE_LIMIT_STORE must be 'memory' or 'redis'" })
  RATE_LIMIT_STORE: 'memory' | 'redis' = 'memory';

  /** Redis for the shared rate limits, required with RATE_LIMIT_STORE=redis. */
  @IsOptional()
  @Matches(/^rediss?:\/\/\S+$/, {
    message: 'REDIS_URL must be a redis:// or rediss:// URL, e.g. redis://redis:6379/0',
  })
  REDIS_URL?: string = undefined;

  /** The window every rate limit but the failed-authentication one counts over. */
  @IsInt({ message: 'RATE_LIMIT_WINDOW_SECONDS must be an integer from 1 to 3600' })
  @Min(1, { message: 'RATE_LIMIT_WINDOW_SECONDS must be an integer from 1 to 3600' })
  @Max(3600, { message: 'RATE_LIMIT_WINDOW_SECONDS must be an integer from 1 to 3600' })
  RATE_LIMIT_WINDOW_SECONDS = 60;

  /** Requests one principal may make per window (every replica together with RATE_LIMIT_STORE=redis). */
  @IsInt({ message: 'RATE_LIMIT_PER_PRINCIPAL must be an integer from 1 to 10000000' })
  @Min(1, { message: 'RATE_LIMIT_PER_PRINCIPAL must be an integer from 1 to 10000000' })
  @Max(10_000_000, { message: 'RATE_LIMIT_PER_PRINCIPAL must be an integer from 1 to 10000000' })
  RATE_LIMIT_PER_PRINCIPAL = 1200;

  /** Requests without a credential (the API docs, a request that forgot its key) per client address per window. */
  @IsInt({ message: 'RATE_LIMIT_PER_ADDRESS must be an integer from 1 to 10000000' })
  @Min(1, { message: 'RATE_LIMIT_PER_ADDRESS must be an integer from 1 to 10000000' })
  @Max(10_000_000, { message: 'RATE_LIMIT_PER_ADDRESS must be an integer from 1 to 10000000' })
  RATE_LIMIT_PER_ADDRESS = 120;

  /** Failed authentications a client address may have per failed-auth window; past them its credentials are refused unchecked. */
  @IsInt({ message: 'RATE_LIMIT_FAILED_AUTH must be an integer from 1 to 10000000' })
  @Min(1, { message: 'RATE_LIMIT_FAILED_AUTH must be an integer from 1 to 10000000' })
  @Max(10_000_000, { message: 'RATE_LIMIT_FAILED_AUTH must be an integer from 1 to 10000000' })
  RATE_LIMIT_FAILED_AUTH = 20;

  @IsInt({ message: 'RATE_LIMIT_FAILED_AUTH_WINDOW_SECONDS must be an integer from 1 to 86400' })
  @Min(1, { message: 'RATE_LIMIT_FAILED_AUTH_WINDOW_SECONDS must be an integer from 1 to 86400' })
  @Max(86_400, { message: 'RATE_LIMIT_FAILED_AUTH_WINDOW_SECONDS must be an integer from 1 to 86400' })
  RATE_LIMIT_FAILED_AUTH_WINDOW_SECONDS = 900;

  /**
   * Proxies (addresses or CIDR ranges) whose X-Forwarded-For names the client: set it to the
   * ingress's addresses, or every client behind it shares one address and one limit.
   */
  @Matches(/^[0-9A-Fa-f.:]+(\/\d{1,3})?$/, {
    each: true,
    message: 'TRUST_PROXY must list IP addresses or CIDR ranges, e.g. 10.0.0.0/8,127.0.0.1',
  })
  TRUST_PROXY: string[] = [];
}

export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Configuration error:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

const NUMERIC: ReadonlySet<string> = new Set([
  'PORT',
  'BODY_LIMIT_BYTES',
  'STATS_MIN_CELL',
  'PROJECTOR_HEALTH_PORT',
  'AUDIT_CHECKPOINT_EVERY',
  'AUDIT_CHECKPOINT_INTERVAL_SECONDS',
  'AUTH_JWKS_TIMEOUT_MS',
  'AUTH_JWKS_COOLDOWN_MS',
  'AUDIT_INTEGRITY_CHECK_SECONDS',
  'AUDIT_REHASH_EVENTS_PER_SECOND',
  'AUDIT_REHASH_PAUSE_SECONDS',
  'READ_MODEL_CHECK_SECONDS',
  'RATE_LIMIT_WINDOW_SECONDS',
  'RATE_LIMIT_PER_PRINCIPAL',
  'RATE_LIMIT_PER_ADDRESS',
  'RATE_LIMIT_FAILED_AUTH',
  'RATE_LIMIT_FAILED_AUTH_WINDOW_SECONDS',
]);
/** Values never shown in a configuration error. */
const SECRETS: ReadonlySet<string> = new Set(['METRICS_TOKEN', 'ID_DERIVATION_SECRET']);
const LISTS: ReadonlySet<string> = new Set([
  'COMPETENT_AGENCY_KINDS',
  'AUDIT_WITNESS_KEYS',
  'STATS_REGIONS',
  'TRUST_PROXY',
]);

/**
 * Reads the configuration from environment variables. Every wrong value is
 * reported at once, each with its variable's name and what it must be.
 */
export function loadConfig(
  env: NodeJS.ProcessEnv = process.env,
  /** The projector process records nothing and opens no identity: the rules for ids and keys are not its. */
  options: { readonly writesRecords?: boolean } = {},
): LedgerConfig {
  const writesRecords = options.writesRecords ?? true;
  const defaults = new LedgerConfig();
  const raw: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const key of Object.keys(defaults)) {
    const value = env[key];
    if (value === undefined || value === '') continue;
    if (NUMERIC.has(key)) {
      const trimmed = value.trim();
      raw[key] = /^-?\d+$/.test(trimmed) ? Number(trimmed) : Number.NaN;
    } else if (LISTS.has(key)) {
      raw[key] = value
        .split(',')
        .map((v) => v.trim())
        .filter((v) => v.length > 0);
    } else {
      raw[key] = value;
    }
  }
  const config = Object.assign(defaults, plainToInstance(LedgerConfig, raw));
  for (const error of validateSync(config)) {
    const messages = Object.values(error.constraints ?? {});
    // A Redis URL may carry a password: shown without it.
    const shown =
      error.property === 'REDIS_URL' ? env.REDIS_URL?.replace(/\/\/[^@/]*@/, '//***@') : env[error.property];
    // A secret is never echoed, not even a wrong one: its length only.
    const got = SECRETS.has(error.property)
      ? `${String(env[error.property]).length} characters, not shown`
      : JSON.stringify(shown);
    problems.push(`${messages[0] ?? `${error.property} is invalid`} (got ${got})`);
  }
  const jwt = [config.AUTH_JWKS_URL, config.AUTH_JWT_ISSUER, config.AUTH_JWT_AUDIENCE].filter(
    (v) => v !== undefined,
  );
  if (jwt.length !== 0 && jwt.length !== 3)
    problems.push(
      'AUTH_JWKS_URL, AUTH_JWT_ISSUER and AUTH_JWT_AUDIENCE go together: set all three for JWT bearer tokens, or none',
    );
  if (config.READ_MODEL_STORE === 'postgres' && config.READ_MODEL_URL === undefined)
    problems.push('READ_MODEL_URL must be set when READ_MODEL_STORE=postgres');
  if (config.EVENT_STORE === 'eventstoredb' && config.EVENTSTOREDB_URL === undefined)
    problems.push('EVENTSTOREDB_URL must be set when EVENT_STORE=eventstoredb');
  const eventStoreDbProblem =
    config.EVENTSTOREDB_URL === undefined ? undefined : connectionStringProblem(config.EVENTSTOREDB_URL);
  if (config.EVENTSTOREDB_URL !== undefined && eventStoreDbProblem !== undefined)
    // Shown without its user name and password.
    problems.push(
      `EVENTSTOREDB_URL ${eventStoreDbProblem} (got ${JSON.stringify(redactConnectionString(config.EVENTSTOREDB_URL))})`,
    );
  if (config.EVENT_STORE === 'postgres' && config.EVENT_STORE_URL === undefined)
    problems.push(
      'EVENT_STORE_URL must be set when EVENT_STORE=postgres: a postgres:// connection string, e.g. postgres://ledger@db:5432/ledger',
    );
  // A shared event store is shared by replicas: ids and keys must be the same on each.
  const shared = config.EVENT_STORE === 'sqlite' ? undefined : `EVENT_STORE=${config.EVENT_STORE}`;
  if (writesRecords && shared !== undefined && config.ID_DERIVATION_SECRET === undefined)
    problems.push(`ID_DERIVATION_SECRET must be set when ${shared}: the same value on every API replica`);
  if (writesRecords && shared !== undefined && config.KEY_STORE !== 'postgres')
    problems.push(
      `KEY_STORE must be postgres when ${shared}: every replica must see the same keys, or an erasure would miss some`,
    );
  if (config.RATE_LIMIT_STORE === 'redis' && config.REDIS_URL === undefined)
    problems.push('REDIS_URL must be set when RATE_LIMIT_STORE=redis');
  if (writesRecords && shared !== undefined && config.AUDIT_LOG_STORE !== 'postgres')
    problems.push(
      `AUDIT_LOG_STORE must be postgres when ${shared}: the replicas must keep one audit log, not one each`,
    );
  if (config.KEY_STORE === 'postgres' && config.KEY_STORE_URL === undefined)
    problems.push('KEY_STORE_URL must be set when KEY_STORE=postgres');
  if (config.AUDIT_LOG_STORE === 'postgres' && config.AUDIT_LOG_URL === undefined)
    problems.push('AUDIT_LOG_URL must be set when AUDIT_LOG_STORE=postgres');
  if (config.COMPETENT_AGENCY_KINDS.length === 0)
    problems.push('COMPETENT_AGENCY_KINDS must name at least one agency kind');
  for (const key of config.AUDIT_WITNESS_KEYS) {
    const parsed = parseVerifierKey(key);
    if (!parsed.ok) problems.push(`AUDIT_WITNESS_KEYS: ${parsed.reason} (got ${JSON.stringify(key)})`);
    else if (parsed.value.type !== NOTE_COSIGNATURE_V1)
      problems.push(`AUDIT_WITNESS_KEYS: ${parsed.value.name} is not a witness key (type 0x04)`);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}
