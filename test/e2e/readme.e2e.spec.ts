/**
 * The README is executable: every shell block runs, in order, against a ledger
 * started here on a free port with its own DATA_DIR, each block seeing the
 * variables and shell functions the blocks before it set. A block that cannot
 * run here says why, in an HTML comment on the line before it:
 *
 *   <!-- readme-test: skip (reason) -->
 *
 * and a block that shows refusals on purpose (HTTP 4xx answers) is marked
 * `<!-- readme-test: refusals -->`; elsewhere `curl` fails on an HTTP error,
 * so that a changed API that breaks the README fails this test, naming the
 * block's heading and line and the command that failed.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');

export interface ReadmeBlock {
  /** 1-based line of the opening fence. */
  readonly line: number;
  readonly heading: string;
  readonly code: string;
  readonly skip?: string;
  readonly refusals: boolean;
}

/** The shell blocks of a Markdown text (```sh or ```bash), with their heading and directives. */
export function shellBlocks(markdown: string): ReadmeBlock[] {
  const lines = markdown.split('\n');
  const blocks: ReadmeBlock[] = [];
  let heading = '(top)';
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const h = /^(#{1,6})\s+(.*)$/.exec(line);
    if (h) heading = h[2]!.trim();
    const fence = /^(`{3,})\s*(\S*)\s*(.*)$/.exec(line);
    if (!fence) continue;
    const [, ticks, lang, rest] = fence;
    const end = lines.findIndex((l, j) => j > i && l.startsWith(ticks!) && l.trim() === ticks);
    const body = lines.slice(i + 1, end === -1 ? lines.length : end);
    if (lang === 'sh' || lang === 'bash') {
      let k = i - 1;
      while (k >= 0 && lines[k]!.trim() === '') k--;
      const directive = /<!--\s*readme-test:\s*(skip|refusals)\s*(?:\((.*)\))?\s*-->/.exec(lines[k] ?? '');
      const skip =
        rest?.includes('no-test') === true
          ? 'marked no-test'
          : directive?.[1] === 'skip'
            ? (directive[2] ?? 'no reason given')
            : undefined;
      blocks.push({
        line: i + 1,
        heading,
        code: body.join('\n'),
        refusals: directive?.[1] === 'refusals',
        ...(skip === undefined ? {} : { skip }),
      });
    }
    i = end === -1 ? lines.length : end;
  }
  return blocks;
}

describe('shellBlocks', () => {
  it('finds shell blocks with their heading, line and directives', () => {
    const md = [
      '# A',
      '```sh',
      'echo one',
      '```',
      '## B',
      '<!-- readme-test: skip (needs Kafka) -->',
      '```bash',
      'echo two',
      '```',
      '```text',
      'not shell',
      '```',
      '<!-- readme-test: refusals -->',
      '```sh',
      'echo three',
      '```',
    ].join('\n');
    expect(shellBlocks(md)).toEqual([
      { line: 2, heading: 'A', code: 'echo one', refusals: false },
      { line: 7, heading: 'B', code: 'echo two', refusals: false, skip: 'needs Kafka' },
      { line: 14, heading: 'B', code: 'echo three', refusals: true },
    ]);
  });
});

