import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { ReferralFacts } from '@nrm/contracts';
import type { AgencyKind } from '@nrm/shared-kernel';
import type { CaseState, RelayStateView, StateChange } from './routing';

/** An event the relay could not publish: where it is and why, never its payload. */
export interface ParkedEvent {
  readonly position: number;
  readonly eventId: string;
  readonly type: string;
  readonly reason: string;
  readonly parkedAt?: string;
}

/** What one delivered batch leaves behind: committed together, or not at all. */
export interface RelayCommit {
  /** The position of the last event of the batch: every event up to it has been acknowledged by Kafka. */
  readonly checkpoint: number;
  readonly cases: ReadonlyMap<string, CaseState>;
  readonly referrals: ReadonlyMap<string, ReferralFacts>;
  readonly agencies: ReadonlyMap<string, AgencyKind>;
  readonly parked: readonly ParkedEvent[];
}

/**
 * 2: case states note each party's referrals (sent, and received with standing) and referral facts
 * their acceptance, so that a receiver left with no standing is dropped (`receiverStanding`). A file
 * of version 1 keeps its checkpoint, and its state is folded again from the event store up to it
 * before anything is published (`refoldUpTo`): a restart then routes as a relay rebuilt from scratch.
 */
const SCHEMA_VERSION = 2;

/**
 * Recently used state, kept in memory: the relay is the only writer of its file, so what it read or
 * committed stays true. Bounded, dropping the oldest entries first.
 */
class RecentlyUsed<V> {
  private readonly entries = new Map<string, V | null>();
  constructor(private readonly max: number) {}

  get(key: string): V | null | undefined {
    return this.entries.get(key);
  }

  clear(): void {
    this.entries.clear();
  }

  set(key: string, value: V | null): void {
    this.entries.delete(key);
    this.entries.set(key, value);
    if (this.entries.size > this.max) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
  }
}

/**
 * The relay's own SQLite file: its checkpoint, the state it folds (consent and parties per case,
 * referrals, agency kinds) and the parked events, so that a restarted relay resumes exactly where
 * its last acknowledged batch ended, with the state as of that position. A batch's state and
 * checkpoint are written in one transaction after Kafka acknowledged the batch.
 */
/** Another process holds the relay's file: a second relay for the same data directory and topic prefix. */
export class RelayStoreLocked extends Error {
  constructor(readonly filename: string) {
    super(
      `another relay is running on ${filename}: one relay per data directory and topic prefix (stop it, or give this one another RELAY_TOPIC_PREFIX)`,
    );
    this.name = 'RelayStoreLocked';
  }
}

export class RelayStore implements RelayStateView {
  private readonly db: Database.Database;
  private readonly statements: {
    checkpoint: Database.Statement<[], { position: number }>;
    caseState: Database.Statement<[string], { state: string }>;
    referral: Database.Statement<[string], { facts: string }>;
    agencyKind: Database.Statement<[string], { kind: AgencyKind }>;
    parkedCount: Database.Statement<[], { n: number }>;
    parked: Database.Statement<[number], ParkedEvent>;
  };
  private readonly commitTx: (commit: RelayCommit) => void;
  private readonly cases: RecentlyUsed<CaseState>;
  private readonly referrals: RecentlyUsed<ReferralFacts>;
  private readonly agencies = new Map<string, AgencyKind | null>();

