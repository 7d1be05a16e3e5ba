import {
  AuditKeys,
  checkCosignatures,
  parseSignedCheckpoint,
  parseVerifierKey,
  verifyCheckpointSignature,
  WitnessKey,
  type SignedCheckpoint,
} from '@nrm/audit';
import { Command } from 'commander';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXIT, type ConsoleIo } from '../../apps/ledger-cli/src/audit-commands';
import { registerWitnessCommands } from '../../apps/ledger-cli/src/witness-commands';
import { Ledger, type Principal } from './harness';

class Exit extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

/** `ledger witness …` in this process, as the console runs it. */
async function ledgerCli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
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
  const cli = new Command('ledger').exitOverride();
  registerWitnessCommands(cli, io);
  try {
    await cli.parseAsync(args, { from: 'user' });
  } catch (error) {
    if (!(error instanceof Exit)) throw error;
    result.code = error.code;
  }
  return result;
}

const ORIGIN = 'ledger.example.org/audit';
const WITNESS = 'oversight.example/witness';

describe('witness over the HTTP API (e2e)', () => {
  let ledger: Ledger;
  let clinic: Principal;
  let dpa: Principal;
  let dir: string;
  let witnessVkey: string;
  const stranger = WitnessKey.generate('stranger.example/witness');

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'nrm-witness-'));
    const made = await ledgerCli('witness-key', '--name', WITNESS, '--out', join(dir, 'witness.pem'));
    expect(made.code).toBe(EXIT.ok);
    witnessVkey = made.out.trim();
    ledger = await Ledger.boot({
      AUDIT_CHECKPOINT_EVERY: '1',
      AUDIT_CHECKPOINT_INTERVAL_SECONDS: '1',
      AUDIT_LOG_ORIGIN: ORIGIN,
      AUDIT_WITNESS_KEYS: witnessVkey,
    });
    clinic = await ledger.principal('health', ['caseworker'], 'clinic-witness');
    dpa = await ledger.principal('oversight-body', ['oversight'], 'dpa-witness');
    process.env.LEDGER_API_KEY = dpa.apiKey;
  });
  afterAll(async () => {
    delete process.env.LEDGER_API_KEY;
    await ledger.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function grow(cases: number): Promise<number> {
    let position = 0;
    for (let i = 0; i < cases; i++) {
      const answer = await clinic.post<{ position: number }>('/cases', {
        indicators: ['debt-bondage'],
        exploitationForms: ['labour'],
        minor: false,
        region: 'NL-ZH',
      });
      expect(answer.status).toBe(201);
      position = answer.body.position;
    }
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      const latest = await dpa.get<SignedCheckpoint>('/audit/checkpoints/latest');
      if (latest.status === 200 && latest.body.treeSize >= position) return latest.body.treeSize;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`no checkpoint covers ${position}`);
  }

  it('cosigns every checkpoint of a growing log; the ledger serves it with the cosignature', async () => {
    const key = await clinic.get<{ verifierKey: string; origin: string; witnesses: string[] }>(
      '/audit/public-key',
    );
    expect(key.body).toMatchObject({ origin: ORIGIN, witnesses: [WITNESS] });
    writeFileSync(join(dir, 'log.vkey'), `${key.body.verifierKey}\n`);
    const witnessArgs = [
      'witness',
      ...['--state', join(dir, 'state.json'), '--key', join(dir, 'witness.pem'), '--name', WITNESS],
      ...['--log-key', join(dir, 'log.vkey'), '--url', ledger.base],
    ];
    let rounds = 0;
    let cosigned = 0;
    for (let round = 0; round < 5; round++) {
      const size = await grow(1 + round);
      rounds++;
      const run = await ledgerCli(...witnessArgs);
      expect(run.err).toBe('');
      expect(run.code).toBe(EXIT.ok);
      const summary = JSON.parse(run.out) as { cosigned: boolean; treeSize: number; submitted: boolean };
      expect(summary).toMatchObject({ cosigned: true, submitted: true });
      expect(summary.treeSize).toBeGreaterThanOrEqual(size);
      const latest = await dpa.get<SignedCheckpoint>('/audit/checkpoints/latest');
      if (latest.body.treeSize === summary.treeSize) {
        const witnessKey = parseVerifierKey(witnessVkey);
        if (!witnessKey.ok) throw new Error(witnessKey.reason);
        expect(checkCosignatures(latest.body.note, [witnessKey.value])).toMatchObject({
          cosignedBy: [{ name: WITNESS }],
          missing: [],
        });
        const logKey = parseVerifierKey(key.body.verifierKey);
        if (!logKey.ok) throw new Error(logKey.reason);
        expect(verifyCheckpointSignature(latest.body, logKey.value)).toEqual({ valid: true });
      }
      if (summary.cosigned) cosigned++;
    }
    expect(cosigned).toBe(rounds);
    console.log(`witness e2e: rounds ${rounds}, cosigned and stored ${cosigned}`);
  });

  it('refuses bad submissions with the reason, storing nothing', async () => {
    await grow(1);
    const latest = (await dpa.get<SignedCheckpoint>('/audit/checkpoints/latest')).body;
    const plain = parseSignedCheckpoint(latest);
    if (!plain.ok) throw new Error(plain.reason);
    const text = latest.note.slice(0, latest.note.indexOf('\n\n') + 1);
    const logLine = latest.note.split('\n').find((l) => l.startsWith(`— ${ORIGIN} `))!;
    const witnessKey = WitnessKey.fromPem(WITNESS, readFileSync(join(dir, 'witness.pem'), 'utf8'));
    const line = (k: WitnessKey, at: number, body = text) => {
      const s = k.cosign(body, at);
      return `— ${s.name} ${Buffer.concat([Buffer.from(s.keyId, 'hex'), s.signature]).toString('base64')}`;
    };
    const now = Math.floor(Date.now() / 1000);
    const forged = AuditKeys.generate(ORIGIN).signCheckpoint({ ...plain.value, rootHash: 'ee'.repeat(32) });
    const cases: [string, unknown, number, string][] = [
      ['not a note', { note: 'hello' }, 400, 'REQUEST.INVALID'],
      ['no note field', { cosignature: 'x' }, 400, 'REQUEST.INVALID'],
      [
        'by an unknown witness',
        { note: `${text}\n${logLine}\n${line(stranger, now)}\n` },
        422,
        'AUDIT.UNKNOWN_WITNESS',
      ],
      ['without cosignature', { note: `${text}\n${logLine}\n` }, 422, 'AUDIT.UNKNOWN_WITNESS'],
      [
        'dated in the future',
        { note: `${text}\n${logLine}\n${line(witnessKey, now + 86_400)}\n` },
        422,
        'AUDIT.BAD_COSIGNATURE',
      ],
      [
        'over another text',
        { note: `${text}\n${logLine}\n${line(witnessKey, now, `${text}x\n`)}\n` },
        422,
        'AUDIT.BAD_COSIGNATURE',
      ],
      [
        'of a checkpoint the log never signed',
        {
          note: forged.note.replace(
            /\n$/,
            `\n${line(witnessKey, now, forged.note.slice(0, forged.note.indexOf('\n\n') + 1))}\n`,
          ),
        },
        422,
        'AUDIT.UNKNOWN_CHECKPOINT',
      ],
      [
        'beyond the log',
        { note: AuditKeys.generate(ORIGIN).signCheckpoint({ ...plain.value, treeSize: 10_000_000 }).note },
        422,
        'AUDIT.UNKNOWN_CHECKPOINT',
      ],
    ];
    let refused = 0;
    for (const [name, body, status, code] of cases) {
      const answer = await dpa.post<{ code?: string; field?: string }>(
        '/audit/checkpoints/cosignatures',
        body,
      );
      expect({ name, status: answer.status, code: answer.body.code }).toEqual({ name, status, code });
      expect(answer.headers.get('content-type')).toMatch(/application\/problem\+json/);
      if (answer.status >= 400 && answer.status < 500) refused++;
    }
    // Not for other principals: refused (and audited) before anything is read.
    expect((await clinic.post('/audit/checkpoints/cosignatures', { note: latest.note })).status).toBe(403);
    // Nothing stored: the latest checkpoint carries no cosignature of this size yet.
    const after = (await dpa.get<SignedCheckpoint>('/audit/checkpoints/latest')).body;
    expect(after.note.split('\n').filter((l) => l.startsWith('— ')).length).toBe(1);
    console.log(`cosignature endpoint: bad submissions ${cases.length}, refused ${refused}, stored 0`);
  });

  it('refuses a split view and writes the evidence', async () => {
    const stateFile = join(dir, 'state.json');
    const state = JSON.parse(readFileSync(stateFile, 'utf8')) as { checkpoint: string; treeSize: number };
    // A forked checkpoint of the accepted size, signed with the log's own key (the operator rewrote history).
    const keys = AuditKeys.load({ dataDir: ledger.dataDir, origin: ORIGIN });
    const fork = keys.signCheckpoint({
      treeSize: state.treeSize,
      rootHash: 'ee'.repeat(32),
      time: new Date().toISOString(),
    });
    const server = await import('node:http');
    const fake = server.createServer((request, response) => {
      response.setHeader('content-type', 'application/json');
      response.end(JSON.stringify(request.url?.startsWith('/audit/checkpoints/latest') ? fork : {}));
    });
    await new Promise<void>((resolve) => fake.listen(0, '127.0.0.1', resolve));
    const port = (fake.address() as { port: number }).port;
    try {
      const run = await ledgerCli(
        'witness',
        ...['--state', stateFile, '--key', join(dir, 'witness.pem'), '--name', WITNESS],
        ...['--log-key', join(dir, 'log.vkey'), '--url', `http://127.0.0.1:${port}`],
      );
      expect(run.code).toBe(EXIT.fault);
      const result = JSON.parse(run.out) as { cosigned: boolean; refused: string; evidence: string };
      expect(result).toMatchObject({ cosigned: false, refused: 'split-view' });
      expect(existsSync(result.evidence)).toBe(true);
      const evidence = JSON.parse(readFileSync(result.evidence, 'utf8')) as {
        accepted: string;
        offered: string;
      };
      expect(evidence.offered).toBe(fork.note);
      // The state did not move.
      expect(JSON.parse(readFileSync(stateFile, 'utf8'))).toEqual(state);
      expect(readdirSync(dir).some((f) => f.includes('.evidence-'))).toBe(true);
      console.log('witness e2e: split view offered 1, refused 1, evidence written 1');
    } finally {
      fake.close();
    }
  });
});
