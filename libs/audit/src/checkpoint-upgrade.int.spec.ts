import Database from 'better-sqlite3';
import { join } from 'node:path';
import { scratch } from '../test/invented-events';
import { AuditKeys } from './audit-keys';
import { canonicalJson } from './canonical-json';
import { verifyCheckpointSignature } from './checkpoint';
import { MerkleLog } from './merkle-log';

/** The audit log's schema 1, as nrm-ledger wrote it before checkpoints were notes. */
const SCHEMA_1 = `
  CREATE TABLE merkle_nodes (level INTEGER NOT NULL, idx INTEGER NOT NULL, hash BLOB NOT NULL,
    PRIMARY KEY (level, idx)) WITHOUT ROWID;
  CREATE TABLE checkpoints (tree_size INTEGER PRIMARY KEY CHECK (tree_size > 0), root_hash TEXT NOT NULL,
    time TEXT NOT NULL, key_id TEXT NOT NULL, signature TEXT NOT NULL);
  CREATE TRIGGER checkpoints_are_immutable_update BEFORE UPDATE ON checkpoints
    BEGIN SELECT RAISE(ABORT, 'checkpoints are immutable'); END;
  CREATE TRIGGER checkpoints_are_immutable_delete BEFORE DELETE ON checkpoints
    BEGIN SELECT RAISE(ABORT, 'checkpoints are immutable'); END;
  PRAGMA user_version = 1;
`;

function legacy(keys: AuditKeys, treeSize: number, rootHash: string, time: string) {
  const bytes = Buffer.from(
    canonicalJson({ format: 'nrm-ledger-checkpoint/v1', keyId: keys.fingerprint, rootHash, time, treeSize }),
    'utf8',
  );
  return [treeSize, rootHash, time, keys.fingerprint, keys.sign(bytes).toString('base64')] as const;
}

describe('upgrading the audit log from schema 1', () => {
  it('signs again as notes the old checkpoints its own key signed, same size, root and time; drops the rest', async () => {
    const env = scratch();
    const keys = AuditKeys.generate('ledger.example.org/audit');
    const other = AuditKeys.generate('ledger.example.org/audit');
    const file = join(env.dir, 'audit.sqlite');
    const db = new Database(file);
    db.exec(SCHEMA_1);
    const insert = db.prepare('INSERT INTO checkpoints VALUES (?, ?, ?, ?, ?)');
    insert.run(...legacy(keys, 10, 'aa'.repeat(32), '2026-11-30T12:00:00.000Z'));
    insert.run(...legacy(keys, 20, 'bb'.repeat(32), '2026-11-30T13:00:00.000Z'));
    insert.run(...legacy(other, 30, 'cc'.repeat(32), '2026-11-30T14:00:00.000Z'));
    const forged = legacy(keys, 40, 'dd'.repeat(32), '2026-11-30T15:00:00.000Z');
    insert.run(forged[0], 'ee'.repeat(32), forged[2], forged[3], forged[4]); // root changed after signing
    db.close();

    const log = new MerkleLog({ store: env.store, filename: file, signer: keys, checkpointIntervalMs: 0 });
    try {
      const upgraded = log.checkpoints();
      expect(upgraded.map((c) => [c.treeSize, c.rootHash, c.time])).toEqual([
        [10, 'aa'.repeat(32), '2026-11-30T12:00:00.000Z'],
        [20, 'bb'.repeat(32), '2026-11-30T13:00:00.000Z'],
      ]);
      for (const checkpoint of upgraded)
        expect(verifyCheckpointSignature(checkpoint, keys.verifier)).toEqual({ valid: true });
      // Still immutable after the upgrade.
      const raw = new Database(file);
      expect(() => raw.prepare('UPDATE checkpoints SET note = NULL WHERE tree_size = 10').run()).toThrow(
        /immutable/,
      );
      expect(raw.pragma('user_version', { simple: true })).toBe(3);
      raw.close();
      console.log(
        `schema 1 upgrade: legacy checkpoints 4, signed again as notes 2, dropped 2 (other key, bad signature)`,
      );
    } finally {
      await log.close();
      await env.dispose();
    }
  });
});
