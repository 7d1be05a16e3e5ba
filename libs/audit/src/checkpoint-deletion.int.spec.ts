import Database from 'better-sqlite3';
import { SqliteEventStore } from '@nrm/event-store';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { appendInvented, scratch } from '../test/invented-events';
import { AuditKeys } from './audit-keys';
import { parseSignedCheckpoint, signCheckpoint, type SignedCheckpoint } from './checkpoint';
import { hashToHex } from './encoding';
import { IntegrityWatch, type IntegrityFinding, type IntegrityKind } from './integrity';
import { LogRewound, MerkleLog } from './merkle-log';

/**
 * The operator with write access to the data directory, on the audit log's own file, the events
 * untouched: deletes the newest signed checkpoints, the Merkle tail, a checkpoint in the middle,
 * replaces a checkpoint (an older one renumbered, or one signed again with the key it holds),
 * then lets the ledger append; once while the ledger runs, once while it is stopped (with and
 * without an anchor checkpoint kept outside). The running ledger remembers the newest checkpoint
 * it signed or verified and the most leaves it held, and its integrity watch reports the file
 * going backwards like any other finding: kept, logged (counts only), reported, the log halted.
 */

const keys = AuditKeys.generate();
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** Checkpoints of 20, 40, 60, 80, 100 verified at start, 120 signed by the running ledger. */
const SIZES = [20, 40, 60, 80, 100, 120];
const NEWEST = 120;

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

interface Ledger {
  readonly store: SqliteEventStore;
  readonly log: MerkleLog;
  readonly watch: IntegrityWatch;
  /** What the watch reported (onFinding) and the lines it logged. */
  readonly reported: IntegrityFinding[];
  readonly lines: { obj: object; msg: string }[];
  readonly start: IntegrityFinding | undefined;
  close(): Promise<void>;
}

/** The running ledger over `dir`: the watch first, then (nothing found) the log follows the store. */
async function run(dir: string, anchor?: SignedCheckpoint): Promise<Ledger> {
  const store = openStore(dir);
  const log = openLog(dir, store);
  const reported: IntegrityFinding[] = [];
  const lines: { obj: object; msg: string }[] = [];
  const watch = new IntegrityWatch({
    log,
    store,
    filename: files(dir).audit,
    headCheckMs: 20,
    rehashEventsPerSecond: 100_000,
    rehashPauseMs: 50,
    ...(anchor ? { anchor } : {}),
    logger: {
      info: (obj, msg) => void lines.push({ obj, msg }),
      error: (obj, msg) => void lines.push({ obj, msg }),
    },
    onFinding: (finding) => void reported.push(finding),
  });
  log.onAdded((first, last) => watch.recorded(first, last));
  const start = await watch.start();
  if (!start) await log.start();
  return {
    store,
    log,
    watch,
    reported,
    lines,
    start,
    close: async () => {
      await watch.close();
      await log.close();
      await store.close();
    },
  };
}

/** Until the watch finds something, or two re-hash passes (each ending with a full check of the checkpoints) found nothing. */
async function settle(ledger: Ledger): Promise<IntegrityFinding | undefined> {
  const passes = ledger.watch.status().rehash.passes;
  for (let waited = 0; waited < 10_000; waited += 20) {
    await ledger.watch.settled();
    const finding = ledger.watch.finding();
    if (finding || ledger.watch.status().rehash.passes >= passes + 2) return finding;
    await pause(20);
  }
  return ledger.watch.finding();
}

/**
 * 100 events with checkpoints every 20 (the history before this run), then the running ledger:
 * 20 more events followed, and a checkpoint of 120 signed by it.
 */