describe('README.md', () => {
  const work = mkdtempSync(join(tmpdir(), 'nrm-readme-'));
  const dataDir = join(work, 'data');
  const cwd = join(work, 'repo');
  const state = join(work, 'state.sh');
  let api: ChildProcess;
  let base = '';
  let logs = '';

  beforeAll(async () => {
    // The blocks run in a copy of the repository made of symbolic links, so the files they write
    // (ledger.vkey, log.ndjson, report.html…) land in the temporary directory, not in the clone.
    spawnSync('mkdir', ['-p', cwd, dataDir]);
    for (const entry of readdirSync(ROOT))
      if (!['.git', 'data', 'dist', 'coverage'].includes(entry))
        symlinkSync(join(ROOT, entry), join(cwd, entry));
    writeFileSync(state, '');
    api = spawn(
      process.execPath,
      [
        '-r',
        'ts-node/register/transpile-only',
        '-r',
        'tsconfig-paths/register',
        'apps/ledger-api/src/main.ts',
      ],
      {
        cwd: ROOT,
        env: { ...process.env, DATA_DIR: dataDir, PORT: '0', TS_NODE_PROJECT: join(ROOT, 'tsconfig.json') },
        stdio: 'pipe',
      },
    );
    let stderr = '';
    api.stdout?.on('data', (chunk: Buffer) => (logs += chunk.toString()));
    api.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      logs += chunk.toString();
    });
    const deadline = Date.now() + 150_000;
    for (;;) {
      if (api.exitCode !== null) throw new Error(`the API exited: ${logs.slice(-2000)}`);
      // The one line `npm start` prints for a person names the URL: PORT=0 picked a free port.
      const url = /^nrm-ledger listening on (http:\/\/\S+) {2}API docs \1\/docs {2}data (\S+)/m.exec(stderr);
      if (url) {
        expect(url[2]).toBe(dataDir);
        base = url[1]!;
        if ((await fetch(`${base}/health`)).status === 200) break;
      }
      if (Date.now() > deadline) throw new Error(`the API did not start in time: ${logs.slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }, 180_000);

  afterAll(async () => {
    if (api && api.exitCode === null && api.signalCode === null) {
      api.kill('SIGTERM');
      await new Promise((r) => api.once('exit', r));
    }
    rmSync(work, { recursive: true, force: true });
  });

  it('runs every shell block in order, each with the values the blocks before it captured', () => {
    const blocks = shellBlocks(readFileSync(join(ROOT, 'README.md'), 'utf8'));
    const port = new URL(base).port;
    const skipped: string[] = [];
    const failures: string[] = [];
    let run = 0;
    for (const block of blocks) {
      if (block.skip !== undefined) {
        skipped.push(`line ${block.line} ${block.skip}`);
        continue;
      }
      // The README speaks of the default port; this ledger listens where PORT=0 put it.
      const code = block.code.replace(/127\.0\.0\.1:3000\b/g, `127.0.0.1:${port}`);
      const prelude = [
        'set -a', // every variable a block sets is carried to the next
        `. ${JSON.stringify(state)}`,
        'set -eEuo pipefail',
        // The failing command, with its line in README.md.
        `trap 'echo "readme-failed: line $((LINENO - PRELUDE + ${block.line})): $BASH_COMMAND" >&2' ERR`,
        block.refusals ? 'unset -f curl' : 'curl() { command curl --fail-with-body "$@" || return $?; }',
      ];
      const script = [
        ...prelude.map((l) => l.replace('PRELUDE', String(prelude.length))),
        code,
        `{ export -p; declare -f; } > ${JSON.stringify(state)}`,
      ].join('\n');
      const result = spawnSync('bash', ['-c', script], {
        cwd,
        // tsx finds the configuration beside the real files, not the links.
        env: {
          ...process.env,
          DATA_DIR: dataDir,
          NO_COLOR: '1',
          TSX_TSCONFIG_PATH: join(ROOT, 'tsconfig.json'),
        },
        encoding: 'utf8',
        timeout: 240_000,
      });
      run++;
      if (result.status !== 0) {
        // The outermost failing command is the README's own line (a function's inner line comes first).
        const trapped = [...(result.stderr ?? '').matchAll(/readme-failed: line (\d+): (.*)$/gm)].at(-1);
        // Name the README's own line (bash's last command may be inside a helper such as the curl wrapper).
        const readmeLine = trapped ? Number(trapped[1]) : undefined;
        const text =
          readmeLine === undefined ? undefined : block.code.split('\n')[readmeLine - block.line - 1];
        const failed =
          readmeLine === undefined
            ? `exit ${String(result.status ?? result.signal)}`
            : `line ${readmeLine}: ${text?.trim() ?? trapped![2]}`;
        failures.push(
          `README.md "${block.heading}" block at line ${block.line}: ${failed}\n--- stdout\n${(result.stdout ?? '').slice(-1500)}\n--- stderr\n${(result.stderr ?? '').slice(-1500)}`,
        );
        break; // the blocks after it need what it should have captured
      }
    }
    const reasons = [...new Set(skipped.map((s) => s.replace(/^line \d+ /, '')))];
    console.log(
      `readme: blocks ${blocks.length}, run ${run}, skipped ${skipped.length} (${reasons.join('; ')}), failed ${failures.length}`,
    );
    expect(failures).toEqual([]);
    expect(run + skipped.length).toBe(blocks.length);
  }, 900_000);
});
