import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { collect } from '../../test/conformance';
import { SqliteEventStore } from './sqlite-event-store';

const CHILD = resolve(__dirname, '../../test/appender-child.ts');
const KILLS = 3;

interface Ack {
  readonly id: string;
  readonly stream: string;
  readonly revision: number;
  readonly position: number;
}

/** Runs the appender child until it has reported `acksBeforeKill` acknowledged appends, then SIGKILLs it. */
function runAndKill(filename: string, acksBeforeKill: number): Promise<Ack[]> {
  const child = spawn(process.execPath, ['-r', require.resolve('tsx/cjs'), CHILD, filename, '16'], {
    stdio: 'pipe',
  });
  const acks: Ack[] = [];
  let buffered = '';
  let stderr = '';
  return new Promise((done, failed) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      failed(new Error(`only ${acks.length} acknowledgements in time: ${stderr}`));
    }, 40_000);
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop()!;
      for (const line of lines) {
        const [word, id, stream, revision, position] = line.split(' ');
        if (word !== 'ack') continue;
        acks.push({ id: id!, stream: stream!, revision: Number(revision), position: Number(position) });
      }
      if (acks.length >= acksBeforeKill && child.exitCode === null && child.signalCode === null)
        child.kill('SIGKILL'); // mid-load: appends are in flight on the writer thread
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (signal === 'SIGKILL') done(acks);
      else failed(new Error(`child exited (${code}) before the kill: ${stderr}`));
    });
  });
}

describe('sqlite writer thread: durability across a kill', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'nrm-es-crash-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('every acknowledged append is stored after SIGKILL mid-load and a reopen', async () => {
    const filename = join(dir, 'events.sqlite');
    const acknowledged: Ack[] = [];
    let missing = 0;
    let misplaced = 0;
    for (let kill = 0; kill < KILLS; kill++) {
      // A different moment each time: after 50, 150, 250 acknowledgements (plus whatever is in flight).
      const acks = await runAndKill(filename, 50 + 100 * kill);
      acknowledged.push(...acks);
      const store = new SqliteEventStore({ filename });
      const byId = new Map((await collect(store.readAll())).map((e) => [e.id, e]));
      for (const ack of acknowledged) {
        const stored = byId.get(ack.id);
        if (!stored) missing++;
        else if (
          stored.stream !== ack.stream ||
          stored.revision !== ack.revision ||
          stored.position !== ack.position
        )
          misplaced++;
      }
      await store.close();
    }
    const db = new Database(filename, { readonly: true });
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    db.close();
    console.log(
      `writer thread crash: ${KILLS} SIGKILLs mid-load, ${acknowledged.length} acknowledged appends, ${missing} missing, ${misplaced} misplaced`,
    );
    expect(acknowledged.length).toBeGreaterThanOrEqual(50 + 150 + 250);
    expect(missing).toBe(0);
    expect(misplaced).toBe(0);
  });
});
