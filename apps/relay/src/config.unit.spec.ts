import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadRelayConfig, RelayConfigError } from './config';

function problemsOf(env: NodeJS.ProcessEnv): readonly string[] {
  try {
    loadRelayConfig(env);
  } catch (error) {
    if (error instanceof RelayConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('relay configuration', () => {
  it('needs only the brokers, and defaults the rest', () => {
    expect(loadRelayConfig({ KAFKA_BROKERS: '127.0.0.1:19092' })).toEqual({
      KAFKA_BROKERS: ['127.0.0.1:19092'],
      KAFKA_SSL: false,
      DATA_DIR: './data',
      EVENT_STORE: 'sqlite',
      EVENT_STORE_URL: undefined,
      EVENT_STORE_SCHEMA: 'nrm_events',
      SQLITE_SYNCHRONOUS: 'FULL',
      RELAY_CLIENT_ID: 'nrm-relay',
      RELAY_TOPIC_PREFIX: '',
      RELAY_BATCH_SIZE: 500,
      RELAY_RETRY_MAX_MS: 30_000,
      RELAY_HEALTH_PORT: 3002,
      RELAY_CHECKPOINT_COPY_MS: 5000,
      AUDIT_LOG_STORE: 'sqlite',
      AUDIT_LOG_SCHEMA: 'nrm_audit',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
    });
  });

  it('reads a list of brokers and the optional settings', () => {
    const config = loadRelayConfig({
      KAFKA_BROKERS: 'kafka-1:9092, kafka-2:9092',
      RELAY_TOPIC_PREFIX: 'staging.',
      RELAY_BATCH_SIZE: '50',
      RELAY_HEALTH_PORT: '0',
      EVENT_STORE: 'sqlite',
    });
    expect(config.KAFKA_BROKERS).toEqual(['kafka-1:9092', 'kafka-2:9092']);
    expect(config.RELAY_TOPIC_PREFIX).toBe('staging.');
    expect(config.RELAY_BATCH_SIZE).toBe(50);
    expect(config.RELAY_HEALTH_PORT).toBe(0);
  });

  it('names every wrong variable, one line each', () => {
    expect(
      problemsOf({
        EVENT_STORE: 'mysql',
        RELAY_BATCH_SIZE: '0',
        RELAY_RETRY_MAX_MS: 'soon',
        RELAY_TOPIC_PREFIX: 'a/b',
        LOG_LEVEL: 'loud',
      }),
    ).toEqual([
      'KAFKA_BROKERS is required: a comma-separated list of host:port, e.g. 127.0.0.1:19092',
      'RELAY_TOPIC_PREFIX must be at most 100 letters, digits, ".", "_" or "-"',
      'EVENT_STORE must be one of sqlite, postgres, eventstoredb',
      'RELAY_BATCH_SIZE must be an integer from 1 to 10000',
      'RELAY_RETRY_MAX_MS must be an integer from 100 to 600000',
      'LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent',
    ]);
  });

  it('refuses brokers without a port, or with one out of range', () => {
    expect(problemsOf({ KAFKA_BROKERS: 'kafka-1' })).toHaveLength(1);
    expect(problemsOf({ KAFKA_BROKERS: 'kafka-1:99999' })).toHaveLength(1);
    expect(problemsOf({ KAFKA_BROKERS: 'kafka-1:9092,' })).toHaveLength(1);
  });

  it('reads the api’s EventStoreDB when told to, and refuses it without a valid connection string', () => {
    const url = 'esdb+discover://esdb-1:2113,esdb-2:2113?tls=false';
    expect(
      loadRelayConfig({
        KAFKA_BROKERS: '127.0.0.1:19092',
        EVENT_STORE: 'eventstoredb',
        EVENTSTOREDB_URL: url,
      }),
    ).toMatchObject({ EVENT_STORE: 'eventstoredb', EVENTSTOREDB_URL: url });
    expect(() => loadRelayConfig({ KAFKA_BROKERS: '127.0.0.1:19092', EVENT_STORE: 'eventstoredb' })).toThrow(
      'EVENTSTOREDB_URL must be set when EVENT_STORE=eventstoredb',
    );
    expect(() =>
      loadRelayConfig({
        KAFKA_BROKERS: '127.0.0.1:19092',
        EVENT_STORE: 'eventstoredb',
        EVENTSTOREDB_URL: 'http://es:2113',
      }),
    ).toThrow(/EVENTSTOREDB_URL must start with/);
  });

  it('reads the api’s PostgreSQL event store when told to, and refuses it without a URL', () => {
    const url = 'postgres://ledger@db:5432/ledger';
    expect(
      loadRelayConfig({
        KAFKA_BROKERS: '127.0.0.1:19092',
        EVENT_STORE: 'postgres',
        EVENT_STORE_URL: url,
        EVENT_STORE_SCHEMA: 'events_eu',
      }),
    ).toMatchObject({ EVENT_STORE: 'postgres', EVENT_STORE_URL: url, EVENT_STORE_SCHEMA: 'events_eu' });
    expect(problemsOf({ KAFKA_BROKERS: '127.0.0.1:19092', EVENT_STORE: 'postgres' })).toEqual([
      'EVENT_STORE_URL must be set when EVENT_STORE=postgres',
    ]);
    expect(
      problemsOf({
        KAFKA_BROKERS: '127.0.0.1:19092',
        EVENT_STORE_URL: 'esdb://es:2113',
        EVENT_STORE_SCHEMA: 'Bad-Schema',
      }),
    ).toHaveLength(2);
  });

  describe('Kafka TLS and SASL/SCRAM', () => {
    const brokers = { KAFKA_BROKERS: 'kafka:9093' };
    let dir: string;
    let ca: string;
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'nrm-relay-config-'));
      ca = join(dir, 'ca.crt');
      writeFileSync(ca, '-----BEGIN CERTIFICATE-----\ninvented\n-----END CERTIFICATE-----\n');
      writeFileSync(
        join(dir, 'key.pem'),
        '-----BEGIN PRIVATE KEY-----\ninvented\n-----END PRIVATE KEY-----\n',
      );
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('reads TLS with a CA file and SCRAM credentials', () => {
      const config = loadRelayConfig({
        ...brokers,
        KAFKA_SSL: 'true',
        KAFKA_SSL_CA_FILE: ca,
        KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512',
        KAFKA_SASL_USERNAME: 'nrm-relay',
        KAFKA_SASL_PASSWORD: 'invented-password',
      });
      expect(config).toMatchObject({
        KAFKA_SSL: true,
        KAFKA_SSL_CA_FILE: ca,
        KAFKA_SASL_MECHANISM: 'scram-sha-512',
        KAFKA_SASL_USERNAME: 'nrm-relay',
        KAFKA_SASL_PASSWORD: 'invented-password',
      });
      expect(loadRelayConfig(brokers)).toMatchObject({ KAFKA_SSL: false, KAFKA_SASL_MECHANISM: undefined });
    });

    it('stops the boot on every wrong or missing TLS or SASL setting, naming it', () => {
      const cases: [NodeJS.ProcessEnv, RegExp][] = [
        [{ KAFKA_SSL: 'yes' }, /^KAFKA_SSL must be true or false$/],
        [{ KAFKA_SSL_CA_FILE: ca }, /KAFKA_SSL_CA_FILE is set but KAFKA_SSL is not true/],
        [
          { KAFKA_SSL: 'true', KAFKA_SSL_CA_FILE: join(dir, 'absent.crt') },
          /KAFKA_SSL_CA_FILE cannot be read \(ENOENT\)/,
        ],
        [{ KAFKA_SSL: 'true', KAFKA_SSL_CA_FILE: dir }, /KAFKA_SSL_CA_FILE cannot be read \(EISDIR\)/],
        [
          { KAFKA_SSL: 'true', KAFKA_SSL_CA_FILE: join(dir, 'key.pem') },
          /KAFKA_SSL_CA_FILE holds no PEM certificate/,
        ],
        [
          {
            KAFKA_SSL: 'true',
            KAFKA_SASL_MECHANISM: 'plain',
            KAFKA_SASL_USERNAME: 'u',
            KAFKA_SASL_PASSWORD: 'p',
          },
          /KAFKA_SASL_MECHANISM must be scram-sha-512 or scram-sha-256/,
        ],
        [
          { KAFKA_SSL: 'true', KAFKA_SASL_MECHANISM: 'scram-sha-512', KAFKA_SASL_PASSWORD: 'p' },
          /KAFKA_SASL_USERNAME is required/,
        ],
        [
          { KAFKA_SSL: 'true', KAFKA_SASL_MECHANISM: 'scram-sha-512', KAFKA_SASL_USERNAME: 'u' },
          /KAFKA_SASL_PASSWORD is required/,
        ],
        [
          {
            KAFKA_SSL: 'true',
            KAFKA_SASL_MECHANISM: 'scram-sha-512',
            KAFKA_SASL_USERNAME: 'a b',
            KAFKA_SASL_PASSWORD: 'p',
          },
          /KAFKA_SASL_USERNAME must be letters/,
        ],
        [
          { KAFKA_SASL_MECHANISM: 'scram-sha-512', KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: 'p' },
          /KAFKA_SSL must be set with KAFKA_SASL_MECHANISM/,
        ],
        [{ KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: 'p' }, /need KAFKA_SASL_MECHANISM/],
      ];
      let refused = 0;
      for (const [env, message] of cases) {
        const problems = problemsOf({ ...brokers, ...env });
        expect([env, problems]).toEqual([env, [expect.stringMatching(message)]]);
        refused += 1;
      }
      // No problem message repeats a password.
      expect(
        problemsOf({ ...brokers, KAFKA_SASL_MECHANISM: 'x', KAFKA_SASL_PASSWORD: 'invented-secret' }).join(),
      ).not.toContain('invented-secret');
      // SCRAM over plaintext only when asked for explicitly (the broker test does).
      expect(
        loadRelayConfig({
          ...brokers,
          KAFKA_SSL: 'false',
          KAFKA_SASL_MECHANISM: 'scram-sha-256',
          KAFKA_SASL_USERNAME: 'u',
          KAFKA_SASL_PASSWORD: 'p',
        }),
      ).toMatchObject({ KAFKA_SSL: false, KAFKA_SASL_MECHANISM: 'scram-sha-256' });
      console.log(
        `relay Kafka security settings: ${refused} wrong or missing settings refused at boot, each named`,
      );
    });
  });
});