async function scene(): Promise<{
  dir: string;
  ledger: Ledger;
  newest: SignedCheckpoint;
  dispose: () => Promise<void>;
}> {
  const env = scratch('nrm-ckpt-deletion-');
  const before = openLog(env.dir, env.store);
  for (let i = 0; i < 5; i++) {
    await appendInvented(env.store, 20);
    await before.catchUp();
    before.checkpoint();
  }
  await before.close();
  await env.store.close();
  const ledger = await run(env.dir);
  expect(ledger.start).toBeUndefined();
  await appendInvented(ledger.store, NEWEST - 100);
  expect(await ledger.log.waitFor(NEWEST, 5000)).toBe(true);
  const newest = ledger.log.checkpoint()!;
  expect(newest.treeSize).toBe(NEWEST);
  expect(ledger.log.checkpoints().map((c) => c.treeSize)).toEqual(SIZES);
  await ledger.watch.settled();
  expect(ledger.watch.finding()).toBeUndefined();
  return { dir: env.dir, ledger, newest, dispose: env.dispose };
}

/** SQL on the log's file in one transaction, its guards (triggers) dropped first. */
function onLog(dir: string, sql: string, insert?: SignedCheckpoint & { at: number }): void {
  const db = new Database(files(dir).audit);
  for (const { name } of db
    .prepare<[], { name: string }>(`SELECT name FROM sqlite_master WHERE type = 'trigger'`)
    .all())
    db.exec(`DROP TRIGGER "${name}"`);
  db.transaction(() => {
    db.exec(sql);
    if (insert)
      db.prepare(
        'INSERT INTO checkpoints (tree_size, root_hash, time, key_id, signature, note) VALUES (?, ?, ?, ?, ?, ?)',
      ).run(insert.at, insert.rootHash, insert.time, insert.keyId, insert.signature, insert.note);
  })();
  db.close();
}

/** The tree sizes of the checkpoint rows in the file, whatever they hold. */
function checkpointRows(dir: string): number[] {
  const db = new Database(files(dir).audit, { readonly: true });
  const sizes = db
    .prepare<[], { size: number }>('SELECT tree_size AS size FROM checkpoints ORDER BY tree_size')
    .all()
    .map((r) => r.size);
  db.close();
  return sizes;
}

/** Keeps the first `leaves` leaves of the Merkle tree: every node beyond them, and their positions, deleted. */
const deleteTail = (leaves: number) =>
  `DELETE FROM merkle_nodes WHERE (idx + 1) * (1 << level) > ${leaves}; DELETE FROM leaf_positions WHERE leaf >= ${leaves};`;

/** A checkpoint row replaced by another, as given, in one transaction. */
function replaceCheckpoint(dir: string, size: number, by: SignedCheckpoint): void {
  onLog(dir, `DELETE FROM checkpoints WHERE tree_size = ${size}`, { ...by, at: size });
}

/** The checkpoint the file holds at `size`, read from its note. */
function checkpointOf(dir: string, size: number): SignedCheckpoint {
  const db = new Database(files(dir).audit, { readonly: true });
  const row = db
    .prepare<[number], { note: string }>('SELECT note FROM checkpoints WHERE tree_size = ?')
    .get(size)!;
  db.close();
  const parsed = parseSignedCheckpoint(row.note);
  if (!parsed.ok) throw new Error(parsed.reason);
  return parsed.value;
}

const later = (time: string) => new Date(Date.parse(time) + 1000).toISOString();

interface OnlineCase {
  readonly name: string;
  readonly tamper: (dir: string, ledger: Ledger, newest: SignedCheckpoint) => Promise<void> | void;
  readonly kind: IntegrityKind;
  readonly position: number;
  readonly by?: string;
}

