import { generateKeyPairSync } from 'node:crypto';
import { AuditKeys } from './audit-keys';
import {
  AuditKeyError,
  checkpointSigningBytes,
  parseSignedCheckpoint,
  publicKeyFrom,
  verifyCheckpointSignature,
  type SignedCheckpoint,
} from './checkpoint';

const keys = AuditKeys.generate();
const other = AuditKeys.generate();
const signed = keys.signCheckpoint({
  treeSize: 1234,
  rootHash: 'ab'.repeat(32),
  time: '2026-11-30T12:00:00.000Z',
});

describe('signed checkpoints', () => {
  it('are signed over canonical bytes that name the format, and verify with the public key', () => {
    expect(checkpointSigningBytes(signed).toString()).toBe(
      `{"format":"nrm-ledger-checkpoint/v1","keyId":"${keys.keyId}","rootHash":"${'ab'.repeat(32)}","time":"2026-11-30T12:00:00.000Z","treeSize":1234}`,
    );
    expect(signed.keyId).toMatch(/^[0-9a-f]{64}$/);
    expect(parseSignedCheckpoint(signed)).toEqual({ ok: true, value: signed });
    expect(verifyCheckpointSignature(signed, keys.publicKey)).toEqual({ valid: true });
    expect(verifyCheckpointSignature(signed, publicKeyFrom(keys.publicKeyPem()))).toEqual({ valid: true });
    expect(verifyCheckpointSignature(signed, publicKeyFrom(keys.publicKeyJwk()))).toEqual({ valid: true });
    expect(verifyCheckpointSignature(signed, publicKeyFrom(JSON.stringify(keys.publicKeyJwk())))).toEqual({
      valid: true,
    });
  });

  it('refuses a checkpoint whose signed fields changed', () => {
    const changes: Partial<SignedCheckpoint>[] = [
      { treeSize: 1235 },
      { rootHash: 'ac'.repeat(32) },
      { time: '2026-11-30T12:00:00.001Z' },
      { signature: other.signCheckpoint(signed).signature },
    ];
    for (const change of changes)
      expect(verifyCheckpointSignature({ ...signed, ...change }, keys.publicKey)).toEqual({
        valid: false,
        otherKey: false,
        reason: 'the signature does not match',
      });
  });

  it('refuses a checkpoint signed by another key, saying so', () => {
    const forged = other.signCheckpoint(signed);
    expect(verifyCheckpointSignature(forged, keys.publicKey)).toMatchObject({ valid: false, otherKey: true });
    // Claiming the trusted key's id does not help: the signature is then wrong.
    expect(verifyCheckpointSignature({ ...forged, keyId: keys.keyId }, keys.publicKey)).toMatchObject({
      valid: false,
      otherKey: false,
    });
  });

  it('parses only the one spelling of each field', () => {
    const base64 = signed.signature;
    // The last digit's four unused bits set: Node decodes it to the very same bytes.
    const DIGITS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
    const sloppy = `${base64.slice(0, 85)}${DIGITS[DIGITS.indexOf(base64[85]!) + 1]}==`;
    const bad: unknown[] = [
      null,
      [],
      'checkpoint',
      { ...signed, extra: 1 },
      { ...signed, treeSize: -1 },
      { ...signed, treeSize: 1.5 },
      { ...signed, treeSize: '1234' },
      { ...signed, rootHash: 'AB'.repeat(32) },
      { ...signed, rootHash: 'ab'.repeat(31) },
      { ...signed, keyId: undefined },
      { ...signed, time: '2026-11-30T12:00:00Z' },
      { ...signed, time: '2026-02-30T12:00:00.000Z' },
      { ...signed, signature: base64.slice(0, -4) },
      { ...signed, signature: `${base64} ` },
      { ...signed, signature: sloppy },
    ];
    for (const value of bad) expect(parseSignedCheckpoint(value).ok).toBe(false);
    // The case is not vacuous: a lax decoder takes it for the genuine signature.
    expect(sloppy).not.toBe(base64);
    expect(Buffer.from(sloppy, 'base64')).toEqual(Buffer.from(base64, 'base64'));
  });
});

describe('public keys', () => {
  it('accepts Ed25519 public keys only', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 });
    expect(() => publicKeyFrom(rsa.publicKey.export({ type: 'spki', format: 'pem' }).toString())).toThrow(
      /Ed25519, not rsa/,
    );
    const ed = generateKeyPairSync('ed25519');
    expect(() => publicKeyFrom(ed.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString())).toThrow(
      AuditKeyError,
    );
    expect(() => publicKeyFrom(ed.privateKey.export({ format: 'jwk' }))).toThrow(/not a private one/);
    expect(() => publicKeyFrom('-----BEGIN PUBLIC KEY-----\nnonsense\n-----END PUBLIC KEY-----')).toThrow(
      /not a readable public key/,
    );
    expect(() => publicKeyFrom('{"kty":"OKP"}')).toThrow(AuditKeyError);
  });
});
