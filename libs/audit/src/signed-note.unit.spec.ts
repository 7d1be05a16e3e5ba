import {
  formatSignedNote,
  NOTE_ED25519,
  parseSignedNote,
  parseVerifierKey,
  signaturesBy,
  verifyEd25519,
} from './signed-note';

/** The example of golang.org/x/mod/sumdb/note (its doc and note_test.go): a vector made by another implementation. */
const PETER_KEY = 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW';
const PETER_TEXT =
  "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
const PETER_NOTE = `${PETER_TEXT}\n— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n`;

describe('C2SP signed notes', () => {
  it("read the Go note package's example: key ID from name and key, signature over the text", () => {
    const key = parseVerifierKey(PETER_KEY);
    expect(key).toMatchObject({
      ok: true,
      value: { name: 'PeterNeumann', keyId: 'c74f20a3', type: NOTE_ED25519 },
    });
    const note = parseSignedNote(PETER_NOTE);
    expect(note.ok).toBe(true);
    if (!note.ok || !key.ok) return;
    expect(note.value.text).toBe(PETER_TEXT);
    const [line] = signaturesBy(note.value, key.value);
    expect(line).toBeDefined();
    expect(verifyEd25519(Buffer.from(PETER_TEXT), key.value.publicKey, line!.signature)).toBe(true);
    expect(
      verifyEd25519(
        Buffer.from(PETER_TEXT.replace('crypto', 'Crypto')),
        key.value.publicKey,
        line!.signature,
      ),
    ).toBe(false);
    expect(formatSignedNote(note.value)).toBe(PETER_NOTE);
    // transparency-dev/formats' test keys: a '+' inside the base64, and a cosignature (0x04) key.
    expect(parseVerifierKey('TEST+7997405c+AQcC+FTVKf0jlTdHDY3rbevmnKxxPjigCXlVtGe6RIr6')).toMatchObject({
      ok: true,
      value: { name: 'TEST', keyId: '7997405c', type: NOTE_ED25519 },
    });
    expect(
      parseVerifierKey('remora.n621.de+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2'),
    ).toMatchObject({
      ok: true,
      value: { name: 'remora.n621.de', keyId: 'da77ade7', type: 0x04 },
    });
  });

  it('refuse malformed notes and verifier keys with the reason', () => {
    const bad: [unknown, RegExp][] = [
      [42, /must be text/],
      [PETER_NOTE.slice(0, -1), /ends with a newline/],
      [PETER_TEXT, /blank line/],
      [`${PETER_TEXT}\n`, /blank line|at least one signature/],
      [PETER_NOTE.replace('— ', '- '), /is not "— <key name> <base64>"/],
      [PETER_NOTE.replace('PeterNeumann x08', 'Peter+Neumann x08'), /invalid key name/],
      [PETER_NOTE.replace('x08go', 'x08g!'), /not the base64/],
      [PETER_NOTE.replace('cryptography', 'crypto\u0007graphy'), /control characters/],
      [PETER_NOTE.replace('cryptography', 'crypto\ud800graphy'), /UTF-8/],
      [`${PETER_TEXT}\n${'— a AAAAAAA=\n'.repeat(65)}`, /at most 64 signatures/],
    ];
    for (const [note, reason] of bad) {
      const parsed = parseSignedNote(note);
      expect(parsed.ok).toBe(false);
      if (!parsed.ok) expect(parsed.reason).toMatch(reason);
    }
    for (const key of [
      'PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW',
      'PeterNeumann+c74f20a3+Apc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW',
      'PeterNeumann+c74f20a3',
      'Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW',
      'PeterNeumann+c74f20a3+AhpcMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW2QcUPDhM',
    ])
      expect(parseVerifierKey(key).ok).toBe(false);
  });
});
