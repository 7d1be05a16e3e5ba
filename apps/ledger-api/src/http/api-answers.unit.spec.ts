import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ANY_OPERATION, OPERATION_ANSWERS, PROBLEM_CODES, answersOf } from './api-answers';

const ROOT = join(__dirname, '..', '..', '..', '..');

/** Every non-test TypeScript source of the ledger API and of the libraries it runs. */
function sources(): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (entry.name !== 'node_modules' && entry.name !== 'test') walk(path);
      } else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts')) out.push(path);
    }
  };
  walk(join(ROOT, 'libs'));
  walk(join(ROOT, 'apps', 'ledger-api', 'src'));
  return out;
}

const KIND_STATUS: Readonly<Record<string, number>> = {
  forbidden: 403,
  conflict: 409,
  ruleBroken: 422,
  notFound: 404,
  invalid: 400,
  unavailable: 503,
};

interface Thrown {
  readonly code: string;
  readonly file: string;
  /** The status the source sends it with, when the source says so next to the code. */
  readonly status?: number;
}

/**
 * The problem codes the source throws, read from the source: a domain error (`forbidden('X', …)`,
 * `ruleBroken(…)`, `invalid(…)`, `unavailable(…)`…: its status follows from its kind), a problem literal (`code: 'X'`, with the
 * `status:` of the same object literal), or an error class (`readonly code = 'X'`: its status is
 * the filter's, not checked here).
 */
function thrownCodes(): Thrown[] {
  const found: Thrown[] = [];
  const pattern =
    /\b(forbidden|conflict|ruleBroken|notFound|invalid|unavailable)\(\s*'([A-Z][A-Z0-9_]*\.[A-Z0-9_.]+)'|\bcode:\s*'([A-Z][A-Z0-9_]*\.[A-Z0-9_.]+)'|\bcode\s*=\s*'([A-Z][A-Z0-9_]*\.[A-Z0-9_.]+)'/g;
  for (const path of sources()) {
    const text = readFileSync(path, 'utf8');
    const file = relative(ROOT, path);
    for (const match of text.matchAll(pattern)) {
      if (match[1]) found.push({ code: match[2]!, file, status: KIND_STATUS[match[1]] });
      else if (match[3]) {
        // The object literal around the code: from its opening brace to its closing one.
        const start = text.lastIndexOf('{', match.index);
        const end = text.indexOf('}', match.index);
        const literal = text.slice(start, end);
        const status = /\bstatus:\s*(\d{3})\b/.exec(literal);
        found.push({ code: match[3], file, ...(status ? { status: Number(status[1]) } : {}) });
      } else found.push({ code: match[4]!, file });
    }
  }
  return found;
}

describe('the declared problems of each operation (api-answers.ts)', () => {
  const thrown = thrownCodes();

  it('lists every code the source throws, with the status the source sends it with', () => {
    expect(thrown.length).toBeGreaterThan(100);
    const problems: string[] = [];
    for (const { code, file, status } of thrown) {
      if (code === 'HTTP.INTERNAL_SERVER_ERROR') continue; // never documented: a 500 is a bug
      const listed = PROBLEM_CODES[code];
      if (listed === undefined) problems.push(`${code} (thrown in ${file}) is not in PROBLEM_CODES`);
      else if (status !== undefined && status !== listed)
        problems.push(`${code}: thrown with status ${status} in ${file}, listed with ${listed}`);
    }
    console.log(
      `api answers: ${thrown.length} throw sites, ${new Set(thrown.map((t) => t.code)).size} codes in the source, ` +
        `${Object.keys(PROBLEM_CODES).length} listed, ${problems.length} mismatches`,
    );
    expect(problems).toEqual([]);
  });

  it('lists no code that nothing throws (framework codes aside)', () => {
    const inSource = new Set(thrown.map((t) => t.code));
    const stale = Object.keys(PROBLEM_CODES).filter(
      (code) => !code.startsWith('HTTP.') && !inSource.has(code),
    );
    expect(stale).toEqual([]);
  });

  it('declares every listed code on some operation, and only codes that are listed', () => {
    const declared = new Set<string>();
    for (const operationId of Object.keys(OPERATION_ANSWERS))
      for (const code of answersOf(operationId).keys()) declared.add(code);
    expect(Object.keys(PROBLEM_CODES).filter((code) => !declared.has(code))).toEqual([]);
    expect(() => answersOf('NoSuchController_method')).toThrow(/no problems declared/);
  });

  it('declares the routing problems on every operation', () => {
    for (const operationId of Object.keys(OPERATION_ANSWERS))
      for (const code of ANY_OPERATION) expect(answersOf(operationId).has(code)).toBe(true);
  });
});
