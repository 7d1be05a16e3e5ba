/**
 * A typed client generated from the served OpenAPI document proves the contract: openapi-typescript
 * turns /openapi.json into types, tsc (strict) compiles a small agency program against them and
 * openapi-fetch (test/e2e/generated-client/refer.ts), and the program runs against a booted ledger:
 * it makes a referral, and handles a 422 by its `code`. All data is invented.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import ts from 'typescript';
import { Ledger, type Principal } from './harness';

const ROOT = join(__dirname, '..', '..');
const run = promisify(execFile);

describe('a client generated from the OpenAPI document (e2e)', () => {
  let ledger: Ledger;
  let clinic: Principal;
  let dir: string;
  let caseId: string;

  beforeAll(async () => {
    ledger = await Ledger.boot();
    dir = mkdtempSync(join(tmpdir(), 'nrm-client-'));
    symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
    clinic = await ledger.principal('health', ['caseworker'], 'clinic-client');
    await ledger.principal('ngo', ['caseworker'], 'ngo-client');
    const reported = await clinic.post<{ caseId: string }>('/cases', {
      indicators: ['debt-bondage'],
      exploitationForms: ['labour'],
      minor: false,
      region: 'NL-ZH',
    });
    expect(reported.status).toBe(201);
    caseId = reported.body.caseId;
    const granted = await clinic.post(`/cases/${caseId}/consents`, {
      agencyIds: ['ngo-client'],
      categories: ['case-status'],
      purposes: ['assistance'],
      expiresAt: '2030-01-01T00:00:00Z',
      capture: { method: 'written', language: 'en', interpreterUsed: false },
    });
    expect(granted.status).toBe(201);
  });
  afterAll(async () => {
    await ledger?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('generates types, compiles a referral program with tsc, and runs it: 201, then a 422 handled by its code', async () => {
    // 1. Generate the types from the document as served.
    writeFileSync(join(dir, 'openapi.json'), await (await fetch(`${ledger.base}/openapi.json`)).text());
    await run(process.execPath, [
      join(ROOT, 'node_modules', 'openapi-typescript', 'bin', 'cli.js'),
      join(dir, 'openapi.json'),
      '--output',
      join(dir, 'schema.ts'),
    ]);
    const schema = readFileSync(join(dir, 'schema.ts'), 'utf8');
    expect(schema).toContain('"/cases/{caseId}/referrals"');
    expect(schema).toContain('"REFERRAL.RESPOND_BY_IN_PAST"');

    // 2. Compile the program against them, strictly.
    copyFileSync(join(__dirname, 'generated-client', 'refer.ts'), join(dir, 'refer.ts'));
    const program = ts.createProgram([join(dir, 'refer.ts')], {
      strict: true,
      noUncheckedIndexedAccess: true,
      exactOptionalPropertyTypes: false,
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.CommonJS,
      moduleResolution: ts.ModuleResolutionKind.Node10,
      esModuleInterop: true,
      skipLibCheck: true,
      types: ['node'],
      typeRoots: [join(ROOT, 'node_modules', '@types')],
      outDir: join(dir, 'out'),
    });
    const emitted = program.emit();
    const diagnostics = [...ts.getPreEmitDiagnostics(program), ...emitted.diagnostics].map((d) =>
      ts.flattenDiagnosticMessageText(d.messageText, '\n'),
    );
    console.log(
      `generated client: ${schema.split('\n').length} lines of types, tsc diagnostics ${diagnostics.length}`,
    );
    expect(diagnostics).toEqual([]);

    // 3. Run it against the ledger.
    const refer = async (respondBy: string) => {
      const { stdout } = await run(process.execPath, [
        join(dir, 'out', 'refer.js'),
        ledger.base,
        clinic.apiKey,
        caseId,
        'ngo-client',
        respondBy,
      ]);
      return JSON.parse(stdout) as Record<string, unknown>;
    };
    const late = await refer(new Date(Date.now() - 86_400_000).toISOString());
    const made = await refer(new Date(Date.now() + 86_400_000).toISOString());
    console.log(`generated client: late referral ${JSON.stringify(late)}, referral ${String(made.outcome)}`);
    expect(late).toEqual({ outcome: 'fix the date', field: 'respondBy' });
    expect(made).toMatchObject({ outcome: 'referred', replayed: false, referralId: expect.any(String) });
    expect(made.eventIds).toHaveLength(1);

    // What the program was told was recorded, is.
    let found = false;
    for await (const event of ledger.store.readAll())
      if (event.id === (made.eventIds as string[])[0]) found = true;
    expect(found).toBe(true);
  });

  it('does not compile a program that branches on a code the document does not declare', () => {
    // The guard above is only worth something if a wrong code fails to compile.
    const bad = readFileSync(join(__dirname, 'generated-client', 'refer.ts'), 'utf8').replace(
      "case 'REFERRAL.NOT_COVERED':",
      "case 'REFERRAL.NO_SUCH_CODE':",
    );
    writeFileSync(join(dir, 'refer-bad.ts'), bad);
    const program = ts.createProgram([join(dir, 'refer-bad.ts')], {
      strict: true,
      module: ts.ModuleKind.CommonJS,
      moduleResolution: ts.ModuleResolutionKind.Node10,
      esModuleInterop: true,
      skipLibCheck: true,
      types: ['node'],
      typeRoots: [join(ROOT, 'node_modules', '@types')],
      noEmit: true,
    });
    const codes = ts.getPreEmitDiagnostics(program).map((d) => d.code);
    expect(codes).toContain(2678);
  });
});
