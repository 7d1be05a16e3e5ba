/**
 * The witness at the console, for an oversight body or any outside party:
 *
 *   ledger witness-key --name <name> --out <pem>      make (or read) the witness key; prints its verifier key
 *   ledger witness --state <file> --key <pem> --name <name> --log-key <vkey>
 *                  (--url <ledger> | --export <file>) [--no-submit]
 *
 * `witness` keeps the last checkpoint it accepted in the state file, fetches
 * a newer one with a consistency proof (over the HTTP API as an oversight
 * principal, the API key in LEDGER_API_KEY; or from an export verified against
 * the state's checkpoint), verifies, cosigns (C2SP cosignature/v1) and hands
 * the cosigned note back to the ledger (over the API) or prints it. A split
 * view is refused, with both signed notes written beside the state file as
 * evidence. Exit codes: 0 cosigned, 1 refused (or unreachable), 2 usage.
 */
import {
  describeFault,
  formatVerifierKey,
  NOTE_ED25519,
  parseSignedCheckpoint,
  parseVerifierKey,
  parseWitnessState,
  verifyExport,
  witnessCheckpoint,
  WitnessKey,
  type NoteVerifier,
  type WitnessState,
} from '@nrm/audit';
import type { Command } from 'commander';
import { generateKeyPairSync } from 'node:crypto';
import { createReadStream, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { commandRunner, EXIT, messageOf, processIo, UsageError, type ConsoleIo } from './audit-commands';

function readText(file: string, option: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new UsageError(`${option}: cannot read ${file} (${messageOf(error)})`);
  }
}

/** A verifier key given as text or as a file holding it. */
function logKeyFrom(value: string): NoteVerifier {
  const text = existsSync(value) ? readText(value, '--log-key') : value;
  const parsed = parseVerifierKey(text.trim());
  if (!parsed.ok) throw new UsageError(`--log-key: ${parsed.reason}`);
  if (parsed.value.type !== NOTE_ED25519)
    throw new UsageError('--log-key: a log key has signature type 0x01 (GET /audit/public-key, verifierKey)');
  return parsed.value;
}

function writeAtomically(file: string, text: string, mode = 0o600): void {
  const temporary = `${file}.partial-${process.pid}`;
  writeFileSync(temporary, text, { mode });
  renameSync(temporary, file);
}

interface Fetched {
  readonly offered: unknown;
  readonly proof: readonly string[];
}

async function fromApi(url: string, state: WitnessState | undefined): Promise<Fetched> {
  const apiKey = process.env.LEDGER_API_KEY;
  if (!apiKey) throw new UsageError('LEDGER_API_KEY must hold an API key of an oversight principal');
  const get = async (path: string): Promise<unknown> => {
    const answer = await fetch(new URL(path, url), { headers: { authorization: `Bearer ${apiKey}` } });
    const body: unknown = await answer.json().catch(() => undefined);
    if (!answer.ok)
      throw new Error(`GET ${path}: ${answer.status} ${JSON.stringify(body ?? null).slice(0, 300)}`);
    return body;
  };
  const latest = (await get('/audit/checkpoints/latest')) as { treeSize?: unknown };
  if (!state || typeof latest.treeSize !== 'number' || latest.treeSize <= state.treeSize)
    return { offered: latest, proof: [] };
  const consistency = (await get(
    `/audit/proofs/consistency?from=${state.treeSize}&to=${latest.treeSize}`,
  )) as { proof?: unknown };
  const proof = Array.isArray(consistency.proof) ? consistency.proof.map(String) : [];
  return { offered: latest, proof };
}

async function submit(url: string, note: string): Promise<{ status: number; body: unknown }> {
  const answer = await fetch(new URL('/audit/checkpoints/cosignatures', url), {
    method: 'POST',
    headers: {
      authorization: `Bearer ${process.env.LEDGER_API_KEY ?? ''}`,
      'content-type': 'application/json',
    },
    body: JSON.stringify({ note }),
  });
  const body: unknown = await answer.json().catch(() => undefined);
  return { status: answer.status, body };
}

/** The largest checkpoint of an export that verifies against the state's checkpoint and the log key. */
async function fromExport(
  file: string,
  state: WitnessState | undefined,
  logKey: NoteVerifier,
): Promise<{ offered: unknown; verifiedAgainstState: boolean }> {
  if (!existsSync(file)) throw new UsageError(`--export: ${file} does not exist`);
  let largest: { treeSize: number; checkpoint: unknown } | undefined;
  const lines = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity });
  for await (const line of lines) {
    if (!line.startsWith('{"checkpoint"')) continue;
    const record = JSON.parse(line) as { checkpoint?: unknown };
    const parsed = parseSignedCheckpoint(record.checkpoint);
    if (parsed.ok && parsed.value.treeSize > (largest?.treeSize ?? -1))
      largest = { treeSize: parsed.value.treeSize, checkpoint: record.checkpoint };
  }
  if (!largest) throw new Error(`${file} holds no checkpoint`);
  const trusted = state?.checkpoint ?? largest.checkpoint;
  const verdict = await verifyExport(createReadStream(file), {
    trustedCheckpoint: trusted,
    publicKey: logKey.publicKey,
  });
  if (!verdict.ok) throw new Error(`the export does not verify: ${describeFault(verdict.fault)}`);
  return { offered: largest.checkpoint, verifiedAgainstState: state !== undefined };
}

