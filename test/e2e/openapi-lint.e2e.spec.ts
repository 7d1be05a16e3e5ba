/**
 * The OpenAPI document the ledger serves, linted by an independent, maintained linter (Redocly CLI)
 * with its recommended rules and the project's additions (redocly.yaml): 0 errors, 0 warnings. The
 * linter runs offline, without telemetry, on the document as served.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Ledger } from './harness';

const ROOT = join(__dirname, '..', '..');

interface LintReport {
  readonly totals: { readonly errors: number; readonly warnings: number; readonly ignored: number };
  readonly problems: ReadonlyArray<{
    readonly ruleId: string;
    readonly severity: string;
    readonly message: string;
    readonly location?: ReadonlyArray<{ readonly pointer?: string }>;
  }>;
}

describe('OpenAPI document, linted by Redocly CLI (e2e)', () => {
  let ledger: Ledger;
  let dir: string;

  beforeAll(async () => {
    ledger = await Ledger.boot();
    dir = mkdtempSync(join(tmpdir(), 'nrm-openapi-lint-'));
  });
  afterAll(async () => {
    await ledger?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Lints a document file with the project's configuration; the linter's JSON report. */
  async function lint(file: string): Promise<LintReport> {
    let stdout: string;
    try {
      ({ stdout } = await promisify(execFile)(
        process.execPath,
        [
          join(ROOT, 'node_modules', '@redocly', 'cli', 'bin', 'cli.js'),
          'lint',
          file,
          '--config',
          join(ROOT, 'redocly.yaml'),
          '--format=json',
        ],
        {
          cwd: ROOT,
          env: {
            ...process.env,
            REDOCLY_TELEMETRY: 'off',
            REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true',
            NO_COLOR: '1',
          },
          maxBuffer: 64 * 1024 * 1024,
        },
      ));
    } catch (error) {
      // The linter exits non-zero when it finds errors; its report is still on stdout.
      stdout = (error as { stdout?: string }).stdout ?? '';
      if (stdout === '') throw error;
    }
    return JSON.parse(stdout) as LintReport;
  }

  it('finds the faults of the 0.1.0 document (so that its silence below means something)', async () => {
    const report = await lint(join(ROOT, 'docs', 'openapi', 'openapi-0.1.0.json'));
    const rules = new Set(report.problems.map((p) => p.ruleId));
    console.log(
      `openapi lint of the 0.1.0 document: errors ${report.totals.errors}, warnings ${report.totals.warnings}`,
    );
    expect(report.totals.errors).toBeGreaterThan(0);
    expect([...rules]).toEqual(
      expect.arrayContaining(['security-defined', 'no-empty-servers', 'operation-4xx-response']),
    );
  });

  it('has 0 errors and 0 warnings under the recommended rules', async () => {
    const response = await fetch(`${ledger.base}/openapi.json`);
    const file = join(dir, 'openapi.json');
    writeFileSync(file, await response.text());
    const report = await lint(file);
    console.log(
      `openapi lint (Redocly CLI, recommended rules): errors ${report.totals.errors}, warnings ${report.totals.warnings}, ignored ${report.totals.ignored}`,
    );
    const found = report.problems.map(
      (p) => `${p.severity} ${p.ruleId} at ${p.location?.[0]?.pointer ?? '?'}: ${p.message}`,
    );
    expect(found.slice(0, 20)).toEqual([]);
    expect(report.totals).toEqual({ errors: 0, warnings: 0, ignored: 0 });
  });
});
