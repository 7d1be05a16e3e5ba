import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { demoEnv, program } from './main';
import type { DemoResult } from './demo';

/** Runs the console in this process and returns what it printed on stdout. */
async function ledger(dataDir: string, ...args: string[]): Promise<string> {
  const printed: string[] = [];
  const log = jest
    .spyOn(console, 'log')
    .mockImplementation((line: unknown) => void printed.push(String(line)));
  try {
    await program().parseAsync(['--data-dir', dataDir, ...args], { from: 'user' });
  } finally {
    log.mockRestore();
  }
  return printed.join('\n');
}

describe('the console lists what the demo made, without secrets', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'nrm-cli-list-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('prints the demo’s keys and ids as shell exports, and lists principals and keys by id only', async () => {
    const demo = JSON.parse(await ledger(dataDir, 'demo', '--json')) as DemoResult;
    const env = demoEnv(demo);
    for (const name of [
      'CLINIC',
      'POLICE',
      'NGO',
      'COORDINATOR',
      'OVERSIGHT',
      'BREAK_GLASS',
      'DEMO_CASE',
      'DEMO_SUBJECT',
    ])
      expect(env).toMatch(new RegExp(`(^|\\s)${name}='[^']+'`, 'm'));
    expect(env).toContain(`OVERSIGHT_PRINCIPAL='${demo.principals['oversight-dpa']}'`);

    const principals = (await ledger(dataDir, 'principal', 'list', '--json'))
      .split('\n')
      .map((l) => JSON.parse(l) as { principalId: string; roles: string[]; agencyId: string });
    expect(principals).toHaveLength(9);
    expect(principals.find((p) => p.principalId === demo.breakGlass.principalId)).toMatchObject({
      agencyId: 'police-west',
      roles: ['caseworker', 'break-glass'],
    });

    const keysText = await ledger(dataDir, 'key', 'list', '--json');
    const keys = keysText.split('\n').map((l) => JSON.parse(l) as Record<string, string>);
    expect(keys).toHaveLength(9);
    for (const k of keys)
      expect(Object.keys(k).sort()).toEqual(['agencyId', 'issuedAt', 'keyId', 'principalId', 'status']);
    // No secret, nor its hash, leaves the console: each key's secret part appears nowhere.
    const secrets = [...Object.values(demo.keys), demo.breakGlass.apiKey].map((k) =>
      k.split('_').slice(2).join('_'),
    );
    const table = await ledger(dataDir, 'key', 'list');
    const leaks = secrets.filter((s) => keysText.includes(s) || table.includes(s)).length;
    expect(leaks).toBe(0);
    expect(
      (await ledger(dataDir, 'principal', 'list', '--agency', 'oversight-dpa')).split('\n'),
    ).toHaveLength(2);
    console.log(
      `console listing: principals ${principals.length}, keys ${keys.length}, secrets shown 0 of ${secrets.length}`,
    );
  });
});