  constructor(
    filename: string,
    options: {
      readonly synchronous?: 'FULL' | 'NORMAL';
      readonly cachedCases?: number;
      /**
       * Hold the file exclusively while open (SQLite's exclusive locking mode, a lock the OS drops
       * if the process dies): a second relay on the same file is refused with RelayStoreLocked.
       */
      readonly exclusive?: boolean;
    } = {},
  ) {
    this.cases = new RecentlyUsed(options.cachedCases ?? 20_000);
    this.referrals = new RecentlyUsed(2 * (options.cachedCases ?? 20_000));
    if (filename !== ':memory:') mkdirSync(dirname(filename), { recursive: true, mode: 0o700 });
    this.db = new Database(filename);
    try {
      if (options.exclusive) {
        // Before the first access, so that WAL keeps no shared-memory index another process could use.
        this.db.pragma('busy_timeout = 0');
        this.db.pragma('locking_mode = EXCLUSIVE');
        try {
          this.db.pragma('journal_mode = WAL');
          this.db.exec('BEGIN EXCLUSIVE; COMMIT');
        } catch (error) {
          if ((error as { code?: string }).code?.startsWith('SQLITE_BUSY'))
            throw new RelayStoreLocked(filename);
          throw error;
        }
      }
      this.db.pragma('journal_mode = WAL');
      this.db.pragma(`synchronous = ${options.synchronous === 'NORMAL' ? 'NORMAL' : 'FULL'}`);
      this.db.pragma('busy_timeout = 5000');
      this.migrate();
    } catch (error) {
      this.db.close();
      throw error;
    }
    const db = this.db;
    this.statements = {
      checkpoint: db.prepare('SELECT position FROM relay_checkpoint WHERE id = 1'),
      caseState: db.prepare('SELECT state FROM relay_cases WHERE case_id = ?'),
      referral: db.prepare('SELECT facts FROM relay_referrals WHERE referral_id = ?'),
      agencyKind: db.prepare('SELECT kind FROM relay_agencies WHERE agency_id = ?'),
      parkedCount: db.prepare('SELECT count(*) AS n FROM relay_parked'),
      parked: db.prepare(
        `SELECT position, event_id AS eventId, type, reason, parked_at AS parkedAt
           FROM relay_parked ORDER BY position LIMIT ?`,
      ),
    };
    const upsertCase = db.prepare(
      `INSERT INTO relay_cases (case_id, state) VALUES (?, ?)
       ON CONFLICT (case_id) DO UPDATE SET state = excluded.state`,
    );
    const upsertReferral = db.prepare(
      `INSERT INTO relay_referrals (referral_id, facts) VALUES (?, ?)
       ON CONFLICT (referral_id) DO UPDATE SET facts = excluded.facts`,
    );
    const upsertAgency = db.prepare(
      `INSERT INTO relay_agencies (agency_id, kind) VALUES (?, ?)
       ON CONFLICT (agency_id) DO UPDATE SET kind = excluded.kind`,
    );
    // A batch re-run after a crash parks the same positions again: the first record stands.
    const park = db.prepare(
      `INSERT INTO relay_parked (position, event_id, type, reason, parked_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (position) DO NOTHING`,
    );
    const moveCheckpoint = db.prepare(
      'UPDATE relay_checkpoint SET position = ? WHERE id = 1 AND position <= ?',
    );
    this.commitTx = db.transaction((commit: RelayCommit) => {
      for (const [caseId, state] of commit.cases) upsertCase.run(caseId, JSON.stringify(state));
      for (const [referralId, facts] of commit.referrals)
        upsertReferral.run(referralId, JSON.stringify(facts));
      for (const [agencyId, kind] of commit.agencies) upsertAgency.run(agencyId, kind);
      const now = new Date().toISOString();
      for (const p of commit.parked) park.run(p.position, p.eventId, p.type, p.reason, now);
      if (moveCheckpoint.run(commit.checkpoint, commit.checkpoint).changes !== 1)
        throw new Error(
          `the relay's checkpoint is past ${commit.checkpoint}: another relay shares this file`,
        );
    });
  }

  private migrate(): void {
    const version = this.db.pragma('user_version', { simple: true }) as number;
    if (version > SCHEMA_VERSION)
      throw new Error(
        `relay.sqlite has schema version ${version}, newer than this relay knows (${SCHEMA_VERSION}); upgrade the relay`,
      );
    if (version === SCHEMA_VERSION) return;
    if (version === 1) {
      this.db
        .transaction(() => {
          this.db.exec(`
          CREATE TABLE relay_refold (id INTEGER PRIMARY KEY CHECK (id = 1), position INTEGER NOT NULL);
          INSERT INTO relay_refold (id, position) SELECT 1, position FROM relay_checkpoint WHERE position > 0;
        `);
          this.db.pragma(`user_version = ${SCHEMA_VERSION}`);
        })
        .immediate();
      return;
    }
    this.db
      .transaction(() => {
        this.db.exec(`
        CREATE TABLE relay_refold (id INTEGER PRIMARY KEY CHECK (id = 1), position INTEGER NOT NULL);
        CREATE TABLE relay_checkpoint (
          id INTEGER PRIMARY KEY CHECK (id = 1), position INTEGER NOT NULL CHECK (position >= 0));
        INSERT INTO relay_checkpoint (id, position) VALUES (1, 0);
        CREATE TABLE relay_cases (case_id TEXT PRIMARY KEY, state TEXT NOT NULL) WITHOUT ROWID;
        CREATE TABLE relay_referrals (referral_id TEXT PRIMARY KEY, facts TEXT NOT NULL) WITHOUT ROWID;
        CREATE TABLE relay_agencies (agency_id TEXT PRIMARY KEY, kind TEXT NOT NULL) WITHOUT ROWID;
        CREATE TABLE relay_parked (
          position INTEGER PRIMARY KEY, event_id TEXT NOT NULL, type TEXT NOT NULL,
          reason TEXT NOT NULL, parked_at TEXT NOT NULL);
      `);
        this.db.pragma(`user_version = ${SCHEMA_VERSION}`);
      })
      .immediate();
  }

  /**
   * The position up to which the state must be folded again from the event store before the relay
   * publishes (a file migrated from an older state shape), or undefined.
   */
  refoldUpTo(): number | undefined {
    const row = this.db.prepare('SELECT position FROM relay_refold WHERE id = 1').get() as
      { position: number } | undefined;
    return row?.position;
  }

  /** Starts a refold: the folded state (cases, referrals, agency kinds) is emptied; checkpoint and parked stay. */
  beginRefold(): void {
    this.db.exec('DELETE FROM relay_cases; DELETE FROM relay_referrals; DELETE FROM relay_agencies;');
    this.cases.clear();
    this.referrals.clear();
    this.agencies.clear();
  }

