import Database from 'better-sqlite3';
import { SqliteEventStore } from '@nrm/event-store';
import { copyFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { appendInvented, scratch } from '../test/invented-events';
import { AuditKeys } from './audit-keys';
import { signCheckpoint, type SignedCheckpoint } from './checkpoint';
import { writeExport } from './export';
import { IntegrityWatch, type IntegrityFinding, type IntegrityKind } from './integrity';
import { MerkleLog } from './merkle-log';
import { describeFault, verifyExport, type ExportFaultKind } from './verify-export';

/**
 * The tamper battery, extended to what an operator with write access to the
 * data directory does to hide events: delete the last ones, delete and append
 * again (so that positions are handed out twice), put back an older copy of
 * the store (or of the store and its log), fork the history. Each case must be
 * detected offline (export, then `verifyExport` against a checkpoint kept from
 * before) and online (the running ledger's `IntegrityWatch`, given that same
 * checkpoint as its outside anchor), at the first position at fault.
 */

const keys = AuditKeys.generate();
const FIRST = 60;
const TRUSTED = 100;

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Scene {
  readonly dir: string;
  readonly trusted: SignedCheckpoint;
  readonly dispose: () => Promise<void>;
}

const files = (dir: string) => ({ events: join(dir, 'events.sqlite'), audit: join(dir, 'audit.sqlite') });

function openStore(dir: string): SqliteEventStore {
  return new SqliteEventStore({ filename: files(dir).events, synchronous: 'NORMAL', pollIntervalMs: 20 });
}

function openLog(dir: string, store: SqliteEventStore): MerkleLog {
  return new MerkleLog({
    store,
    filename: files(dir).audit,
    signer: keys,
    checkpointEvery: 1_000_000,
    checkpointIntervalMs: 0,
  });
}

/** 60 events and a checkpoint, a copy of store and log then, 40 more and the checkpoint kept (100). */
async function scene(): Promise<Scene> {
  const env = scratch('nrm-truncation-');
  const log = openLog(env.dir, env.store);
  await appendInvented(env.store, FIRST);
  await log.catchUp();
  log.checkpoint();
  for (const [name, file] of Object.entries(files(env.dir))) {
    const db = new Database(file);
    db.exec(`VACUUM INTO '${join(env.dir, `old-${name}.sqlite`)}'`);
    db.close();
  }
  await appendInvented(env.store, TRUSTED - FIRST);
  await log.catchUp();
  const trusted = log.checkpoint()!;
  expect(trusted.treeSize).toBe(TRUSTED);
  await log.close();
  await env.store.close();
  await pause(5); // what is appended from now on is recorded after the kept checkpoint
  return { dir: env.dir, trusted, dispose: env.dispose };
}

/** What an operator with file access does: SQL on the store's file, its guards dropped first. */
function onStore(dir: string, sql: string): void {
  const db = new Database(files(dir).events);
  db.exec(`DROP TRIGGER IF EXISTS events_are_immutable_delete; DROP TRIGGER IF EXISTS events_are_immutable_update;
           DROP TRIGGER IF EXISTS positions_handed_out_are_kept; DROP TRIGGER IF EXISTS events_never_reuse_a_position;`);
  db.exec(sql);
  db.close();
}

function replace(dir: string, which: 'events' | 'audit'): void {
  const target = files(dir)[which];
  for (const suffix of ['', '-wal', '-shm']) rmSync(`${target}${suffix}`, { force: true });
  copyFileSync(join(dir, `old-${which}.sqlite`), target);
}

function removeLog(dir: string): void {
  for (const suffix of ['', '-wal', '-shm']) rmSync(`${files(dir).audit}${suffix}`, { force: true });
}

/** Appends through the store itself, then lets a log (kept or rebuilt) follow and sign. */
async function appendAndSign(dir: string, count: number): Promise<void> {
  const store = openStore(dir);
  await appendInvented(store, count);
  const log = openLog(dir, store);
  await log.catchUp();
  log.checkpoint();
  await log.close();
  await store.close();
}

interface Case {
  readonly name: string;
  readonly tamper: (dir: string) => Promise<void> | void;
  readonly offline: ExportFaultKind[];
  readonly online: IntegrityKind[];
  readonly position: number;
}

const CASES: Case[] = [
  {
    name: 'last event deleted',
    tamper: (d) => onStore(d, 'DELETE FROM events WHERE position = 100'),
    offline: ['truncated'],
    online: ['truncated'],
    position: 100,
  },
  {
    name: 'last 3 events deleted',
    tamper: (d) => onStore(d, 'DELETE FROM events WHERE position > 97'),
    offline: ['truncated'],
    online: ['truncated'],
    position: 98,
  },
  {
    name: 'everything since the previous checkpoint deleted',
    tamper: (d) => onStore(d, `DELETE FROM events WHERE position > ${FIRST}`),
    offline: ['truncated'],
    online: ['truncated'],
    position: FIRST + 1,
  },
  {
    name: 'last 3 deleted, then 3 appended (the store skips the positions)',
    tamper: async (d) => {
      onStore(d, 'DELETE FROM events WHERE position > 97');
      await appendAndSign(d, 3);
    },
    offline: ['truncated', 'missing'],
    online: ['missing'],
    position: 98,
  },
  {
    name: 'last 3 deleted, high-water mark reset, 3 appended (positions reused)',
    tamper: async (d) => {
      onStore(d, 'DELETE FROM events WHERE position > 97; DELETE FROM positions_handed_out;');
      await appendAndSign(d, 3);
    },
    offline: ['reused'],
    online: ['reused'],
    position: 98,
  },
  {
    name: 'the store replaced by an older copy',
    tamper: (d) => replace(d, 'events'),
    offline: ['truncated', 'rolled-back'],
    online: ['rolled-back'],
    position: FIRST + 1,
  },
  {
    name: 'the store and its log replaced by an older copy',
    tamper: (d) => {
      replace(d, 'events');
      replace(d, 'audit');
    },
    offline: ['rolled-back'],
    online: ['rolled-back'],
    position: FIRST + 1,
  },
  {
    name: 'a fork: the older copy, then other events up to the same size, signed',
    tamper: async (d) => {
      replace(d, 'events');
      replace(d, 'audit');
      await appendAndSign(d, TRUSTED - FIRST);
    },
    offline: ['reused'],
    online: ['reused'],
    position: FIRST + 1,
  },
  {
    name: 'last 3 deleted, the log deleted and rebuilt from the store',
    tamper: async (d) => {
      onStore(d, 'DELETE FROM events WHERE position > 97');
      removeLog(d);
      await appendAndSign(d, 0);
    },
    offline: ['truncated'],
    online: ['truncated'],
    position: 98,
  },
  {
    name: 'last 3 replaced (mark reset), the log deleted and rebuilt',
    tamper: async (d) => {
      onStore(d, 'DELETE FROM events WHERE position > 97; DELETE FROM positions_handed_out;');
      removeLog(d);
      await appendAndSign(d, 3);
    },
    offline: ['reused'],
    online: ['reused'],
    position: 98,
  },
  {
    name: 'one byte changed in a stored event',
    tamper: (d) =>
      onStore(d, `UPDATE events SET data = replace(data, '"score":', '"scorf":') WHERE position = 50`),
    offline: ['changed'],
    online: ['changed'],
    position: 50,
  },
  {
    name: 'an event in the middle deleted',
    tamper: (d) => onStore(d, 'DELETE FROM events WHERE position = 30'),
    offline: ['missing'],
    online: ['missing'],
    position: 30,
  },
];

/** The running ledger over the tampered files, anchored on the kept checkpoint: what does it find? */
async function online(dir: string, trusted: SignedCheckpoint): Promise<IntegrityFinding | undefined> {
  const store = openStore(dir);
  const log = openLog(dir, store);
  const watch = new IntegrityWatch({
    log,
    store,
    filename: files(dir).audit,
    anchor: trusted,
    headCheckMs: 20,
    rehashEventsPerSecond: 100_000,
    rehashPauseMs: 60_000,
  });
  try {
    let finding = await watch.start();
    if (!finding) await log.start();
    // Until something is found, or a full re-hash pass found nothing.
    for (let waited = 0; !finding && watch.status().rehash.passes === 0 && waited < 5000; waited += 20) {
      await pause(20);
      await watch.settled();
      finding = watch.finding();
    }
    if (finding) expect(log.health()).toMatchObject({ ok: false, state: 'failed' });
    return finding;
  } finally {
    await watch.close();
    await log.close();
    await store.close();
  }
}

/** The console's export, as far as store and log reach towards the kept checkpoint, verified offline. */
async function offline(dir: string, trusted: SignedCheckpoint) {
  const store = openStore(dir);
  const log = openLog(dir, store);
  try {
    await log.catchUp().catch(() => undefined);
    log.checkpoint();
    const to = Math.min(trusted.treeSize, await store.headPosition(), log.latestCheckpoint()?.treeSize ?? 0);
    const lines: string[] = [];
    await writeExport(store, log, { from: 1, to }, { write: (line) => void lines.push(line) });
    return verifyExport([lines.join('')], { trustedCheckpoint: trusted, publicKey: keys.publicKeyPem() });
  } finally {
    await log.close();
    await store.close();
  }
}

describe('tamper battery: deletion, reuse, rollback and fork', () => {
  const tally = { cases: 0, offline: 0, online: 0, localised: 0 };
  afterAll(() =>
    console.log(
      `tamper battery: cases ${tally.cases}, detected offline ${tally.offline}, detected online ${tally.online}, localised ${tally.localised}`,
    ),
  );

  it.each(CASES.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    tally.cases++;
    const s = await scene();
    try {
      // The untouched scene verifies, offline and online.
      if (tally.cases === 1) {
        expect(await offline(s.dir, s.trusted)).toMatchObject({ ok: true, toPosition: TRUSTED });
        expect(await online(s.dir, s.trusted)).toBeUndefined();
      }
      await c.tamper(s.dir);
      const found = await online(s.dir, s.trusted);
      const verdict = await offline(s.dir, s.trusted);
      const fault = verdict.ok ? undefined : verdict.fault;
      if (fault && c.offline.includes(fault.kind)) tally.offline++;
      if (found && c.online.includes(found.kind)) tally.online++;
      if (fault?.position === c.position && found?.position === c.position) tally.localised++;
      expect({
        offline: fault && describeFault(fault),
        online: found && `${found.kind} at ${found.position}`,
      }).toEqual({
        offline: expect.stringMatching(new RegExp(`^(${c.offline.join('|')}).* ${c.position}`)),
        online: expect.stringMatching(new RegExp(`^(${c.online.join('|')}) at ${c.position}$`)),
      });
      expect(fault?.position).toBe(c.position);
    } finally {
      await s.dispose();
    }
  });
});

