/**
 * The console's in-browser verifier (WebCrypto) against real exports of the audit library: a log
 * over invented events, exported by `writeExport`, verified step by step, then tampered with in
 * the ways the library's own verifier names, each caught at its step.
 */
import { webcrypto } from 'node:crypto';
import { AuditKeys } from '../../../../libs/audit/src/audit-keys';
import type { SignedCheckpoint } from '../../../../libs/audit/src/checkpoint';
import { hashToHex } from '../../../../libs/audit/src/encoding';
import { writeExport } from '../../../../libs/audit/src/export';
import { MerkleLog } from '../../../../libs/audit/src/merkle-log';
import { appendInvented, scratch } from '../../../../libs/audit/test/invented-events';
import { join } from 'node:path';
import {
  STEPS,
  verifyExportText,
  type StepName,
  type Trust,
  type Verification,
} from '../../src/oversight/verify-export';

const subtle = webcrypto.subtle as SubtleCrypto;
const keys = AuditKeys.generate();
let env: ReturnType<typeof scratch>;
let log: MerkleLog;
let latest: SignedCheckpoint;

async function exportOf(from: number, to: number): Promise<string> {
  const lines: string[] = [];
  await writeExport(env.store, log, { from, to }, { write: (line) => void lines.push(line) });
  return lines.join('');
}

const trust = (over: Partial<Trust> = {}): Trust => ({
  verifierKey: keys.verifierKey(),
  latest,
  consistency: async (from, to) => log.consistencyProof(from, to).proof.map(hashToHex),
  ...over,
});

const outcomes = (v: Verification) => Object.fromEntries(v.steps.map((s) => [s.step, s.outcome]));
const failedAt = (v: Verification): StepName | undefined => v.steps.find((s) => s.outcome === 'failed')?.step;

/** Rewrites the JSON of one line of an export. */
interface Line {
  event: { data: Record<string, unknown> };
  leafHash: string;
  checkpoint: { note: string };
}

function edit(text: string, line: number, change: (value: Line) => void): string {
  const lines = text.split('\n');
  const value = JSON.parse(lines[line - 1]!) as Line;
  change(value);
  lines[line - 1] = JSON.stringify(value);
  return lines.join('\n');
}

beforeAll(async () => {
  env = scratch('nrm-console-verify-');
  log = new MerkleLog({
    store: env.store,
    filename: join(env.dir, 'audit.sqlite'),
    signer: keys,
    checkpointEvery: 1_000_000,
    checkpointIntervalMs: 0,
  });
  // Checkpoints at 30, 50 and 60 events: an export of 11..50 has two within, one after.
  for (const count of [30, 20, 10]) {
    await appendInvented(env.store, count);
    await log.catchUp();
    log.checkpoint();
  }
  latest = log.latestCheckpoint()!;
  expect(latest.treeSize).toBe(60);
});

afterAll(async () => {
  await log.close();
  await env.dispose();
});

