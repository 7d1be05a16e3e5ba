import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseSignedCheckpoint, type SignedCheckpoint } from './checkpoint';
import { checkCosignatures, verifyCosignature } from './cosignature';
import {
  formatSignedNote,
  parseSignedNote,
  signatureLine,
  signaturesBy,
  type NoteSignature,
  type NoteVerifier,
} from './signed-note';

export type CosignatureSubmission =
  | { readonly ok: true; readonly treeSize: number; readonly cosignedBy: readonly string[] }
  | {
      readonly ok: false;
      readonly code:
        | 'AUDIT.MALFORMED_CHECKPOINT'
        | 'AUDIT.UNKNOWN_CHECKPOINT'
        | 'AUDIT.UNKNOWN_WITNESS'
        | 'AUDIT.BAD_COSIGNATURE';
      readonly detail: string;
    };

interface Row {
  line: string;
}

/**
 * The witnesses' cosignatures the ledger collected, per checkpoint: each one
 * verified against the configured witness keys before it is kept, and served
 * appended to the checkpoint's note. Its own SQLite file, apart from the log:
 * a cosignature adds to a checkpoint, it changes nothing the log signed.
 */
export class CosignatureStore {
  private readonly db: Database.Database;
  private readonly witnesses: readonly NoteVerifier[];

  constructor(options: { readonly filename: string; readonly witnesses: readonly NoteVerifier[] }) {
    if (options.filename !== ':memory:')
      mkdirSync(dirname(options.filename), { recursive: true, mode: 0o700 });
    this.db = new Database(options.filename);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(`CREATE TABLE IF NOT EXISTS cosignatures (
      tree_size INTEGER NOT NULL CHECK (tree_size > 0),
      name      TEXT    NOT NULL,
      key_id    TEXT    NOT NULL,
      timestamp INTEGER NOT NULL,
      line      TEXT    NOT NULL,
      PRIMARY KEY (tree_size, name, key_id)
    ) WITHOUT ROWID`);
    this.witnesses = options.witnesses;
  }

  get witnessNames(): string[] {
    return this.witnesses.map((w) => w.name);
  }

  /**
   * Takes the cosignatures in a checkpoint note: the note's text must be the
   * log's checkpoint of that size, word for word; each line by a configured
   * witness must verify (one that fails refuses the whole submission); lines by
   * unknown keys are ignored, and a note with no known cosignature is refused.
   */
  submit(
    note: unknown,
    checkpointAt: (treeSize: number) => SignedCheckpoint | undefined,
    now: Date = new Date(),
  ): CosignatureSubmission {
    const parsed = parseSignedCheckpoint(note);
    if (!parsed.ok) return { ok: false, code: 'AUDIT.MALFORMED_CHECKPOINT', detail: parsed.reason };
    const offered = parseSignedNote(parsed.value.note);
    const stored = checkpointAt(parsed.value.treeSize);
    const storedNote = stored ? parseSignedNote(stored.note) : undefined;
    if (!offered.ok || !storedNote?.ok || storedNote.value.text !== offered.value.text)
      return {
        ok: false,
        code: 'AUDIT.UNKNOWN_CHECKPOINT',
        detail: `this log signed no such checkpoint of ${parsed.value.treeSize} events`,
      };
    const report = checkCosignatures(offered.value, this.witnesses, now);
    if ('malformed' in report)
      return { ok: false, code: 'AUDIT.MALFORMED_CHECKPOINT', detail: report.malformed };
    const refused = report.refused[0];
    if (refused)
      return { ok: false, code: 'AUDIT.BAD_COSIGNATURE', detail: `${refused.name}: ${refused.reason}` };
    if (report.cosignedBy.length === 0)
      return {
        ok: false,
        code: 'AUDIT.UNKNOWN_WITNESS',
        detail: 'the note carries no cosignature by a witness this ledger is configured to trust',
      };
    const insert = this.db.prepare<[number, string, string, number, string]>(
      `INSERT INTO cosignatures (tree_size, name, key_id, timestamp, line) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (tree_size, name, key_id) DO UPDATE SET timestamp = excluded.timestamp, line = excluded.line
       WHERE excluded.timestamp > cosignatures.timestamp`,
    );
    this.db.transaction(() => {
      for (const witness of this.witnesses)
        for (const line of signaturesBy(offered.value, witness)) {
          const verdict = verifyCosignature(offered.value.text, line, witness, now);
          if (verdict.valid)
            insert.run(
              parsed.value.treeSize,
              line.name,
              line.keyId,
              verdict.timestamp,
              signatureLine(line.name, line.keyId, line.signature),
            );
        }
    })();
    return { ok: true, treeSize: parsed.value.treeSize, cosignedBy: report.cosignedBy.map((c) => c.name) };
  }

  /** The checkpoint with every cosignature collected for it (by witnesses still configured). */
  withCosignatures(checkpoint: SignedCheckpoint): SignedCheckpoint {
    const rows = this.db
      .prepare<[number], Row>('SELECT line FROM cosignatures WHERE tree_size = ? ORDER BY name, key_id')
      .all(checkpoint.treeSize);
    if (rows.length === 0) return checkpoint;
    const note = parseSignedNote(checkpoint.note);
    if (!note.ok) return checkpoint;
    const extra: NoteSignature[] = [];
    for (const row of rows) {
      const line = parseSignedNote(`x\n\n${row.line}`);
      if (!line.ok) continue;
      const signature = line.value.signatures[0]!;
      const known = this.witnesses.find((w) => w.name === signature.name && w.keyId === signature.keyId);
      if (known && verifyCosignature(note.value.text, signature, known).valid) extra.push(signature);
    }
    const merged = parseSignedCheckpoint(
      formatSignedNote({ text: note.value.text, signatures: [...note.value.signatures, ...extra] }),
    );
    return merged.ok ? merged.value : checkpoint;
  }

  close(): void {
    this.db.close();
  }
}
