import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { idDerivationSecret, keyedUuid } from './id-secret';

describe('ids keyed with the installation secret', () => {
  it('gives the same UUID for the same secret and input, and another for another secret', () => {
    const secret = Buffer.from('a'.repeat(32));
    const id = keyedUuid(secret, 'principal-1\u0000key-1\u0000entity:case');
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(keyedUuid(secret, 'principal-1\u0000key-1\u0000entity:case')).toBe(id);
    expect(keyedUuid(Buffer.from('b'.repeat(32)), 'principal-1\u0000key-1\u0000entity:case')).not.toBe(id);
    expect(keyedUuid(secret, 'principal-1\u0000key-2\u0000entity:case')).not.toBe(id);
  });

  it('takes the configured secret, else makes one file in DATA_DIR (0600) that every process there shares', () => {
    const dir = mkdtempSync(join(tmpdir(), 'nrm-id-secret-'));
    try {
      const configured = 'x'.repeat(40);
      expect(idDerivationSecret({ DATA_DIR: dir, ID_DERIVATION_SECRET: configured }).toString()).toBe(
        configured,
      );
      const made = idDerivationSecret({ DATA_DIR: dir, ID_DERIVATION_SECRET: undefined });
      expect(made.length).toBeGreaterThanOrEqual(32);
      expect(idDerivationSecret({ DATA_DIR: dir, ID_DERIVATION_SECRET: undefined })).toEqual(made);
      const file = join(dir, 'id-derivation.secret');
      expect(readFileSync(file, 'utf8')).toBe(made.toString());
      expect(statSync(file).mode & 0o777).toBe(0o600);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
