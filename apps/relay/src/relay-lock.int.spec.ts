import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { relayStoreFile } from './relay-process';
import { RelayStore, RelayStoreLocked } from './relay-store';

describe('one relay per data directory and topic prefix', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nrm-relay-lock-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps a checkpoint per topic prefix', () => {
    expect(relayStoreFile({ DATA_DIR: dir, RELAY_TOPIC_PREFIX: '' })).toBe(join(dir, 'relay.sqlite'));
    expect(relayStoreFile({ DATA_DIR: dir, RELAY_TOPIC_PREFIX: 'staging.' })).toBe(
      join(dir, 'relay-staging..sqlite'),
    );
  });

  it('refuses a second relay on the same file, in this process or another, and frees it on close', () => {
    const file = relayStoreFile({ DATA_DIR: dir, RELAY_TOPIC_PREFIX: '' });
    const first = new RelayStore(file, { exclusive: true });
    let refused = 0;
    try {
      expect(() => new RelayStore(file, { exclusive: true })).toThrow(RelayStoreLocked);
      refused++;
      expect(() => new RelayStore(file, { exclusive: true })).toThrow(
        /another relay is running on .*relay\.sqlite: one relay per data directory and topic prefix/,
      );
      refused++;
      // Another process (as a second `npm run relay` would be): SQLite's lock is the operating system's.
      const other = spawnSync(
        process.execPath,
        [
          '-e',
          `const D=require('better-sqlite3');const db=new D(process.argv[1],{timeout:0});` +
            `try{db.prepare('SELECT position FROM relay_checkpoint').get();console.log('read')}catch(e){console.log(e.code)}`,
          file,
        ],
        { encoding: 'utf8' },
      );
      expect(other.stdout.trim()).toBe('SQLITE_BUSY');
      refused++;
      // Another prefix is another file: it runs.
      new RelayStore(relayStoreFile({ DATA_DIR: dir, RELAY_TOPIC_PREFIX: 'other.' }), {
        exclusive: true,
      }).close();
    } finally {
      first.close();
    }
    const again = new RelayStore(file, { exclusive: true });
    expect(again.checkpoint()).toBe(0);
    again.close();
    console.log(`relay lock: second relays ${refused}, refused ${refused}; other prefix ran; freed on close`);
  });
});