const ONLINE: OnlineCase[] = [
  {
    name: 'the newest checkpoint deleted',
    tamper: (d) => onLog(d, `DELETE FROM checkpoints WHERE tree_size = ${NEWEST}`),
    kind: 'checkpoint-deleted',
    position: 101,
  },
  {
    name: 'the newest 3 checkpoints deleted',
    tamper: (d) => onLog(d, 'DELETE FROM checkpoints WHERE tree_size > 60'),
    kind: 'checkpoint-deleted',
    position: 61,
  },
  {
    name: 'the newest 2 checkpoints and the Merkle tail deleted',
    tamper: (d) => onLog(d, `DELETE FROM checkpoints WHERE tree_size > 80; ${deleteTail(80)}`),
    kind: 'checkpoint-deleted',
    position: 81,
  },
  {
    name: 'the Merkle tail deleted (10 leaves), checkpoints kept',
    tamper: (d) => onLog(d, deleteTail(110)),
    kind: 'log-truncated',
    position: 111,
  },
  {
    name: 'the newest 2 checkpoints and the Merkle tail deleted, then 10 events appended',
    tamper: async (d, ledger) => {
      onLog(d, `DELETE FROM checkpoints WHERE tree_size > 80; ${deleteTail(80)}`);
      await appendInvented(ledger.store, 10);
    },
    kind: 'checkpoint-deleted',
    position: 81,
  },
  {
    name: 'the newest checkpoint replaced by an older one renumbered',
    tamper: (d) => replaceCheckpoint(d, NEWEST, checkpointOf(d, 100)),
    kind: 'checkpoint-replaced',
    position: 101,
  },
  {
    name: 'the newest checkpoint replaced by one signed again with the key (same root, later time)',
    tamper: (d, _l, newest) =>
      replaceCheckpoint(
        d,
        NEWEST,
        signCheckpoint(keys, { treeSize: NEWEST, rootHash: newest.rootHash, time: later(newest.time) }),
      ),
    kind: 'checkpoint-replaced',
    position: 101,
  },
  {
    name: 'the newest checkpoint replaced by one signed with the key over another root',
    tamper: (d, _l, newest) =>
      replaceCheckpoint(
        d,
        NEWEST,
        signCheckpoint(keys, { treeSize: NEWEST, rootHash: 'ab'.repeat(32), time: newest.time }),
      ),
    kind: 'checkpoint-replaced',
    position: 101,
  },
  {
    name: 'a checkpoint in the middle deleted',
    tamper: (d) => onLog(d, 'DELETE FROM checkpoints WHERE tree_size = 40'),
    kind: 'checkpoint-deleted',
    position: 21,
  },
  {
    name: 'a checkpoint in the middle replaced by one signed again with the key',
    tamper: (d) => {
      const old = checkpointOf(d, 40);
      replaceCheckpoint(
        d,
        40,
        signCheckpoint(keys, { treeSize: 40, rootHash: old.rootHash, time: later(old.time) }),
      );
    },
    kind: 'checkpoint-replaced',
    position: 21,
    by: 'rehash',
  },
  {
    name: 'every checkpoint and the whole tree deleted',
    tamper: (d) => onLog(d, `DELETE FROM checkpoints; ${deleteTail(0)}`),
    kind: 'checkpoint-deleted',
    position: 1,
  },
];

const tally = {
  running: 0,
  online: 0,
  standing: 0,
  stopped: 0,
  restart: 0,
  undetected: [] as string[],
};
afterAll(() =>
  console.log(
    `checkpoint deletion: attacks ${tally.running + tally.stopped} (${tally.running} while running, ${tally.stopped} while stopped), noticed online ${tally.online}, still standing after a restart ${tally.standing}, noticed at restart ${tally.restart}, undetected ${tally.undetected.length}${tally.undetected.map((u) => `\n  undetected: ${u}`).join('')}`,
  ),
);

