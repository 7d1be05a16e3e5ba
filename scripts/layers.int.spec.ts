import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

/**
 * Proves that the layer rules of .dependency-cruiser.cjs (run by `npm run lint`) fire: a small
 * tree that breaks each rule once, and one file that keeps to them, cruised with the project's
 * own config and the real dependency-cruiser.
 */
const ROOT = resolve(__dirname, '..');
const DEPCRUISE = join(ROOT, 'node_modules', '.bin', 'depcruise');

interface Violation {
  readonly from: string;
  readonly to: string;
  readonly rule: { readonly name: string; readonly severity: string };
}

/** Cruises `files` twice: as JSON (the violations) and as `npm run lint` does (the exit status). */
function cruise(files: Record<string, string>): { status: number | null; violations: Violation[] } {
  const dir = mkdtempSync(join(tmpdir(), 'nrm-layers-'));
  try {
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), text);
    }
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { baseUrl: '.', paths: { '@nrm/*': ['libs/*/src'] } } }),
    );
    symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
    const run = (output: string) =>
      spawnSync(
        DEPCRUISE,
        ['apps', 'libs', '--config', join(ROOT, '.dependency-cruiser.cjs'), '--output-type', output],
        {
          cwd: dir,
          encoding: 'utf8',
        },
      );
    const result = JSON.parse(run('json').stdout) as { summary: { violations: Violation[] } };
    return { status: run('err').status, violations: result.summary.violations };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('layer rules (dependency-cruiser)', () => {
  it('fail on a deliberate violation of each rule, and pass a context that keeps to them (attack)', () => {
    const { status, violations } = cruise({
      'apps/cli/src/main.ts': "import { run } from '../../api/src/commands';\nexport const main = run;\n",
      'apps/api/src/commands.ts': 'export const run = 1;\n',
      'libs/shared-kernel/src/index.ts': 'export const kernel = 1;\n',
      'libs/event-store/src/event-store.ts': 'export interface EventStore { readonly head: number }\n',
      'libs/event-store/src/index.ts': "export * from './event-store';\nexport const sqlite = 1;\n",
      'libs/projections/src/index.ts': "import { erase } from '@nrm/privacy';\nexport const view = erase;\n",
      'libs/privacy/src/index.ts':
        "import { view } from '@nrm/projections';\nexport const erase = () => view;\n",
      'libs/audit/src/proof.ts': "import { erase } from '@nrm/privacy';\nexport const proof = erase;\n",
      // A context that reaches for a driver, another lib, an app: three rules broken.
      'libs/consent/src/decider.ts': [
        "import { Pool } from 'pg';",
        "import Database from 'better-sqlite3';",
        "import { view } from '@nrm/projections';",
        "import { run } from '../../../apps/api/src/commands';",
        'export const decide = [Pool, Database, view, run];',
        '',
      ].join('\n'),
      // The command machinery, and a context's domain code that reaches for it (only its
      // application layer may).
      'libs/runtime/src/commands/index.ts':
        "import { kernel } from '@nrm/shared-kernel';\nexport const run = kernel;\n",
      'libs/support/src/decider.ts':
        "import { run } from '../../runtime/src/commands';\nexport const decide = run;\n",
      // A context's application layer that keeps to the rules: its context, the command machinery.
      'libs/referral/src/application/handler.ts': [
        "import { run } from '../../../runtime/src/commands';",
        "import { decide } from '../decider';",
        'export const handle = [run, decide];',
        '',
      ].join('\n'),
      // A context that keeps to the rules: the kernel, and the store's port file.
      'libs/referral/src/decider.ts': [
        "import { kernel } from '@nrm/shared-kernel';",
        "import type { EventStore } from '../../event-store/src/event-store';",
        'export const decide = (store: EventStore) => kernel + store.head;',
        '',
      ].join('\n'),
    });
    const found = violations.map((v) => `${v.rule.name}: ${v.from} → ${v.to}`).sort();
    expect(found).toEqual(
      expect.arrayContaining([
        'no-app-to-app: apps/cli/src/main.ts → apps/api/src/commands.ts',
        'no-lib-to-app: libs/consent/src/decider.ts → apps/api/src/commands.ts',
        'lib-edges-consent: libs/consent/src/decider.ts → libs/projections/src/index.ts',
        'lib-edges-audit: libs/audit/src/proof.ts → libs/privacy/src/index.ts',
        'lib-edges-projections: libs/projections/src/index.ts → libs/privacy/src/index.ts',
        'lib-edges-support: libs/support/src/decider.ts → libs/runtime/src/commands/index.ts',
      ]),
    );
    const rules = new Set(violations.map((v) => v.rule.name));
    for (const rule of ['no-driver-in-domain', 'no-circular-libs']) expect(rules).toContain(rule);
    const drivers = violations.filter((v) => v.rule.name === 'no-driver-in-domain').map((v) => v.to);
    expect(drivers.some((to) => /(^|\/)pg(\/|$)/.test(to))).toBe(true);
    expect(drivers.some((to) => /better-sqlite3/.test(to))).toBe(true);
    expect(violations.filter((v) => v.from.startsWith('libs/referral/'))).toEqual([]);
    expect(violations.every((v) => v.rule.severity === 'error')).toBe(true);
    expect(status).not.toBe(0);
    console.log(
      `layer rules: ${violations.length} violations found in the deliberate tree (${rules.size} rules fired), 0 in the compliant context and its application layer, exit ${status}`,
    );
  });
});