describe('bad trusted checkpoints and anchors', () => {
  it('rejects malformed ones and ones from the future with the reason: never verified, never a crash', async () => {
    const s = await scene();
    const other = AuditKeys.generate();
    try {
      const store = openStore(s.dir);
      const log = openLog(s.dir, store);
      const lines: string[] = [];
      await writeExport(store, log, { from: 1, to: TRUSTED }, { write: (line) => void lines.push(line) });
      const text = lines.join('');
      const future = { ...s.trusted, treeSize: TRUSTED + 50 };
      const signedFuture = signCheckpoint(keys, {
        treeSize: TRUSTED + 50,
        rootHash: s.trusted.rootHash,
        time: new Date().toISOString(),
      });
      const foreign = signCheckpoint(other, s.trusted);
      const bad: [string, unknown, ExportFaultKind][] = [
        ['null', null, 'malformed'],
        ['a string', 'checkpoint', 'malformed'],
        ['a negative size', { ...s.trusted, treeSize: -1 }, 'malformed'],
        ['a fractional size', { ...s.trusted, treeSize: 1.5 }, 'malformed'],
        ['a short root', { ...s.trusted, rootHash: 'abc' }, 'malformed'],
        ['an extra field', { ...s.trusted, extra: 1 }, 'malformed'],
        // The JSON view is read from the signed note: an edited size disagrees with its note.
        ['a size beyond the log, its note unchanged', future, 'malformed'],
        ['a size beyond the log, signed by another key', foreign, 'bad-signature'],
        ['a size beyond the log, validly signed', signedFuture, 'rolled-back'],
      ];
      let rejected = 0;
      for (const [, trusted, kind] of bad) {
        const verdict = await verifyExport([text], {
          trustedCheckpoint: trusted,
          publicKey: keys.publicKeyPem(),
        });
        expect(verdict.ok).toBe(false);
        if (!verdict.ok) {
          expect(verdict.fault.kind).toBe(kind);
          expect(verdict.fault.detail.length).toBeGreaterThan(10);
          rejected++;
        }
      }
      // The running ledger anchored on a checkpoint beyond its log: a finding, not a crash.
      const watch = new IntegrityWatch({
        log,
        store,
        filename: files(s.dir).audit,
        anchor: signedFuture,
        headCheckMs: 0,
        rehashEventsPerSecond: 0,
      });
      expect(await watch.start()).toMatchObject({ kind: 'rolled-back', position: TRUSTED + 1 });
      await watch.close();
      // Proofs for sizes beyond the log are refused with the field named.
      expect(() => log.inclusionProof(1, TRUSTED + 1)).toThrow(/beyond the log/);
      expect(() => log.consistencyProof(10, TRUSTED + 1)).toThrow(/beyond the log/);
      await log.close();
      await store.close();
      console.log(
        `bad trusted checkpoints: ${bad.length} tried, ${rejected} rejected with a reason, 0 verified`,
      );
    } finally {
      await s.dispose();
    }
  });
});