describe('the audit log’s file going backwards while the ledger runs', () => {
  it.each(ONLINE.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    tally.running++;
    const s = await scene();
    let ledger = s.ledger;
    try {
      await c.tamper(s.dir, ledger, s.newest);
      const found = await settle(ledger);
      expect(found && `${found.kind} at ${found.position}`).toBe(`${c.kind} at ${c.position}`);
      if (c.by) expect(found?.by).toBe(c.by);
      tally.online++;
      // Like every finding: reported once (the API closes its append gate on it), one error line
      // naming kind, position and id only, the log halted and signing nothing more.
      expect(ledger.reported).toHaveLength(1);
      const line = ledger.lines.find((l) => l.msg.startsWith('audit integrity finding'));
      expect(Object.keys(line?.obj ?? {}).sort()).toEqual(['by', 'findingId', 'kind', 'position']);
      expect(ledger.log.health()).toMatchObject({ ok: false, state: 'failed' });
      expect(() => ledger.log.checkpoint()).toThrow(LogRewound);
      expect(checkpointRows(s.dir).every((size) => SIZES.includes(size))).toBe(true);
      // A restart without a restore: the finding stands, the log does not follow the store.
      await ledger.close();
      ledger = await run(s.dir);
      expect(ledger.start).toMatchObject({ kind: c.kind, position: c.position });
      expect(ledger.log.health().state).toBe('stopped');
      tally.standing++;
    } finally {
      await ledger.close();
      await s.dispose();
    }
  });

  it('the appends after a deleted tail are never added: the log refuses them instead of skipping', async () => {
    const s = await scene();
    try {
      onLog(s.dir, deleteTail(80));
      await appendInvented(s.ledger.store, 5);
      await pause(200);
      expect(s.ledger.log.treeSize).toBe(80);
      const found = await settle(s.ledger);
      expect(found).toMatchObject({ kind: 'log-truncated', position: 81 });
      expect(s.ledger.log.health().failure?.message).toMatch(/log-truncated/);
    } finally {
      await s.ledger.close();
      await s.dispose();
    }
  });

  it('a restore of the log file from a backup lets the ledger resume', async () => {
    const s = await scene();
    let ledger = s.ledger;
    const backup = join(s.dir, 'audit-backup.sqlite');
    try {
      const copy = new Database(files(s.dir).audit);
      copy.exec(`VACUUM INTO '${backup}'`);
      copy.close();
      onLog(s.dir, `DELETE FROM checkpoints WHERE tree_size > 80; ${deleteTail(80)}`);
      expect(await settle(ledger)).toMatchObject({ kind: 'checkpoint-deleted', position: 81 });
      await ledger.close();
      for (const suffix of ['', '-wal', '-shm']) rmSync(`${files(s.dir).audit}${suffix}`, { force: true });
      const restored = new Database(backup);
      restored.exec(`VACUUM INTO '${files(s.dir).audit}'`);
      restored.close();
      ledger = await run(s.dir);
      expect(ledger.start).toBeUndefined();
      await appendInvented(ledger.store, 5);
      expect(await ledger.log.waitFor(NEWEST + 5, 5000)).toBe(true);
      expect(ledger.log.checkpoint()?.treeSize).toBe(NEWEST + 5);
      expect(await settle(ledger)).toBeUndefined();
    } finally {
      await ledger.close();
      await s.dispose();
    }
  });

  it('the kept finding carries what the log held: a restart with the checkpoints put back clears it', async () => {
    const s = await scene();
    let ledger = s.ledger;
    try {
      onLog(s.dir, `DELETE FROM checkpoints WHERE tree_size = ${NEWEST}`);
      expect(await settle(ledger)).toMatchObject({ kind: 'checkpoint-deleted' });
      await ledger.close();
      // The same row put back (from a copy of the checkpoint kept elsewhere).
      onLog(s.dir, 'SELECT 1', { ...s.newest, at: NEWEST });
      ledger = await run(s.dir);
      expect(ledger.start).toBeUndefined();
      expect(ledger.lines.some((l) => l.msg.startsWith('audit integrity finding cleared'))).toBe(true);
      // Put back another one instead: it stands.
      onLog(s.dir, `DELETE FROM checkpoints WHERE tree_size = ${NEWEST}`);
      expect(await settle(ledger)).toMatchObject({ kind: 'checkpoint-deleted' });
      await ledger.close();
      replaceCheckpoint(
        s.dir,
        NEWEST,
        signCheckpoint(keys, { treeSize: NEWEST, rootHash: s.newest.rootHash, time: later(s.newest.time) }),
      );
      ledger = await run(s.dir);
      expect(ledger.start).toMatchObject({ kind: 'checkpoint-deleted' });
    } finally {
      await ledger.close();
      await s.dispose();
    }
  });
});

interface StoppedCase {
  readonly name: string;
  readonly tamper: (dir: string, newest: SignedCheckpoint) => void;
  readonly anchor: boolean;
  /** What a restart finds; undefined: nothing (said in the threat model). */
  readonly found?: { kind: IntegrityKind; position: number };
}

