import { AuditKeys, WitnessKey } from '@nrm/audit';
import { SqliteEventStore } from '@nrm/event-store';
import { Command } from 'commander';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { appendInvented } from '../../../libs/audit/test/invented-events';
import { EXIT, registerAuditCommands, type ConsoleIo } from './audit-commands';
import { registerWitnessCommands } from './witness-commands';

class Exit extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

let dir: string;
const file = (name: string) => join(dir, name);

async function ledger(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const result = { code: 0, out: '', err: '' };
  const io: ConsoleIo = {
    out: (text) => void (result.out += text),
    err: (text) => void (result.err += text),
    setExitCode: (code) => void (result.code = code),
    exitNow: (code) => {
      throw new Exit(code);
    },
    progress: false,
  };
  const cli = new Command('ledger').option('--data-dir <dir>').exitOverride();
  registerAuditCommands(cli, () => cli.opts<{ dataDir?: string }>().dataDir, io);
  registerWitnessCommands(cli, io);
  try {
    await cli.parseAsync(['--data-dir', dir, ...args], { from: 'user' });
  } catch (error) {
    if (!(error instanceof Exit)) throw error;
    result.code = error.code;
  }
  return result;
}

async function append(count: number): Promise<void> {
  const store = new SqliteEventStore({ filename: join(dir, 'events.sqlite'), synchronous: 'NORMAL' });
  try {
    await appendInvented(store, count);
  } finally {
    await store.close();
  }
}

async function exportAll(to: number, out: string): Promise<void> {
  const exported = await ledger(
    'export',
    ...['--from', '1', '--to', String(to), '--out', file(out)],
    ...['--purpose', 'oversight-review', '--reason', 'DPA-2026-0117'],
  );
  expect(exported.code).toBe(EXIT.ok);
}

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'nrm-cli-witness-'));
  await append(300);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('ledger witness from exports, and verify --witness', () => {
  it('cosigns the checkpoints of a growing log from its exports; verify requires the cosignature', async () => {
    writeFileSync(file('log.vkey'), (await ledger('public-key', '--vkey')).out);
    const made = await ledger('witness-key', '--name', 'dpa.example/witness', '--out', file('w.pem'));
    expect(made.code).toBe(EXIT.ok);
    writeFileSync(file('w.vkey'), made.out);
    const witness = [
      'witness',
      ...['--state', file('state.json'), '--key', file('w.pem'), '--name', 'dpa.example/witness'],
      ...['--log-key', file('log.vkey')],
    ];
    let cosigned = 0;
    let honest = 0;
    let events = 300;
    for (let round = 0; round < 3; round++) {
      // The export covers the whole tree the checkpoint signs (the exports' own LogExported events included):
      // an export that stops short of the trusted checkpoint is a finding (truncated).
      const { treeSize } = JSON.parse((await ledger('checkpoint')).out) as { treeSize: number };
      await exportAll(treeSize, `log-${round}.ndjson`);
      honest++;
      const run = await ledger(...witness, '--export', file(`log-${round}.ndjson`));
      expect(run.err).toBe('');
      expect(run.code).toBe(EXIT.ok);
      const result = JSON.parse(run.out) as { cosigned: boolean; treeSize: number; note: string };
      expect(result.treeSize).toBeGreaterThanOrEqual(events);
      if (result.cosigned) cosigned++;
      writeFileSync(file('cosigned.note'), result.note);
      await append(60);
      events += 60;
    }
    expect(cosigned).toBe(honest);

    // verify with the cosigned checkpoint note and the witness required.
    const last = `log-2.ndjson`;
    const ok = await ledger(
      'verify',
      ...['--file', file(last), '--checkpoint', file('cosigned.note'), '--public-key', file('log.vkey')],
      ...['--witness', file('w.vkey')],
    );
    expect({ code: ok.code, err: ok.err }).toEqual({ code: EXIT.ok, err: '' });
    expect(JSON.parse(ok.out)).toMatchObject({ verified: true, cosignedBy: ['dpa.example/witness'] });

    // Without the cosignature, with another witness required, or a forged cosignature: not verified.
    const plain = readFileSync(file('cosigned.note'), 'utf8').replace(/— dpa\.example\/witness \S+\n/, '');
    writeFileSync(file('plain.note'), plain);
    const stranger = WitnessKey.generate('dpa.example/witness');
    const strangerLine = stranger.cosign(
      plain.slice(0, plain.indexOf('\n\n') + 1),
      Math.floor(Date.now() / 1000),
    );
    // The stranger signs under the witness's name and key ID: only the key tells them apart.
    const witnessKeyId = readFileSync(file('w.vkey'), 'utf8').split('+')[1]!;
    const forgedLine = Buffer.concat([Buffer.from(witnessKeyId, 'hex'), strangerLine.signature]);
    const impostor = `${plain}— dpa.example/witness ${forgedLine.toString('base64')}\n`;
    writeFileSync(file('impostor.note'), impostor);
    const future = AuditKeys.load({ dataDir: dir }).signCheckpoint({
      treeSize: 10,
      rootHash: 'aa'.repeat(32),
      time: new Date(Date.now() + 86_400_000).toISOString(),
    });
    writeFileSync(file('future.json'), JSON.stringify(future));
    const refusals: [string, string[], RegExp][] = [
      [
        'no cosignature',
        ['--checkpoint', file('plain.note'), '--witness', file('w.vkey')],
        /dpa.example\/witness: no cosignature/,
      ],
      [
        'another witness required',
        [
          '--checkpoint',
          file('cosigned.note'),
          '--witness',
          WitnessKey.generate('other.example/witness').verifierKey(),
        ],
        /no cosignature/,
      ],
      [
        'forged cosignature',
        ['--checkpoint', file('impostor.note'), '--witness', file('w.vkey')],
        /does not match/,
      ],
      ['checkpoint from the future', ['--checkpoint', file('future.json')], /in the future/],
    ];
    let refused = 0;
    for (const [name, args, reason] of refusals) {
      const run = await ledger('verify', '--file', file(last), '--public-key', file('log.vkey'), ...args);
      expect({ name, code: run.code }).toEqual({ name, code: EXIT.fault });
      expect(run.out).toMatch(reason);
      refused++;
    }
    // A log key that is no witness key is a usage error, not a verdict.
    expect(
      (
        await ledger(
          'verify',
          '--file',
          file(last),
          '--public-key',
          file('log.vkey'),
          '--checkpoint',
          file('cosigned.note'),
          '--witness',
          file('log.vkey'),
        )
      ).code,
    ).toBe(EXIT.usage);
    console.log(
      `witness from exports: honest checkpoints ${honest}, cosigned ${cosigned}; verify --witness refusals ${refused} of ${refusals.length}`,
    );
  });
});
