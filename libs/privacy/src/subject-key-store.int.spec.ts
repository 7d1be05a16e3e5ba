import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { READ_MODEL_BACKENDS, type ReadModelLocation } from '../../projections/test/read-model-backends';
import { SubjectErasedError, SubjectKeyStore } from './subject-key-store';

describe.each(READ_MODEL_BACKENDS)('subject key store on $name', (backend) => {
  let location: ReadModelLocation;
  beforeEach(() => {
    location = backend.location();
  });
  afterEach(() => location.dispose());

  if (backend.name === 'sqlite')
    it('refuses a SQLite store that would leave deleted keys in free pages', () => {
      expect(() => new SubjectKeyStore(location.open())).toThrow(/secureDelete/);
    });

  it('keeps one key per subject until erased, then never again, and leaves no key bytes in its files', async () => {
    const keys = new SubjectKeyStore(location.open({ secureDelete: true, durable: true }));
    const first = await keys.keyFor('subject-a');
    expect(first).toHaveLength(32);
    expect(await keys.keyFor('subject-a')).toEqual(first);
    expect(await keys.existingKey('subject-a')).toEqual(first);
    const other = await keys.keyFor('subject-b');
    expect(other.equals(first)).toBe(false);

    await keys.destroy('subject-a', '2026-11-30T12:00:00.000Z');
    expect(await keys.existingKey('subject-a')).toBeUndefined();
    expect(await keys.erasedSubjects()).toEqual(new Set(['subject-a']));
    await expect(keys.keyFor('subject-a')).rejects.toBeInstanceOf(SubjectErasedError);
    await keys.destroy('subject-a', '2026-11-30T12:05:00.000Z'); // idempotent
    expect(await keys.existingKey('subject-b')).toEqual(other);

    if (backend.name === 'sqlite') {
      // The key, in any encoding it was ever written in, is gone from the file and its WAL.
      const dir = location.spec.slice('sqlite:'.length).replace(/\/[^/]+$/, '');
      const needles = [first, Buffer.from(first.toString('base64'))];
      for (const file of readdirSync(dir)) {
        const bytes = readFileSync(join(dir, file));
        for (const needle of needles) expect(bytes.includes(needle)).toBe(false);
      }
    }
  });
});
