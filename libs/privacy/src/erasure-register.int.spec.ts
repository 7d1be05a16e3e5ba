import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteReadModelStore } from '@nrm/projections';
import { ErasureRegister } from './erasure-register';
import { SubjectKeyStore } from './subject-key-store';

describe('erasure register (a file apart from DATA_DIR and its backups)', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'nrm-register-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('records every key the key store destroys, and survives a line torn by a crash', async () => {
    const register = new ErasureRegister(join(dir, 'elsewhere', 'erasure-register.jsonl'));
    const keys = new SubjectKeyStore(
      new SqliteReadModelStore(join(dir, 'keys.sqlite'), { secureDelete: true, durable: true }),
      register,
    );
    try {
      await keys.keyFor('subject-a');
      await keys.keyFor('subject-b');
      await keys.destroy('subject-a', '2026-12-01T10:00:00.000Z');
      await keys.destroy('subject-a', '2026-12-01T10:05:00.000Z'); // a retry: the first time stays
      // A crash in the middle of an append leaves half a line; the next append starts afresh.
      appendFileSync(register.file, '{"subjectId":"subject-');
      await keys.destroy('subject-b', '2026-12-01T11:00:00.000Z');
      const read = register.read();
      console.log(
        `erasure register: ${readFileSync(register.file, 'utf8').split('\n').filter(Boolean).length} lines ` +
          `(one torn), ${read.size} erasures read`,
      );
      expect([...read]).toEqual([
        ['subject-a', '2026-12-01T10:00:00.000Z'],
        ['subject-b', '2026-12-01T11:00:00.000Z'],
      ]);
      expect(readFileSync(register.file, 'utf8')).not.toMatch(/key/i);
    } finally {
      await keys.close();
    }
  });

  it('completes the register from the key store after a crash between destruction and registration', async () => {
    const file = join(dir, 'erasure-register.jsonl');
    // The key destroyed by a store without its register: as if the process died before the append.
    const unregistered = new SubjectKeyStore(
      new SqliteReadModelStore(join(dir, 'keys.sqlite'), { secureDelete: true, durable: true }),
    );
    await unregistered.keyFor('subject-c');
    await unregistered.destroy('subject-c', '2026-12-02T09:00:00.000Z');
    await unregistered.close();
    const register = new ErasureRegister(file);
    expect(register.read().size).toBe(0);
    const keys = new SubjectKeyStore(
      new SqliteReadModelStore(join(dir, 'keys.sqlite'), { secureDelete: true, durable: true }),
      register,
    );
    try {
      expect(await keys.completeRegister()).toBe(1);
      expect(await keys.completeRegister()).toBe(0);
      expect([...register.read()]).toEqual([['subject-c', '2026-12-02T09:00:00.000Z']]);
    } finally {
      await keys.close();
    }
  });
});