describe('the running log, each check on its own', () => {
  it('a newly recorded leaf is compared with the store, with the one before it', async () => {
    const s = await scene();
    const store = openStore(s.dir);
    const log = openLog(s.dir, store);
    const watch = new IntegrityWatch({
      log,
      store,
      filename: files(s.dir).audit,
      headCheckMs: 0,
      rehashEventsPerSecond: 0,
    });
    log.onAdded((first, last) => watch.recorded(first, last));
    try {
      expect(await watch.start()).toBeUndefined();
      await log.start();
      onStore(s.dir, 'DELETE FROM events WHERE position > 97');
      await appendInvented(store, 2); // at 101 and 102: the store skips what it handed out
      expect(await log.waitFor(TRUSTED + 2, 5000)).toBe(true);
      for (let i = 0; i < 100 && !watch.finding(); i++) {
        await pause(20);
        await watch.settled();
      }
      expect(watch.finding()).toMatchObject({ kind: 'missing', position: 98, by: 'recorded' });
      expect(log.health()).toMatchObject({ ok: false, state: 'failed', failure: { position: 98 } });
      // The next start finds it kept, and still standing.
      await watch.close();
      const again = new IntegrityWatch({
        log,
        store,
        filename: files(s.dir).audit,
        headCheckMs: 0,
        rehashEventsPerSecond: 0,
      });
      expect(await again.start()).toMatchObject({ kind: 'missing', position: 98 });
      await again.close();
    } finally {
      await watch.close();
      await log.close();
      await store.close();
      await s.dispose();
    }
  });
});
