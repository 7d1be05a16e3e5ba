import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteReadModelStore } from '@nrm/projections';
import { isSealedIdentity } from '@nrm/shared-kernel';
import { openIdentity, sealIdentity } from './sealed-identity';
import { ERASED, openText, openTextFor, sealText, sealTextFor } from './sealed-text';
import { SubjectKeyStore } from './subject-key-store';

const TEXT = 'Ana Inventada was reported missing from the shelter; her location is needed now.';

describe('sealed free text (AES-256-GCM under the subject key)', () => {
  it('opens with the subject key, and shows nothing of the text while sealed', () => {
    const key = randomBytes(32);
    const sealed = sealText(key, 'subject-1', TEXT);
    expect(isSealedIdentity(sealed)).toBe(true);
    expect(JSON.stringify(sealed)).not.toContain('Inventada');
    expect(openText(key, sealed)).toBe(TEXT);
    expect(sealText(key, 'subject-1', TEXT).data).not.toBe(sealed.data);
  });

  it('refuses another key, another subject, a changed byte, and sealed identity passed off as text', () => {
    const key = randomBytes(32);
    const sealed = sealText(key, 'subject-1', TEXT);
    expect(() => openText(randomBytes(32), sealed)).toThrow();
    expect(() => openText(key, { ...sealed, keyId: 'subject-2' })).toThrow();
    const data = Buffer.from(sealed.data, 'base64');
    data[0] = data[0]! ^ 1;
    expect(() => openText(key, { ...sealed, data: data.toString('base64') })).toThrow();
    const identity = sealIdentity(key, 'subject-1', { fullName: 'Ana Inventada' });
    expect(() => openText(key, identity)).toThrow();
    expect(() => openIdentity(key, sealed)).toThrow();
  });

  describe('with the key store', () => {
    let dir: string;
    let keys: SubjectKeyStore;
    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'sealed-text-'));
      keys = new SubjectKeyStore(
        new SqliteReadModelStore(join(dir, 'keys.sqlite'), { secureDelete: true, durable: true }),
      );
    });
    afterEach(async () => {
      await keys.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('reads a text in clear as it is, a sealed one opened, and the erased mark once the key is gone', async () => {
      const sealed = await sealTextFor(keys, 'subject-1', TEXT);
      expect(sealed).not.toBeNull();
      expect(await openTextFor(keys, 'An older justification kept in clear.')).toBe(
        'An older justification kept in clear.',
      );
      expect(await openTextFor(keys, sealed)).toBe(TEXT);
      // A second text of the same subject: sealed under the same key, found without making one.
      const again = await sealTextFor(
        keys,
        'subject-1',
        'Court order 2026/118 requires sharing the case status.',
      );
      expect(await openTextFor(keys, again)).toBe('Court order 2026/118 requires sharing the case status.');
      await keys.destroy('subject-1', '2026-12-07T12:00:00.000Z');
      expect(await openTextFor(keys, again)).toEqual(ERASED);
      expect(await openTextFor(keys, sealed)).toEqual(ERASED);
      expect(await openTextFor(keys, sealed)).toEqual({ erased: true });
    });

    it('keeps no text recorded after the erasure: null, read as erased', async () => {
      await keys.destroy('subject-2', '2026-12-07T12:00:00.000Z');
      const sealed = await sealTextFor(keys, 'subject-2', TEXT);
      expect(sealed).toBeNull();
      expect(await openTextFor(keys, sealed)).toEqual({ erased: true });
    });
  });
});
