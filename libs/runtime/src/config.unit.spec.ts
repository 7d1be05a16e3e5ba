import { ConfigError, loadConfig } from './config';

describe('loadConfig', () => {
  it('gives the embedded defaults for an empty environment', () => {
    expect({ ...loadConfig({}) }).toEqual({
      PORT: 3000,
      HOST: '127.0.0.1',
      DATA_DIR: './data',
      CONSOLE_DIR: './dist/console',
      EVENT_STORE: 'sqlite',
      EVENT_STORE_URL: undefined,
      EVENT_STORE_SCHEMA: 'nrm_events',
      SQLITE_SYNCHRONOUS: 'FULL',
      SQLITE_WRITER_THREAD: 'on',
      LOG_LEVEL: 'info',
      LOG_SYNC: 'off',
      BODY_LIMIT_BYTES: 1048576,
      STATS_MIN_CELL: 5,
      STATS_REGIONS: [],
      READ_MODEL_STORE: 'sqlite',
      READ_MODEL_URL: undefined,
      READ_MODEL_SCHEMA: 'nrm_read_models',
      PROJECTOR: 'embedded',
      PROJECTOR_THREAD: 'on',
      KEY_STORE: 'sqlite',
      KEY_STORE_URL: undefined,
      KEY_STORE_SCHEMA: 'nrm_keys',
      ERASURE_REGISTER_FILE: undefined,
      AUDIT_LOG_STORE: 'sqlite',
      AUDIT_LOG_THREAD: 'on',
      AUDIT_LOG_URL: undefined,
      AUDIT_LOG_SCHEMA: 'nrm_audit',
      AUDIT_SIGNING_KEY_FILE: undefined,
      AUDIT_LOG_ORIGIN: undefined,
      AUDIT_WITNESS_KEYS: [],
      ID_DERIVATION_SECRET: undefined,
      METRICS_TOKEN: undefined,
      AUDIT_CHECKPOINT_EVERY: 1000,
      AUDIT_CHECKPOINT_INTERVAL_SECONDS: 60,
      AUDIT_INTEGRITY_CHECK_SECONDS: 5,
      AUDIT_REHASH_EVENTS_PER_SECOND: 1000,
      AUDIT_REHASH_PAUSE_SECONDS: 3600,
      READ_MODEL_CHECK: 'on',
      READ_MODEL_CHECK_SECONDS: 3600,
      PROJECTOR_HEALTH_PORT: 3001,
      COMPETENT_AGENCY_KINDS: ['law-enforcement', 'asylum-authority', 'national-coordinator'],
      AUTH_JWKS_URL: undefined,
      AUTH_JWT_ISSUER: undefined,
      AUTH_JWT_AUDIENCE: undefined,
      AUTH_JWKS_TIMEOUT_MS: 5000,
      AUTH_JWKS_COOLDOWN_MS: 30_000,
      RATE_LIMIT_STORE: 'memory',
      REDIS_URL: undefined,
      RATE_LIMIT_WINDOW_SECONDS: 60,
      RATE_LIMIT_PER_PRINCIPAL: 1200,
      RATE_LIMIT_PER_ADDRESS: 120,
      RATE_LIMIT_FAILED_AUTH: 20,
      RATE_LIMIT_FAILED_AUTH_WINDOW_SECONDS: 900,
      TRUST_PROXY: [],
      EVENTSTOREDB_URL: undefined,
    });
  });

  it('takes PostgreSQL read models with a URL, an external projector, and refuses what does not fit', () => {
    expect(
      loadConfig({
        READ_MODEL_STORE: 'postgres',
        READ_MODEL_URL: 'postgres://ledger@db:5432/ledger',
        READ_MODEL_SCHEMA: 'read_models',
        PROJECTOR: 'external',
      }),
    ).toMatchObject({
      READ_MODEL_STORE: 'postgres',
      READ_MODEL_SCHEMA: 'read_models',
      PROJECTOR: 'external',
    });
    expect(() => loadConfig({ READ_MODEL_STORE: 'postgres' })).toThrow(
      'READ_MODEL_URL must be set when READ_MODEL_STORE=postgres',
    );
    expect(() => loadConfig({ READ_MODEL_STORE: 'mysql' })).toThrow(
      "READ_MODEL_STORE must be 'sqlite' or 'postgres'",
    );
    expect(() => loadConfig({ READ_MODEL_URL: 'mysql://x' })).toThrow(
      /READ_MODEL_URL must be a postgres:\/\//,
    );
    expect(() => loadConfig({ READ_MODEL_SCHEMA: 'Robert"; DROP' })).toThrow(
      /READ_MODEL_SCHEMA must be lower-case/,
    );
    expect(() => loadConfig({ PROJECTOR: 'elsewhere' })).toThrow(
      "PROJECTOR must be 'embedded' or 'external'",
    );
    expect(() => loadConfig({ KEY_STORE: 'postgres' })).toThrow(
      'KEY_STORE_URL must be set when KEY_STORE=postgres',
    );
    expect(() => loadConfig({ KEY_STORE: 'vault' })).toThrow("KEY_STORE must be 'sqlite' or 'postgres'");
  });

  it('reads valid values', () => {
    const config = loadConfig({
      PORT: '8080',
      HOST: '0.0.0.0',
      DATA_DIR: '/var/lib/nrm',
      SQLITE_SYNCHRONOUS: 'NORMAL',
      SQLITE_WRITER_THREAD: 'off',
      LOG_LEVEL: 'warn',
      LOG_SYNC: 'on',
    });
    expect(config).toMatchObject({
      PORT: 8080,
      HOST: '0.0.0.0',
      DATA_DIR: '/var/lib/nrm',
      SQLITE_SYNCHRONOUS: 'NORMAL',
      SQLITE_WRITER_THREAD: 'off',
      LOG_LEVEL: 'warn',
      LOG_SYNC: 'on',
    });
  });

  it.each([
    [{ PORT: 'abc' }, 'PORT must be an integer from 0 to 65535 (got "abc")'],
    [{ PORT: '3000.5' }, 'PORT must be an integer'],
    [{ PORT: '-1' }, 'PORT must be an integer'],
    [{ PORT: '70000' }, 'PORT must be an integer'],
    [{ EVENT_STORE: 'mongodb' }, "EVENT_STORE must be 'sqlite'"],
    [{ SQLITE_SYNCHRONOUS: 'OFF' }, 'SQLITE_SYNCHRONOUS must be FULL or NORMAL (got "OFF")'],
    [{ LOG_LEVEL: 'verbose' }, 'LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent'],
    [{ LOG_SYNC: 'yes' }, 'LOG_SYNC must be on or off (got "yes")'],
    [{ BODY_LIMIT_BYTES: '10' }, 'BODY_LIMIT_BYTES must be an integer from 1024 to 16777216'],
    [{ COMPETENT_AGENCY_KINDS: 'police,ngo' }, 'COMPETENT_AGENCY_KINDS must list kinds among'],
    [{ COMPETENT_AGENCY_KINDS: ' , ' }, 'COMPETENT_AGENCY_KINDS must name at least one agency kind'],
    [{ STATS_REGIONS: 'NL-ZH,other' }, 'STATS_REGIONS must list region codes'],
    [{ STATS_REGIONS: 'NL-ZH,Zuid Holland' }, 'STATS_REGIONS must list region codes'],
    [
      {
        AUTH_JWKS_URL: 'not a url',
        AUTH_JWT_ISSUER: 'i',
        AUTH_JWT_AUDIENCE: 'a',
      },
      'AUTH_JWKS_URL must be an http(s) URL',
    ],
    [
      { AUTH_JWKS_URL: 'https://idp.example/jwks.json' },
      'AUTH_JWKS_URL, AUTH_JWT_ISSUER and AUTH_JWT_AUDIENCE go together',
    ],
  ])('refuses %j with a message naming the variable', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });

  it('takes an origin and witness keys (type 0x04), refusing others with the reason', () => {
    const witness = 'remora.n621.de+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2';
    expect(
      loadConfig({ AUDIT_LOG_ORIGIN: 'ledger.example.org/audit', AUDIT_WITNESS_KEYS: ` ${witness} ` }),
    ).toMatchObject({ AUDIT_LOG_ORIGIN: 'ledger.example.org/audit', AUDIT_WITNESS_KEYS: [witness] });
    expect(() => loadConfig({ AUDIT_LOG_ORIGIN: 'a ledger' })).toThrow(/AUDIT_LOG_ORIGIN must be a name/);
    // A log key (type 0x01) is no witness key; a wrong key ID is refused too.
    expect(() =>
      loadConfig({
        AUDIT_WITNESS_KEYS: 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW',
      }),
    ).toThrow(/AUDIT_WITNESS_KEYS/);
    expect(() => loadConfig({ AUDIT_WITNESS_KEYS: witness.replace('da77ade7', 'da77ade8') })).toThrow(
      /does not match/,
    );
  });

  it('takes the regions the statistics publish as a list', () => {
    expect(loadConfig({ STATS_REGIONS: 'NL-ZH, NL-NH' }).STATS_REGIONS).toEqual(['NL-ZH', 'NL-NH']);
  });

  it('takes the read-model check settings and refuses what does not fit', () => {
    const config = loadConfig({ READ_MODEL_CHECK: 'off', READ_MODEL_CHECK_SECONDS: '0' });
    expect([config.READ_MODEL_CHECK, config.READ_MODEL_CHECK_SECONDS]).toEqual(['off', 0]);
    expect(() => loadConfig({ READ_MODEL_CHECK: 'sometimes', READ_MODEL_CHECK_SECONDS: '-1' })).toThrow(
      /READ_MODEL_CHECK must be 'on' or 'off'[\s\S]*READ_MODEL_CHECK_SECONDS must be an integer from 0 to 604800/,
    );
  });

  it('reports every wrong value at once', () => {
    try {
      loadConfig({ PORT: 'x', LOG_LEVEL: 'y' });
      throw new Error('expected a ConfigError');
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).problems).toHaveLength(2);
    }
  });
});

