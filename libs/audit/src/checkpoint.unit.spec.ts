import { generateKeyPairSync } from 'node:crypto';
import { AuditKeys } from './audit-keys';
import {
  AuditKeyError,
  parseSignedCheckpoint,
  publicKeyFrom,
  verifyCheckpointSignature,
  type SignedCheckpoint,
} from './checkpoint';

const ORIGIN = 'ledger.example/audit';
const keys = AuditKeys.generate(ORIGIN);
const other = AuditKeys.generate(ORIGIN);
const signed = keys.signCheckpoint({
  treeSize: 1234,
  rootHash: 'ab'.repeat(32),
  time: '2026-11-30T12:00:00.000Z',
});

describe('signed checkpoints', () => {
  it('are C2SP checkpoint notes signed under the origin, and verify with the public key', () => {
    const root = Buffer.from('ab'.repeat(32), 'hex').toString('base64');
    expect(signed.note).toBe(
      `${ORIGIN}\n1234\n${root}\ntime 2026-11-30T12:00:00.000Z\n\n— ${ORIGIN} ${Buffer.concat([Buffer.from(keys.keyId, 'hex'), Buffer.from(signed.signature, 'base64')]).toString('base64')}\n`,
    );
    expect(signed.keyId).toMatch(/^[0-9a-f]{8}$/);
    expect(keys.verifierKey()).toMatch(new RegExp(`^${ORIGIN}\\+${keys.keyId}\\+A`));
    expect(parseSignedCheckpoint(signed)).toEqual({ ok: true, value: signed });
    expect(parseSignedCheckpoint(signed.note)).toEqual({ ok: true, value: signed });
    expect(verifyCheckpointSignature(signed, keys.verifier)).toEqual({ valid: true });
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
    // The JSON view is read from the note: a view that says otherwise is refused.
    for (const change of changes)
      expect(verifyCheckpointSignature({ ...signed, ...change }, keys.publicKey)).toMatchObject({
        valid: false,
        reason: expect.stringMatching(/does not match the signed note/),
      });
    // And a note whose text changed no longer matches its signature.
    const edits = [
      signed.note.replace('\n1234\n', '\n1235\n'),
      signed.note.replace('time 2026-11-30T12:00:00.000Z', 'time 2026-11-30T12:00:00.001Z'),
    ];
    for (const note of edits)
      expect(verifyCheckpointSignature({ note } as SignedCheckpoint, keys.publicKey)).toEqual({
        valid: false,
        otherKey: false,
        reason: 'the signature does not match',
      });
  });

  it('refuses a checkpoint signed by another key, saying so', () => {
    const forged = other.signCheckpoint(signed);
    expect(verifyCheckpointSignature(forged, keys.publicKey)).toMatchObject({ valid: false, otherKey: true });
    // Claiming the trusted key's id in the note does not help: the signature is then wrong.
    const claimed = forged.note.replace(
      /— (\S+) (\S+)\n$/,
      (_, name: string, sig: string) =>
        `— ${name} ${Buffer.concat([Buffer.from(keys.keyId, 'hex'), Buffer.from(sig, 'base64').subarray(4)]).toString('base64')}\n`,
    );
    expect(verifyCheckpointSignature({ note: claimed } as SignedCheckpoint, keys.publicKey)).toEqual({
      valid: false,
      otherKey: false,
      reason: 'the signature does not match',
    });
    // A checkpoint of another log (origin) is refused against a verifier key naming ours.
    const elsewhere = AuditKeys.generate('other.example/log');
    expect(verifyCheckpointSignature(elsewhere.signCheckpoint(signed), keys.verifier)).toMatchObject({
      valid: false,
      otherKey: true,
      reason: expect.stringMatching(/not of the trusted log ledger.example\/audit/),
    });
  });

  it('parses only the one spelling of each field', () => {
    const root = signed.note.split('\n')[2]!;
    // The last digit's unused bits set: Node decodes it to the very same bytes.
    const DIGITS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
    const sloppy = `${root.slice(0, 42)}${DIGITS[DIGITS.indexOf(root[42]!) + 1]}=`;
    const note = (edit: (n: string) => string) => ({ note: edit(signed.note) });
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
      note((n) => n.replace(root, sloppy)),
      note((n) => n.replace('\n1234\n', '\n01234\n')),
      note((n) => n.replace('\n1234\n', '\n-1\n')),
      note((n) => n.replace('\n1234\n', '\n99999999999999999\n')),
      note((n) => n.replace('time ', 'time  ')),
      note((n) => n.replace('\ntime 2026-11-30T12:00:00.000Z', '')),
      note((n) => n.replace('\ntime 2026-11-30T12:00:00.000Z', '\ntime 2026-11-30T12:00:00.000Z\nextra')),
      note((n) => n.replace(`${ORIGIN}\n`, 'ledger example\n')),
      note((n) => n.replace(`— ${ORIGIN}`, '— someone.else')),
      note((n) => n.slice(0, -1)),
      { note: 12 },
      { treeSize: 1234 },
    ];
    for (const value of bad) expect(parseSignedCheckpoint(value).ok).toBe(false);
    // The case is not vacuous: a lax decoder takes it for the genuine signature.
    expect(sloppy).not.toBe(root);
    expect(Buffer.from(sloppy, 'base64')).toEqual(Buffer.from(root, 'base64'));
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

describe('fuzzed checkpoint notes', () => {
  it('are never accepted once changed, and never crash the parser or the verifier', () => {
    const note = signed.note;
    const alphabet = ['\n', ' ', '+', '=', '—', 'A', 'a', '0', '1', '/', '\u0000', 'é'];
    let seed = 12345;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const counts = { mutations: 0, unchanged: 0, accepted: 0, crashed: 0 };
    for (let i = 0; i < 3000; i++) {
      const at = random(note.length);
      const char = alphabet[random(alphabet.length)]!;
      const mutated = [
        () => note.slice(0, at) + char + note.slice(at + 1),
        () => note.slice(0, at) + note.slice(at + 1),
        () => note.slice(0, at) + char + note.slice(at),
        () => note.slice(0, at) + note.slice(at, at + 12) + note.slice(at),
      ][random(4)]!();
      if (mutated === note) {
        counts.unchanged++;
        continue;
      }
      counts.mutations++;
      try {
        const parsed = parseSignedCheckpoint(mutated);
        if (parsed.ok && verifyCheckpointSignature(parsed.value, keys.verifier).valid) counts.accepted++;
        if (verifyCheckpointSignature({ note: mutated } as SignedCheckpoint, keys.publicKey).valid)
          counts.accepted++;
      } catch {
        counts.crashed++;
      }
    }
    console.log(
      `fuzzed checkpoint notes: mutations ${counts.mutations}, accepted ${counts.accepted}, crashed ${counts.crashed}`,
    );
    expect(counts).toMatchObject({ accepted: 0, crashed: 0 });
    expect(counts.mutations).toBeGreaterThan(2500);
  });
});
