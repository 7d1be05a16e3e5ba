import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import {
  AuditKeys,
  MerkleLog,
  parseSignedCheckpoint,
  PostgresSharedLog,
  verifyCheckpointSignature,
} from '@nrm/audit';
import { appendInvented, scratch } from '../../../libs/audit/test/invented-events';
import { consumeAll, deleteTopics, kafkaBrokers, uniquePrefix } from '../test/kafka';
import { CHECKPOINT_CONTRACT, CheckpointMirror } from './checkpoint-mirror';
import { KafkaPublisher } from './kafka-publisher';

describe('audit checkpoints copied to Kafka (real broker)', () => {
  it('publishes each signed checkpoint once per run, verifiable with the log’s public key, and only new ones after', async () => {
    const brokers = kafkaBrokers();
    const prefix = uniquePrefix('checkpoints');
    const { dir, store, dispose } = scratch('nrm-mirror-');
    const keys = AuditKeys.load({ dataDir: dir });
    const log = new MerkleLog({
      store,
      filename: join(dir, 'audit.sqlite'),
      signer: keys,
      checkpointEvery: 10,
      checkpointIntervalMs: 0,
    });
    const publisher = new KafkaPublisher({ brokers, clientId: 'nrm-mirror-test' });
    const mirror = new CheckpointMirror({
      auditFile: join(dir, 'audit.sqlite'),
      publisher,
      topic: `${prefix}nrm.audit.checkpoints`,
    });
    try {
      await publisher.connect();
      await appendInvented(store, 50);
      await log.catchUp();
      const first = await mirror.mirror();
      expect(first).toBe(log.checkpoints().length);
      expect(first).toBeGreaterThanOrEqual(1);
      expect(await mirror.mirror()).toBe(0); // nothing new
      await appendInvented(store, 30);
      await log.catchUp();
      const second = await mirror.mirror();
      expect(second).toBe(log.checkpoints().length - first);
      expect(second).toBeGreaterThanOrEqual(1);

      const received = await consumeAll(brokers, prefix);
      expect(received).toHaveLength(first + second);
      let verified = 0;
      for (const message of received) {
        expect(message.type).toBe(CHECKPOINT_CONTRACT);
        const parsed = parseSignedCheckpoint(JSON.parse(message.value));
        if (!parsed.ok) throw new Error(parsed.reason);
        expect(message.key).toBe(String(parsed.value.treeSize));
        if (verifyCheckpointSignature(parsed.value, keys.publicKey).valid) verified++;
      }
      process.stdout.write(
        `checkpoint copies: ${received.length} on Kafka, ${verified} verified with the log's public key\n`,
      );
      expect(verified).toBe(received.length);
    } finally {
      await publisher.disconnect();
      await log.close();
      await deleteTopics(brokers, prefix);
      await dispose();
    }
  });

  it('copies the checkpoints of the shared PostgreSQL log from a relay that shares no directory with the api', async () => {
    const url = process.env.NRM_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
    const schema = `audit_relay_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
    const brokers = kafkaBrokers();
    const prefix = uniquePrefix('shared-checkpoints');
    const api = scratch('nrm-mirror-api-');
    const relayDir = mkdtempSync(join(tmpdir(), 'nrm-mirror-relay-'));
    const keys = AuditKeys.load({ dataDir: api.dir });
    const apiShared = new PostgresSharedLog({ connectionString: url, schema });
    const log = new MerkleLog({
      store: api.store,
      filename: join(api.dir, 'audit.sqlite'),
      signer: keys,
      lease: apiShared,
      shared: apiShared,
      checkpointEvery: 10,
      checkpointIntervalMs: 0,
    });
    const relayShared = new PostgresSharedLog({ connectionString: url, schema });
    const publisher = new KafkaPublisher({ brokers, clientId: 'nrm-mirror-shared-test' });
    const mirror = new CheckpointMirror({
      auditFile: join(relayDir, 'audit.sqlite'),
      shared: relayShared,
      publisher,
      topic: `${prefix}nrm.audit.checkpoints`,
    });
    try {
      await publisher.connect();
      await appendInvented(api.store, 45);
      expect(await apiShared.tryAcquire()).toBe(true);
      await log.catchUp();
      await log.flushed();
      const copied = await mirror.mirror();
      expect(copied).toBe(log.checkpoints().length);
      expect(copied).toBeGreaterThanOrEqual(1);
      const received = await consumeAll(brokers, prefix);
      const verified = received.filter((message) => {
        const parsed = parseSignedCheckpoint(JSON.parse(message.value));
        return parsed.ok && verifyCheckpointSignature(parsed.value, keys.publicKey).valid;
      }).length;
      process.stdout.write(
        `checkpoint copies from the shared log: ${received.length} on Kafka, ${verified} verified, relay DATA_DIR without audit.sqlite\n`,
      );
      expect(verified).toBe(copied);
    } finally {
      await publisher.disconnect();
      await log.close();
      await relayShared.close();
      const admin = new pg.Client({ connectionString: url });
      await admin.connect();
      await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await admin.end();
      await deleteTopics(brokers, prefix);
      await api.dispose();
      rmSync(relayDir, { recursive: true, force: true });
    }
  });
});