describe('loadConfig: EVENT_STORE=postgres', () => {
  const SECRET = 'an-invented-secret-of-at-least-32-characters';
  const KEYS = {
    KEY_STORE: 'postgres',
    KEY_STORE_URL: 'postgres://keys@db:5432/ledger',
    AUDIT_LOG_STORE: 'postgres',
    AUDIT_LOG_URL: 'postgres://audit@db:5432/ledger',
  };
  const URL = 'postgres://ledger@db:5432/ledger';

  it('reads the connection string and schema of a PostgreSQL event store', () => {
    expect(
      loadConfig({
        EVENT_STORE: 'postgres',
        EVENT_STORE_URL: URL,
        EVENT_STORE_SCHEMA: 'events_eu',
        ID_DERIVATION_SECRET: SECRET,
        ...KEYS,
      }),
    ).toMatchObject({ EVENT_STORE: 'postgres', EVENT_STORE_URL: URL, EVENT_STORE_SCHEMA: 'events_eu' });
    // The projector process writes no records: the rules for ids and keys are not its.
    expect(
      loadConfig({ EVENT_STORE: 'postgres', EVENT_STORE_URL: URL }, { writesRecords: false }),
    ).toMatchObject({ EVENT_STORE: 'postgres' });
  });

  it('refuses to boot without the URL, with a clear message', () => {
    expect(() => loadConfig({ EVENT_STORE: 'postgres', ID_DERIVATION_SECRET: SECRET, ...KEYS })).toThrow(
      'EVENT_STORE_URL must be set when EVENT_STORE=postgres: a postgres:// connection string',
    );
  });

  it.each([
    [
      { EVENT_STORE: 'postgres', EVENT_STORE_URL: URL },
      'ID_DERIVATION_SECRET must be set when EVENT_STORE=postgres',
    ],
    [
      { EVENT_STORE: 'postgres', EVENT_STORE_URL: URL, ID_DERIVATION_SECRET: SECRET },
      'KEY_STORE must be postgres when EVENT_STORE=postgres',
    ],
    [
      {
        EVENT_STORE: 'postgres',
        EVENT_STORE_URL: URL,
        ID_DERIVATION_SECRET: SECRET,
        KEY_STORE: 'postgres',
        KEY_STORE_URL: URL,
      },
      'AUDIT_LOG_STORE must be postgres when EVENT_STORE=postgres',
    ],
    [{ EVENT_STORE_URL: 'mysql://db/ledger' }, 'EVENT_STORE_URL must be a postgres:// connection string'],
    [{ EVENT_STORE_SCHEMA: 'Events; DROP' }, 'EVENT_STORE_SCHEMA must be lower-case letters'],
    [
      { EVENT_STORE: 'mongodb' },
      "EVENT_STORE must be 'sqlite' (the embedded default), 'postgres' or 'eventstoredb'",
    ],
  ])('refuses %j', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });
});