const STOPPED: StoppedCase[] = [
  {
    name: 'the newest 2 checkpoints and the Merkle tail deleted, restart without an anchor',
    tamper: (d) => onLog(d, `DELETE FROM checkpoints WHERE tree_size > 80; ${deleteTail(80)}`),
    anchor: false,
  },
  {
    name: 'the newest 2 checkpoints and the Merkle tail deleted, restart with the newest as anchor',
    tamper: (d) => onLog(d, `DELETE FROM checkpoints WHERE tree_size > 80; ${deleteTail(80)}`),
    anchor: true,
    found: { kind: 'log-truncated', position: 81 },
  },
  {
    name: 'the newest 2 checkpoints deleted (tree kept), restart without an anchor',
    tamper: (d) => onLog(d, 'DELETE FROM checkpoints WHERE tree_size > 80'),
    anchor: false,
  },
  {
    name: 'the newest 2 checkpoints deleted (tree kept), restart with the newest as anchor',
    tamper: (d) => onLog(d, 'DELETE FROM checkpoints WHERE tree_size > 80'),
    anchor: true,
  },
  {
    name: 'the newest 2 checkpoints and the leaves deleted, upper nodes left, restart without an anchor',
    tamper: (d) =>
      onLog(
        d,
        'DELETE FROM checkpoints WHERE tree_size > 80; DELETE FROM merkle_nodes WHERE level = 0 AND idx >= 80; DELETE FROM leaf_positions WHERE leaf >= 80;',
      ),
    anchor: false,
    found: { kind: 'log-truncated', position: 81 },
  },
  {
    name: 'the Merkle tail deleted (checkpoints kept), restart without an anchor',
    tamper: (d) => onLog(d, deleteTail(110)),
    anchor: false,
    found: { kind: 'log-truncated', position: 111 },
  },
  {
    name: 'the newest checkpoint replaced by an older one renumbered, restart without an anchor',
    tamper: (d) => replaceCheckpoint(d, NEWEST, checkpointOf(d, 100)),
    anchor: false,
    found: { kind: 'checkpoint-replaced', position: 101 },
  },
  {
    name: 'the newest checkpoint replaced by one signed with the key over another root, restart with the anchor',
    tamper: (d, newest) =>
      replaceCheckpoint(
        d,
        NEWEST,
        signCheckpoint(keys, { treeSize: NEWEST, rootHash: 'cd'.repeat(32), time: newest.time }),
      ),
    anchor: true,
    found: { kind: 'checkpoint-replaced', position: 1 },
  },
  {
    name: 'the newest checkpoint replaced by one signed with the key over another root, restart without an anchor',
    tamper: (d, newest) =>
      replaceCheckpoint(
        d,
        NEWEST,
        signCheckpoint(keys, { treeSize: NEWEST, rootHash: 'cd'.repeat(32), time: newest.time }),
      ),
    anchor: false,
    found: { kind: 'checkpoint-replaced', position: 101 },
  },
];

describe('the audit log’s file going backwards while the ledger is stopped', () => {
  it.each(STOPPED.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    tally.stopped++;
    const s = await scene();
    const rootBefore = hashToHex(s.ledger.log.rootAt(NEWEST));
    await s.ledger.close();
    let ledger: Ledger | undefined;
    try {
      c.tamper(s.dir, s.newest);
      ledger = await run(s.dir, c.anchor ? s.newest : undefined);
      const found = ledger.start ?? (await settle(ledger));
      if (!c.found) {
        expect(found).toBeUndefined();
        tally.undetected.push(c.name);
        // What stays true: the log re-adds the same leaves from the untouched events, and every
        // checkpoint kept outside (the anchor, a witness's) still verifies against it.
        expect(await ledger.log.waitFor(NEWEST, 5000)).toBe(true);
        expect(hashToHex(ledger.log.rootAt(NEWEST))).toBe(rootBefore);
        return;
      }
      expect(found && `${found.kind} at ${found.position}`).toBe(`${c.found.kind} at ${c.found.position}`);
      expect(ledger.reported).toHaveLength(1);
      tally.restart++;
    } finally {
      await ledger?.close();
      await s.dispose();
    }
  });
});
