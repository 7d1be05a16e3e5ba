import type Database from 'better-sqlite3';
import { verify, type KeyObject } from 'node:crypto';
import { canonicalJson } from './canonical-json';
import { keyIdOf, signCheckpoint, type CheckpointSigner } from './checkpoint';
import { decodeCanonicalBase64 } from './encoding';

/** The column that holds each checkpoint's signed note (schema 2 of the audit log). */
export const CHECKPOINT_NOTE_COLUMN = 'ALTER TABLE checkpoints ADD COLUMN note TEXT';

interface LegacyRow {
  tree_size: number;
  root_hash: string;
  time: string;
  key_id: string;
  signature: string;
}

/**
 * Schema 1 stored checkpoints signed over canonical JSON
 * (`nrm-ledger-checkpoint/v1`). Each one whose signature verifies with this
 * installation's key is signed again, same size, root and time, as a C2SP
 * checkpoint note; the rest (another key, a bad signature) keep no note and are
 * no longer served. Runs inside the migration's transaction; returns the
 * counts.
 */
export function upgradeLegacyCheckpoints(
  db: Database.Database,
  signer: CheckpointSigner & { readonly publicKey?: KeyObject },
): { upgraded: number; dropped: number } {
  db.exec(CHECKPOINT_NOTE_COLUMN);
  const rows = db
    .prepare<[], LegacyRow>('SELECT tree_size, root_hash, time, key_id, signature FROM checkpoints')
    .all();
  let upgraded = 0;
  db.exec('DROP TRIGGER IF EXISTS checkpoints_are_immutable_update');
  const update = db.prepare<[string, string, string, number]>(
    'UPDATE checkpoints SET note = ?, key_id = ?, signature = ? WHERE tree_size = ?',
  );
  for (const row of rows) {
    const key = signer.publicKey;
    if (!key || row.key_id !== keyIdOf(key)) continue;
    const bytes = Buffer.from(
      canonicalJson({
        format: 'nrm-ledger-checkpoint/v1',
        keyId: row.key_id,
        rootHash: row.root_hash,
        time: row.time,
        treeSize: row.tree_size,
      }),
      'utf8',
    );
    const signature = decodeCanonicalBase64(row.signature);
    let valid = false;
    try {
      valid = signature !== undefined && verify(null, bytes, key, signature);
    } catch {
      valid = false;
    }
    if (!valid) continue;
    const note = signCheckpoint(signer, { treeSize: row.tree_size, rootHash: row.root_hash, time: row.time });
    update.run(note.note, note.keyId, note.signature, row.tree_size);
    upgraded++;
  }
  db.exec(`CREATE TRIGGER checkpoints_are_immutable_update BEFORE UPDATE ON checkpoints
    BEGIN SELECT RAISE(ABORT, 'checkpoints are immutable'); END;`);
  return { upgraded, dropped: rows.length - upgraded };
}