describe('export verification in the browser (WebCrypto)', () => {
  it('verifies a whole export and a middle range, every step passed or said to be not needed', async () => {
    const whole = await verifyExportText(await exportOf(1, 60), trust(), subtle);

    expect(whole.ok).toBe(true);
    expect(whole.events).toBe(60);
    expect(outcomes(whole)).toEqual({
      header: 'passed',
      leaves: 'passed',
      signatures: 'passed',
      roots: 'passed',
      consistency: 'skipped',
      latest: 'passed',
    });

    // 11..50: the checkpoint of 60 is tied by the export's own proof, the latest by the ledger's.
    const middle = await verifyExportText(await exportOf(11, 50), trust(), subtle);

    expect(middle.steps.map((s) => [s.step, s.outcome])).toEqual(STEPS.map((s) => [s, 'passed']));
    expect(middle.steps.find((s) => s.step === 'latest')!.detail).toMatch(
      /prefix of the latest checkpoint \(60/,
    );
  });

  it('names the step at fault for each kind of tampering', async () => {
    const text = await exportOf(11, 50);
    // An event changed, its recorded leaf kept.
    const changed = edit(text, 5, (v) => (v.event.data.region = 'XX-00'));
    expect(failedAt(await verifyExportText(changed, trust(), subtle))).toBe('leaves');

    // A recorded leaf changed.
    const rewritten = edit(text, 5, (v) => (v.leafHash = 'f'.repeat(64)));
    const rewrite = await verifyExportText(rewritten, trust(), subtle);
    expect(failedAt(rewrite)).toBe('leaves');

    // A checkpoint's signature broken.
    const lines = text.trimEnd().split('\n');
    const badSignature = edit(text, lines.length, (v) => {
      v.checkpoint.note = v.checkpoint.note.replace(
        / (\S)(\S+)\n$/,
        (_: string, a: string, rest: string) => ` ${a === 'A' ? 'B' : 'A'}${rest}\n`,
      );
    });
    expect(failedAt(await verifyExportText(badSignature, trust(), subtle))).toBe('signatures');

    // Keys whose base64 holds '+' and '/' (most of twenty do) are read whole.
    for (let i = 0; i < 20; i++) {
      const next = AuditKeys.generate();
      const signer = new MerkleLog({
        store: env.store,
        filename: join(env.dir, `audit-${i}.sqlite`),
        signer: next,
        checkpointEvery: 1_000_000,
        checkpointIntervalMs: 0,
      });
      await signer.catchUp();
      const checkpoint = signer.checkpoint()!;
      const lines: string[] = [];
      await writeExport(env.store, signer, { from: 55, to: 60 }, { write: (line) => void lines.push(line) });
      await signer.close();
      const verdict = await verifyExportText(
        lines.join(''),
        trust({ verifierKey: next.verifierKey(), latest: checkpoint }),
        subtle,
      );
      expect([next.verifierKey(), verdict.ok]).toEqual([next.verifierKey(), true]);
    }

    // Another log's key.
    const other = AuditKeys.generate(keys.origin);
    expect(failedAt(await verifyExportText(text, trust({ verifierKey: other.verifierKey() }), subtle))).toBe(
      'signatures',
    );

    // The last line cut off, or a line removed.
    expect(failedAt(await verifyExportText(text.slice(0, -10), trust(), subtle))).toBe('header');
    const missing = text
      .split('\n')
      .filter((_, i) => i !== 7)
      .join('\n');
    expect(failedAt(await verifyExportText(missing, trust(), subtle))).toBe('header');

    // A proof from the ledger that does not tie the export to its latest checkpoint.
    const forked = trust({
      consistency: async (from, to) => log.consistencyProof(from - 1, to).proof.map(hashToHex),
    });
    const fork = await verifyExportText(text, forked, subtle);
    expect(failedAt(fork)).toBe('latest');
    expect(fork.steps.slice(0, 5).every((s) => s.outcome === 'passed')).toBe(true);

    // Not an export at all.
    const junk = await verifyExportText('hello\n', trust(), subtle);
    expect(junk.ok).toBe(false);
    expect(junk.steps.map((s) => s.outcome)).toEqual([
      'failed',
      'skipped',
      'skipped',
      'skipped',
      'skipped',
      'skipped',
    ]);
  });

  it('catches events rewritten together with their leaves at the signed roots', async () => {
    const text = await exportOf(1, 60);
    const lines = text.split('\n');
    // Line 2 is position 1: rewrite the event and recompute its leaf the way the log does.
    const value = JSON.parse(lines[1]!) as { event: { data: Record<string, unknown> }; leafHash: string };
    value.event.data.region = 'XX-00';
    const { canonicalJson } = await import('../../../../libs/audit/src/canonical-json');
    const bytes = new TextEncoder().encode(`\u0000${canonicalJson(value.event)}`);
    value.leafHash = Buffer.from(await subtle.digest('SHA-256', bytes)).toString('hex');
    lines[1] = JSON.stringify(value);
    const verdict = await verifyExportText(lines.join('\n'), trust(), subtle);
    expect(failedAt(verdict)).toBe('roots');
    expect(verdict.steps.find((s) => s.step === 'roots')!.detail).toMatch(
      /signed root of the checkpoint of 30/,
    );
  });
});
