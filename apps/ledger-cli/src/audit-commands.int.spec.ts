import { SqliteEventStore, type RecordedEvent } from '@nrm/event-store';
import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { appendInvented } from '../../../libs/audit/test/invented-events';
import { runAuditConsole, withStoreIn, type Run } from '../test/audit-console';
import { EXIT } from './audit-commands';

let dir: string;

const ledger = (...args: string[]): Promise<Run> => runAuditConsole(dir, ...args);
const withStore = <T>(work: (store: SqliteEventStore) => Promise<T>): Promise<T> => withStoreIn(dir, work);
const file = (name: string) => join(dir, name);

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'nrm-cli-audit-'));
  await withStore((store) => appendInvented(store, 400));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('ledger export / verify / checkpoint / public-key', () => {
  async function exportAndTrust(): Promise<void> {
    const checkpoint = await ledger('checkpoint');
    expect(checkpoint.code).toBe(EXIT.ok);
    writeFileSync(file('trusted.json'), checkpoint.out);
    const key = await ledger('public-key');
    expect(key.out).toMatch(/^-----BEGIN PUBLIC KEY-----/);
    writeFileSync(file('log.pub'), key.out);
    const exported = await ledger(
      'export',
      ...['--from', '101', '--to', '350', '--out', file('range.ndjson')],
      ...['--purpose', 'oversight-review', '--reason', 'DPA-2026-0117'],
    );
    expect(exported.err).toBe('');
    expect(exported.code).toBe(EXIT.ok);
  }

  it('exports a range, records who exported it and why, and verifies it', async () => {
    await exportAndTrust();
    const bytes = readFileSync(file('range.ndjson'));
    expect(statSync(file('range.ndjson')).mode & 0o777).toBe(0o600);
    expect(bytes.toString().split('\n')).toHaveLength(1 + 250 + 1 + 1); // header, events, one checkpoint, end

    const recorded: RecordedEvent[] = [];
    await withStore(async (store) => {
      for await (const e of store.readAll({ filter: { eventTypes: ['LogExported'] } })) recorded.push(e);
    });
    expect(recorded).toHaveLength(1);
    expect(recorded[0]!.stream).toMatch(/^access-/);
    expect(recorded[0]!.data).toMatchObject({
      fromPosition: 101,
      toPosition: 350,
      events: 250,
      treeSize: 400,
      purpose: 'oversight-review',
      reason: 'DPA-2026-0117',
      fileSha256: createHash('sha256').update(bytes).digest('hex'),
      exportedBy: { via: 'console' },
    });

    const verified = await ledger(
      'verify',
      ...[
        '--file',
        file('range.ndjson'),
        '--checkpoint',
        file('trusted.json'),
        '--public-key',
        file('log.pub'),
        '--range-only',
      ],
    );
    expect(verified.code).toBe(EXIT.ok);
    expect(JSON.parse(verified.out)).toMatchObject({
      verified: true,
      fromPosition: 101,
      toPosition: 350,
      events: 250,
      coversTrustedCheckpoint: false,
    });
    // Without --range-only, a range that stops before the trusted tree size is not the whole trail.
    const whole = await ledger(
      'verify',
      ...[
        '--file',
        file('range.ndjson'),
        '--checkpoint',
        file('trusted.json'),
        '--public-key',
        file('log.pub'),
      ],
    );
    expect(whole.code).toBe(EXIT.fault);
    expect(whole.out).toMatch(/^not verified: truncated in positions 351\.\.400/);
  });

  it('a deleted tail is a finding of export and verify, never a usage error or a false verified', async () => {
    const checkpoint = await ledger('checkpoint');
    writeFileSync(file('trusted.json'), checkpoint.out);
    writeFileSync(file('log.pub'), (await ledger('public-key')).out);
    const db = new Database(file('events.sqlite'));
    db.exec('DROP TRIGGER events_are_immutable_delete');
    db.prepare('DELETE FROM events WHERE position > 397').run();
    db.close();
    const exported = await ledger(
      'export',
      ...['--from', '1', '--to', '400', '--out', file('all.ndjson')],
      ...['--purpose', 'integrity-check', '--reason', 'DPA-2026-0118'],
    );
    expect(exported.code).toBe(EXIT.fault);
    expect(exported.err).toMatch(/^ledger: finding: truncated at position 398: /);
    expect(JSON.parse(exported.out)).toMatchObject({
      askedTo: 400,
      recorded: false,
      toPosition: 397,
      findings: [{ kind: 'truncated', position: 398 }],
    });
    // Nothing was appended while the finding stands: no position was handed out again.
    expect(await withStore((store) => store.headPosition())).toBe(397);
    const verified = await ledger(
      'verify',
      ...[
        '--file',
        file('all.ndjson'),
        '--checkpoint',
        file('trusted.json'),
        '--public-key',
        file('log.pub'),
      ],
    );
    expect(verified.code).toBe(EXIT.fault);
    expect(verified.out).toMatch(/^not verified: truncated in positions 398\.\.400/);

    // The log deleted too, and rebuilt from what is left: still truncated, not a fork.
    for (const suffix of ['', '-wal', '-shm']) rmSync(file(`audit.sqlite${suffix}`), { force: true });
    const rebuilt = await ledger(
      'export',
      ...['--from', '1', '--to', '397', '--out', file('rebuilt.ndjson')],
      ...['--purpose', 'integrity-check', '--reason', 'DPA-2026-0119'],
    );
    // The store's high-water mark remembers 400: a finding, and no checkpoint is signed over it.
    expect(rebuilt.code).toBe(EXIT.fault);
    expect(JSON.parse(rebuilt.out)).toMatchObject({
      out: null,
      recorded: false,
      findings: [{ kind: 'truncated', position: 398 }],
    });
    expect(existsSync(file('rebuilt.ndjson'))).toBe(false);
    expect(await withStore((store) => store.headPosition())).toBe(397);
  });

  it('exits 1 with one line naming the fault and its position', async () => {
    await exportAndTrust();
    const lines = readFileSync(file('range.ndjson'), 'utf8').split('\n');
    lines.splice(120, 1); // position 220
    writeFileSync(file('range.ndjson'), lines.join('\n'));
    const verified = await ledger(
      'verify',
      ...[
        '--file',
        file('range.ndjson'),
        '--checkpoint',
        file('trusted.json'),
        '--public-key',
        file('log.pub'),
      ],
    );
    expect(verified.code).toBe(EXIT.fault);
    expect(verified.out).toBe(
      'not verified: missing at position 220 (line 121): position 220 is not in the export (position 221 follows 219)\n',
    );
  });

  it('exits 2 on a usage error', async () => {
    const usage = async (...args: string[]) => {
      const run = await ledger(...args);
      expect(run.code).toBe(EXIT.usage);
      return run.err;
    };
    const exportArgs = ['--out', file('x.ndjson'), '--purpose', 'integrity-check', '--reason', 'CASE-1'];
    // Without --to, the export ends at the last stored event; a --from past it is a usage error.
    expect(await usage('export', '--from', '100000', ...exportArgs)).toMatch(/beyond the last stored event/);
    expect(await usage('export', '--from', '1.5', '--to', '3', ...exportArgs)).toMatch(/whole number from 1/);
    expect(await usage('export', '--from', '0', '--to', '3', ...exportArgs)).toMatch(/whole number from 1/);
    expect(await usage('export', '--from', '9', '--to', '3', ...exportArgs)).toMatch(
      /must not be after --to/,
    );
    expect(await usage('export', '--from', '1', '--to', '999', ...exportArgs)).toMatch(
      /beyond the last position the ledger ever handed out, 400/,
    );
    expect(
      await usage(
        'export',
        '--from',
        '1',
        '--to',
        '3',
        '--out',
        file('y'),
        '--purpose',
        'curiosity',
        '--reason',
        'A',
      ),
    ).toMatch(/Allowed choices are/);
    expect(
      await usage(
        'export',
        '--from',
        '1',
        '--to',
        '3',
        '--out',
        file('y'),
        '--purpose',
        'integrity-check',
        '--reason',
        'because I wanted to',
      ),
    ).toMatch(/a reference/);
    expect(
      await usage(
        'verify',
        '--file',
        file('none'),
        '--checkpoint',
        file('none.json'),
        '--public-key',
        file('none.pub'),
      ),
    ).toMatch(/cannot read/);
    writeFileSync(file('not-a-key.pub'), 'hello');
    writeFileSync(file('cp.json'), '{}');
    expect(
      await usage(
        'verify',
        '--file',
        file('none'),
        '--checkpoint',
        file('cp.json'),
        '--public-key',
        file('not-a-key.pub'),
      ),
    ).toMatch(/not a readable public key/);
    expect(await usage('verify', '--file', file('none'))).toMatch(/required option/);
  });

  it('refuses to overwrite an export, and leaves no temporary file behind', async () => {
    await exportAndTrust();
    const before = readFileSync(file('range.ndjson'));
    const again = await ledger(
      'export',
      ...[
        '--from',
        '1',
        '--to',
        '10',
        '--out',
        file('range.ndjson'),
        '--purpose',
        'integrity-check',
        '--reason',
        'R-2',
      ],
    );
    expect(again.code).toBe(EXIT.usage);
    expect(readFileSync(file('range.ndjson'))).toEqual(before);
    expect(readdirSync(dir).filter((name) => name.includes('.partial-'))).toEqual([]);
  });
});
