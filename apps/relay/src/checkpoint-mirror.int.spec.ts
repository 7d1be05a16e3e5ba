import { join } from 'node:path';
import { AuditKeys, MerkleLog, parseSignedCheckpoint, verifyCheckpointSignature } from '@nrm/audit';
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
});