  /** Ends a refold: from now on the state is the one folded again. */
  endRefold(): void {
    this.db.exec('DELETE FROM relay_refold');
  }

  /** The position of the last event whose messages Kafka acknowledged; 0 before the first batch. */
  checkpoint(): number {
    return this.statements.checkpoint.get()?.position ?? 0;
  }

  caseState(caseId: string): CaseState | undefined {
    let state = this.cases.get(caseId);
    if (state === undefined) {
      const row = this.statements.caseState.get(caseId);
      state = row ? legacyCompatible(JSON.parse(row.state) as CaseState) : null;
      this.cases.set(caseId, state);
    }
    return state ?? undefined;
  }

  referral(referralId: string): ReferralFacts | undefined {
    let facts = this.referrals.get(referralId);
    if (facts === undefined) {
      const row = this.statements.referral.get(referralId);
      facts = row ? (JSON.parse(row.facts) as ReferralFacts) : null;
      this.referrals.set(referralId, facts);
    }
    return facts ?? undefined;
  }

  /** Agencies are few: all that were looked up stay in memory. */
  agencyKind(agencyId: string): AgencyKind | undefined {
    let kind = this.agencies.get(agencyId);
    if (kind === undefined) {
      kind = this.statements.agencyKind.get(agencyId)?.kind ?? null;
      this.agencies.set(agencyId, kind);
    }
    return kind ?? undefined;
  }

  commit(commit: RelayCommit): void {
    this.commitTx(commit);
    // Only once committed: a failed commit leaves the memory as the file is.
    for (const [caseId, state] of commit.cases) this.cases.set(caseId, state);
    for (const [referralId, facts] of commit.referrals) this.referrals.set(referralId, facts);
    for (const [agencyId, kind] of commit.agencies) this.agencies.set(agencyId, kind);
  }

  parkedCount(): number {
    return this.statements.parkedCount.get()?.n ?? 0;
  }

  parked(limit = 100): ParkedEvent[] {
    return this.statements.parked.all(limit);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

/**
 * One batch's view of the state: the committed state with the batch's changes on top. The changes
 * reach the relay's file only through `commitOf`, after Kafka acknowledged the batch; a batch that
 * failed is dropped with this object and recomputed from the committed state.
 */
export class BatchState implements RelayStateView {
  private readonly cases = new Map<string, CaseState>();
  private readonly referrals = new Map<string, ReferralFacts>();
  private readonly agencies = new Map<string, AgencyKind>();
  private readonly parked: ParkedEvent[] = [];

  constructor(private committed: RelayStateView) {}

  /** Reads through to `committed` from now on: the state this one was built on has been committed there. */
  rebase(committed: RelayStateView): void {
    this.committed = committed;
  }

  caseState(caseId: string): CaseState | undefined {
    return this.cases.get(caseId) ?? this.committed.caseState(caseId);
  }

  referral(referralId: string): ReferralFacts | undefined {
    return this.referrals.get(referralId) ?? this.committed.referral(referralId);
  }

  agencyKind(agencyId: string): AgencyKind | undefined {
    return this.agencies.get(agencyId) ?? this.committed.agencyKind(agencyId);
  }

  apply(change: StateChange): void {
    for (const [caseId, state] of change.cases ?? []) this.cases.set(caseId, state);
    if (change.referral) this.referrals.set(change.referral.referralId, change.referral);
    for (const [agencyId, kind] of change.agencies ?? []) this.agencies.set(agencyId, kind);
  }

  park(event: ParkedEvent): void {
    this.parked.push(event);
  }

  commitOf(checkpoint: number): RelayCommit {
    return {
      checkpoint,
      cases: this.cases,
      referrals: this.referrals,
      agencies: this.agencies,
      parked: this.parked,
    };
  }
}

/**
 * A case state stored by a relay from before withdrawals by pairs and recorder exclusion: its grants
 * lack `withdrawals` (earlier partial withdrawals already narrowed their lists, which can only hide
 * more) and `recordedByAgencyId` (unknown: such a grant still covers its recorder until the relay's
 * checkpoint is reset and the consent streams folded again; see the README's Known gaps).
 */
function legacyCompatible(state: CaseState): CaseState {
  if (state.consent.status !== 'recorded') return state;
  const consents = Object.fromEntries(
    Object.entries(state.consent.consents).map(([id, grant]) => [
      id,
      { ...grant, withdrawals: grant.withdrawals ?? [], recordedByAgencyId: grant.recordedByAgencyId ?? '' },
    ]),
  );
  const lawfulBases = Object.fromEntries(
    Object.entries(state.consent.lawfulBases).map(([id, basis]) => [
      id,
      { ...basis, recordedByAgencyId: basis.recordedByAgencyId ?? '' },
    ]),
  );
  return { ...state, consent: { ...state.consent, consents, lawfulBases } };
}