describe('loadConfig: EVENT_STORE=eventstoredb', () => {
  const SECRET = 'an-invented-secret-of-at-least-32-characters';
  const KEYS = {
    KEY_STORE: 'postgres',
    KEY_STORE_URL: 'postgres://keys@db:5432/ledger',
    AUDIT_LOG_STORE: 'postgres',
    AUDIT_LOG_URL: 'postgres://audit@db:5432/ledger',
  };

  it('needs the id secret with EventStoreDB: every replica must derive the same ids', () => {
    expect(() =>
      loadConfig({ EVENT_STORE: 'eventstoredb', EVENTSTOREDB_URL: 'esdb://es:2113?tls=false' }),
    ).toThrow('ID_DERIVATION_SECRET must be set when EVENT_STORE=eventstoredb');
    expect(() =>
      loadConfig({
        EVENT_STORE: 'eventstoredb',
        EVENTSTOREDB_URL: 'esdb://es:2113?tls=false',
        ID_DERIVATION_SECRET: SECRET,
      }),
    ).toThrow('KEY_STORE must be postgres when EVENT_STORE=eventstoredb');
    expect(() =>
      loadConfig({
        EVENT_STORE: 'eventstoredb',
        EVENTSTOREDB_URL: 'esdb://es:2113?tls=false',
        ID_DERIVATION_SECRET: SECRET,
        KEY_STORE: 'postgres',
        KEY_STORE_URL: 'postgres://keys@db:5432/ledger',
      }),
    ).toThrow('AUDIT_LOG_STORE must be postgres when EVENT_STORE=eventstoredb');
    expect(() => loadConfig({ AUDIT_LOG_STORE: 'postgres' })).toThrow(
      'AUDIT_LOG_URL must be set when AUDIT_LOG_STORE=postgres',
    );
    expect(() => loadConfig({ ID_DERIVATION_SECRET: 'short' })).toThrow(
      'ID_DERIVATION_SECRET must be at least 32 characters',
    );
  });

  it('takes a METRICS_TOKEN of 32+ token characters, and refuses another without echoing it', () => {
    const token = 'm'.repeat(24) + '0123456789abcdef';
    expect(loadConfig({ METRICS_TOKEN: token }).METRICS_TOKEN).toBe(token);
    expect(loadConfig({}).METRICS_TOKEN).toBeUndefined();
    for (const bad of ['too-short-for-a-token', `${'x'.repeat(40)} with space`, 'é'.repeat(40)]) {
      let message = '';
      try {
        loadConfig({ METRICS_TOKEN: bad });
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
        message = (error as Error).message;
      }
      expect(message).toContain('METRICS_TOKEN must be 32 to 512 characters');
      expect(message).toContain(`got ${bad.length} characters, not shown`);
      expect(message).not.toContain(bad);
    }
    expect(() => loadConfig({ ID_DERIVATION_SECRET: 'short-secret' })).toThrow(
      /got 12 characters, not shown/,
    );
  });

  it('reads an EventStoreDB or KurrentDB connection string', () => {
    for (const url of [
      'esdb://eventstore:2113?tls=false',
      'esdb+discover://cluster.example:2113',
      'kurrentdb://admin:changeit@kurrentdb:2113?tls=false',
      'kurrentdb+discover://cluster.example:2113?nodePreference=leader',
    ]) {
      expect(
        loadConfig({
          EVENT_STORE: 'eventstoredb',
          EVENTSTOREDB_URL: url,
          ID_DERIVATION_SECRET: SECRET,
          ...KEYS,
        }),
      ).toMatchObject({
        EVENT_STORE: 'eventstoredb',
        EVENTSTOREDB_URL: url,
      });
    }
  });

  it.each([
    [{ EVENT_STORE: 'eventstoredb' }, 'EVENTSTOREDB_URL must be set when EVENT_STORE=eventstoredb'],
    [
      { EVENT_STORE: 'eventstoredb', EVENTSTOREDB_URL: 'http://eventstore:2113' },
      'EVENTSTOREDB_URL must start with esdb://, esdb+discover://, kurrentdb://, kurrentdb+discover://',
    ],
    [
      { EVENT_STORE: 'eventstoredb', EVENTSTOREDB_URL: 'esdb://eventstore:2113?tls=perhaps' },
      'EVENTSTOREDB_URL is not a valid connection string at position',
    ],
    [
      { EVENT_STORE: 'eventstoredb', EVENTSTOREDB_URL: 'esdb://eventstore:2113?colour=blue' },
      'EVENTSTOREDB_URL has an unknown option "colour"',
    ],
    // Checked whenever set, so that a wrong value does not wait for the day it is used.
    [{ EVENTSTOREDB_URL: 'esdb://' }, 'EVENTSTOREDB_URL must name a host'],
  ])('refuses %j', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });

  it('never shows the password of a wrong connection string', () => {
    const env = { EVENT_STORE: 'eventstoredb', EVENTSTOREDB_URL: 'esdb://admin:s3cret@eventstore:port' };
    expect(() => loadConfig(env)).toThrow('(got "esdb://***@eventstore:port")');
    expect(() => loadConfig(env)).not.toThrow(/s3cret/);
  });
});

describe('rate limit settings', () => {
  it('refuses a configuration of Redis without a URL, and never shows a URL password', () => {
    expect(() => loadConfig({ RATE_LIMIT_STORE: 'redis' })).toThrow(
      'REDIS_URL must be set when RATE_LIMIT_STORE=redis',
    );
    let message = '';
    try {
      loadConfig({ RATE_LIMIT_STORE: 'redis', REDIS_URL: 'http://user:s3cret-pw@redis:6379' });
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      message = (error as Error).message;
    }
    expect(message).toContain('REDIS_URL must be a redis:// or rediss:// URL');
    expect(message).not.toContain('s3cret-pw');
    expect(() => loadConfig({ RATE_LIMIT_PER_PRINCIPAL: '0' })).toThrow(
      'RATE_LIMIT_PER_PRINCIPAL must be an integer from 1 to 10000000',
    );
    expect(() => loadConfig({ TRUST_PROXY: 'ingress.local' })).toThrow('TRUST_PROXY must list IP addresses');
  });
});
