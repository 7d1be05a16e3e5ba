import { generateKeyPairSync } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditKeys, GENERATED_KEY_FILE } from './audit-keys';
import { AuditKeyError, keyIdOf, publicKeyFrom, verifyCheckpointSignature } from './checkpoint';

describe('AuditKeys', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'nrm-keys-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('generates a key under the data directory on first use, private to its owner, and reuses it', () => {
    const dataDir = join(dir, 'data');
    const first = AuditKeys.load({ dataDir });
    const file = join(dataDir, GENERATED_KEY_FILE);
    expect(first.file).toBe(file);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    const again = AuditKeys.load({ dataDir });
    expect(again.keyId).toBe(first.keyId);
    expect(first.fingerprint).toBe(keyIdOf(publicKeyFrom(first.publicKeyPem())));
    expect(first.keyId).toMatch(/^[0-9a-f]{8}$/);
    const checkpoint = again.signCheckpoint({
      treeSize: 1,
      rootHash: '00'.repeat(32),
      time: new Date().toISOString(),
    });
    expect(verifyCheckpointSignature(checkpoint, publicKeyFrom(first.publicKeyPem()))).toEqual({
      valid: true,
    });
  });

  it('loads a configured PEM key file', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const file = join(dir, 'signing.pem');
    writeFileSync(file, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    const keys = AuditKeys.load({ keyFile: file, dataDir: join(dir, 'data') });
    expect(keys.fingerprint).toBe(keyIdOf(publicKey));
    expect(() => statSync(join(dir, 'data', GENERATED_KEY_FILE))).toThrow(); // nothing generated
  });

  it('refuses a missing file, another key type and a key others can read, each with a clear message', () => {
    const missing = join(dir, 'missing.pem');
    expect(() => AuditKeys.load({ keyFile: missing, dataDir: dir })).toThrow(
      /cannot read the audit signing key/,
    );

    const rsa = join(dir, 'rsa.pem');
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
    writeFileSync(rsa, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    expect(() => AuditKeys.load({ keyFile: rsa, dataDir: dir })).toThrow(/holds a rsa key/);

    const garbage = join(dir, 'garbage.pem');
    writeFileSync(garbage, 'not a key', { mode: 0o600 });
    expect(() => AuditKeys.load({ keyFile: garbage, dataDir: dir })).toThrow(AuditKeyError);

    AuditKeys.load({ dataDir: dir });
    chmodSync(join(dir, GENERATED_KEY_FILE), 0o644);
    expect(() => AuditKeys.load({ dataDir: dir })).toThrow(/chmod 600/);
  });
});
