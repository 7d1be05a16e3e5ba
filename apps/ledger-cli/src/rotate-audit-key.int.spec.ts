import { AuditKeys, canonicalJson, parseSignedNote, signCheckpoint, type SignedCheckpoint } from '@nrm/audit';
import { SqliteEventStore } from '@nrm/event-store';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { appendInvented } from '../../../libs/audit/test/invented-events';
import { runAuditConsole, withStoreIn, type Run } from '../test/audit-console';
import { EXIT } from './audit-commands';

let dir: string;

const ledger = (...args: string[]): Promise<Run> => runAuditConsole(dir, ...args);
const withStore = <T>(work: (store: SqliteEventStore) => Promise<T>): Promise<T> => withStoreIn(dir, work);
const file = (name: string) => join(dir, name);

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'nrm-cli-audit-'));
  await withStore((store) => appendInvented(store, 300));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const exportAll = async (out: string): Promise<Run> =>
  ledger(
    'export',
    ...['--from', '1', '--out', out],
    ...['--purpose', 'integrity-check', '--reason', 'ROT-2026-01'],
  );

const verifyWith = (exported: string, trusted: string, ...keys: string[]): Promise<Run> =>
  ledger('verify', '--file', exported, '--checkpoint', trusted, ...keys);

describe('ledger rotate-audit-key', () => {
  it('rotates the key, verify follows the rotation, and the retired key signs nothing new', async () => {
    expect((await ledger('checkpoint')).code).toBe(EXIT.ok);
    const oldVkey = (await ledger('public-key', '--vkey')).out.trim();
    writeFileSync(file('old.vkey'), `${oldVkey}\n`);

    const rotated = await ledger('rotate-audit-key');
    expect(rotated.err).toBe('');
    expect(rotated.code).toBe(EXIT.ok);
    const result = JSON.parse(rotated.out) as {
      retiredKeyId: string;
      keyId: string;
      origin: string;
      retiredVerifierKey: string;
      verifierKey: string;
      checkpoint: SignedCheckpoint;
    };
    expect(result.retiredVerifierKey).toBe(oldVkey);
    const note = parseSignedNote(result.checkpoint.note);
    expect(note.ok && note.value.signatures.map((s) => s.keyId)).toEqual([result.retiredKeyId, result.keyId]);
    const keyFile = file('audit-signing-key.pem');
    const retiredFile = `${keyFile}.retired-${result.retiredKeyId}`;
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    expect(existsSync(retiredFile)).toBe(true);
    expect(existsSync(`${keyFile}.next`)).toBe(false);
    // The new key signs under the same log name, which outlives the key that gave it.
    const newVkey = (await ledger('public-key', '--vkey')).out.trim();
    expect(newVkey).toBe(result.verifierKey);
    expect(newVkey.split('+')[0]).toBe(result.origin);
    writeFileSync(file('new.vkey'), `${newVkey}\n`);
    writeFileSync(file('keys.txt'), `# oldest first\n${oldVkey}\n${newVkey}\n`);

    await withStore((store) => appendInvented(store, 30));
    const latest = await ledger('checkpoint');
    expect(JSON.parse(latest.out)).toMatchObject({ keyId: result.keyId, origin: result.origin });
    writeFileSync(file('trusted.json'), latest.out);
    expect((await exportAll(file('all.ndjson'))).code).toBe(EXIT.ok);

    const both = await verifyWith(
      file('all.ndjson'),
      file('trusted.json'),
      ...['--trusted-key', file('old.vkey'), '--trusted-key', file('new.vkey')],
    );
    expect(both.out).toMatch(/"verified":true/);
    expect(both.code).toBe(EXIT.ok);
    expect(
      (await verifyWith(file('all.ndjson'), file('trusted.json'), '--trusted-key', file('keys.txt'))).code,
    ).toBe(EXIT.ok);

    // Refused: the old key alone, the new key alone (the checkpoints before it are no one's), the wrong order.
    const refusals = [
      await verifyWith(file('all.ndjson'), file('trusted.json'), '--public-key', file('old.vkey')),
      await verifyWith(file('all.ndjson'), file('trusted.json'), '--trusted-key', file('new.vkey')),
      await verifyWith(
        file('all.ndjson'),
        file('trusted.json'),
        ...['--trusted-key', file('new.vkey'), '--trusted-key', file('old.vkey')],
      ),
    ];
    for (const run of refusals) {
      expect(run.out).toMatch(/^not verified/);
      expect(run.code).toBe(EXIT.fault);
    }

    // The retired key, configured again, signs nothing new.
    process.env.AUDIT_SIGNING_KEY_FILE = retiredFile;
    try {
      await withStore((store) => appendInvented(store, 5));
      const stale = await ledger('checkpoint');
      expect(stale.err).toMatch(/retired/);
      expect(stale.code).not.toBe(EXIT.ok);
    } finally {
      delete process.env.AUDIT_SIGNING_KEY_FILE;
    }
    console.log(
      `rotate-audit-key: honest export verified with 2 trusted keys; ${refusals.length}/3 wrong key sets refused; retired key refused to sign`,
    );
  });

  it('refuses exports whose checkpoints are signed by a retired, a new-only or a forged key', async () => {
    expect((await ledger('checkpoint')).code).toBe(EXIT.ok);
    const oldVkey = (await ledger('public-key', '--vkey')).out.trim();
    const rotated = JSON.parse((await ledger('rotate-audit-key')).out) as {
      retiredKeyId: string;
      origin: string;
      verifierKey: string;
    };
    await withStore((store) => appendInvented(store, 30));
    const latest = await ledger('checkpoint');
    writeFileSync(file('trusted.json'), latest.out);
    writeFileSync(file('keys.txt'), `${oldVkey}\n${rotated.verifierKey}\n`);
    expect((await exportAll(file('all.ndjson'))).code).toBe(EXIT.ok);
    const keyFile = file('audit-signing-key.pem');
    const oldKey = AuditKeys.load({
      keyFile: `${keyFile}.retired-${rotated.retiredKeyId}`,
      dataDir: dir,
      origin: rotated.origin,
    });
    const newKey = AuditKeys.load({ keyFile, dataDir: dir });
    const forged = AuditKeys.generate(rotated.origin);

    const lines = readFileSync(file('all.ndjson'), 'utf8').split('\n');
    const checkpointLines = lines
      .map((line, i) => ({
        i,
        value: line.startsWith('{"checkpoint"') ? (JSON.parse(line) as Record<string, unknown>) : undefined,
      }))
      .filter((l) => l.value !== undefined);
    const signatureCount = (l: { value?: Record<string, unknown> }): number => {
      const note = parseSignedNote((l.value!.checkpoint as SignedCheckpoint).note);
      return note.ok ? note.value.signatures.length : 0;
    };
    const rotationLine = checkpointLines.find((l) => signatureCount(l) === 2)!;
    const lastLine = checkpointLines[checkpointLines.length - 1]!;
    expect(rotationLine.i).toBeLessThan(lastLine.i);

    /** The export with one checkpoint line signed again by `signer`. */
    const tampered = (
      at: { i: number; value?: Record<string, unknown> },
      signer: AuditKeys,
      name: string,
    ) => {
      const was = at.value!.checkpoint as SignedCheckpoint;
      const forgedCheckpoint = signCheckpoint(signer, {
        treeSize: was.treeSize,
        rootHash: was.rootHash,
        time: was.time,
      });
      const copy = [...lines];
      copy[at.i] = canonicalJson({ ...at.value, checkpoint: forgedCheckpoint });
      writeFileSync(file(name), copy.join('\n'));
      return file(name);
    };
    // Trust the checkpoint before the rotation, so that only the export's checkpoints decide.
    const before = checkpointLines[0]!.value!.checkpoint as SignedCheckpoint;
    writeFileSync(file('trusted-before.json'), JSON.stringify(before));
    const attacks = [
      tampered(lastLine, oldKey, 'retired.ndjson'),
      tampered(rotationLine, newKey, 'new-only.ndjson'),
      tampered(lastLine, forged, 'forged.ndjson'),
    ];
    let refused = 0;
    for (const exported of attacks) {
      const run = await verifyWith(
        exported,
        file('trusted-before.json'),
        '--trusted-key',
        file('keys.txt'),
        '--range-only',
      );
      expect(run.out).toMatch(/^not verified: .*signature/);
      if (run.code === EXIT.fault) refused++;
    }
    const honest = await verifyWith(
      file('all.ndjson'),
      file('trusted-before.json'),
      '--trusted-key',
      file('keys.txt'),
      '--range-only',
    );
    expect(honest.code).toBe(EXIT.ok);
    console.log(
      `rotation attacks on an export: ${refused}/${attacks.length} refused (retired key, new key only, forged key); honest export verified`,
    );
    expect(refused).toBe(attacks.length);
  });
});