export function registerWitnessCommands(cli: Command, io: ConsoleIo = processIo): void {
  const { command, run } = commandRunner(cli, io);

  const witnessKey = (file: string, name: string): WitnessKey => {
    try {
      return WitnessKey.fromPem(name, readText(file, '--key'));
    } catch (error) {
      if (error instanceof UsageError) throw error;
      throw new UsageError(`--key: ${file} is not an Ed25519 private key (PEM): ${messageOf(error)}`);
    }
  };

  command(
    'witness-key',
    "make the witness's Ed25519 key (0600) if --out does not exist; print its verifier key",
  )
    .requiredOption('--name <name>', 'the witness name, a schema-less URL such as oversight.example/witness')
    .requiredOption('--out <file>', 'the private key file (PEM)')
    .action(
      run(async (o: { name: string; out: string }) => {
        if (!existsSync(o.out)) {
          const { privateKey } = generateKeyPairSync('ed25519');
          writeFileSync(o.out, privateKey.export({ type: 'pkcs8', format: 'pem' }), {
            mode: 0o600,
            flag: 'wx',
          });
        }
        let key: WitnessKey;
        try {
          key = witnessKey(o.out, o.name);
        } catch (error) {
          throw new UsageError(messageOf(error));
        }
        io.out(`${key.verifierKey()}\n`);
        return EXIT.ok;
      }),
    );

  command('witness', 'check the log’s newest checkpoint against the last one accepted, and cosign it')
    .requiredOption('--state <file>', 'the last accepted checkpoint (made on the first run)')
    .requiredOption('--key <file>', 'the witness private key (PEM), see witness-key')
    .requiredOption('--name <name>', 'the witness name its verifier key was made with')
    .requiredOption(
      '--log-key <vkey>',
      'the log’s verifier key (text or file), GET /audit/public-key verifierKey',
    )
    .option('--url <url>', 'the ledger’s base URL; the API key of an oversight principal in LEDGER_API_KEY')
    .option('--export <file>', 'an export (ledger export) instead of the API')
    .option('--no-submit', 'print the cosigned checkpoint instead of handing it to the ledger')
    .action(
      run(
        async (o: {
          state: string;
          key: string;
          name: string;
          logKey: string;
          url?: string;
          export?: string;
          submit: boolean;
        }) => {
          if ((o.url === undefined) === (o.export === undefined))
            throw new UsageError('give one of --url or --export');
          const witness = witnessKey(o.key, o.name);
          const logKey = logKeyFrom(o.logKey);
          let state: WitnessState | undefined;
          if (existsSync(o.state)) {
            let json: unknown;
            try {
              json = JSON.parse(readText(o.state, '--state'));
            } catch (error) {
              if (error instanceof UsageError) throw error;
              throw new UsageError(`--state: ${o.state} is not JSON`);
            }
            const parsed = parseWitnessState(json);
            if (!parsed.ok) throw new UsageError(`--state: ${parsed.reason}`);
            if (parsed.value.logKey !== formatVerifierKey(logKey))
              throw new UsageError('--state: kept for another log key than --log-key');
            state = parsed.value;
          }
          let outcome;
          if (o.url !== undefined) {
            const fetched = await fromApi(o.url, state);
            outcome = witnessCheckpoint({
              logKey,
              witness,
              state,
              offered: fetched.offered,
              proof: fetched.proof,
            });
          } else {
            const fetched = await fromExport(o.export!, state, logKey);
            // The export verified against the state's checkpoint: its checkpoints and the state's lie on one tree.
            const offered = parseSignedCheckpoint(fetched.offered);
            const sameTree =
              fetched.verifiedAgainstState && offered.ok && state && offered.value.treeSize > state.treeSize;
            outcome = witnessCheckpoint({
              logKey,
              witness,
              state: sameTree ? undefined : state,
              offered: fetched.offered,
            });
            if (outcome.ok && sameTree) outcome = { ...outcome, previousSize: state!.treeSize };
          }
          if (!outcome.ok) {
            let evidenceFile: string | undefined;
            if (outcome.evidence) {
              evidenceFile = `${o.state}.evidence-${Date.now()}.json`;
              writeAtomically(
                evidenceFile,
                `${JSON.stringify({ kind: outcome.kind, reason: outcome.reason, ...outcome.evidence }, null, 2)}\n`,
              );
            }
            io.out(
              `${JSON.stringify({ cosigned: false, refused: outcome.kind, reason: outcome.reason, ...(evidenceFile ? { evidence: evidenceFile } : {}) })}\n`,
            );
            return EXIT.fault;
          }
          writeAtomically(o.state, `${JSON.stringify(outcome.state, null, 2)}\n`);
          const summary = {
            cosigned: true,
            treeSize: outcome.checkpoint.treeSize,
            previousSize: outcome.previousSize,
            rootHash: outcome.checkpoint.rootHash,
          };
          if (o.url !== undefined && o.submit) {
            const answer = await submit(o.url, outcome.cosigned);
            io.out(
              `${JSON.stringify({ ...summary, submitted: answer.status === 201, answer: answer.body })}\n`,
            );
            return answer.status === 201 ? EXIT.ok : EXIT.fault;
          }
          io.out(`${JSON.stringify({ ...summary, note: outcome.cosigned })}\n`);
          return EXIT.ok;
        },
      ),
    );
}
