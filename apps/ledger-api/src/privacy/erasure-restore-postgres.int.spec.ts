import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SubjectErasedError } from '@nrm/privacy';
import { loadConfig, openSubjectKeys } from '@nrm/runtime';
import {
  dropSchema,
  openPostgresStore,
  rawClient,
  TEST_POSTGRES_URL,
  uniqueSchema,
} from '../../../../libs/event-store/test/postgres';
import { finishErasures } from '@nrm/privacy';

/**
 * The key store in PostgreSQL (KEY_STORE=postgres), restored from a backup taken before an erasure
 * (pg_dump / pg_restore of its schema, as a point-in-time recovery of its cluster would leave it):
 * the next start re-applies the erasure register, which lives apart from the key store, before a
 * key is read. The events are rolled back with it here (an empty event store), so the register is
 * all that remembers the erasure.
 */
describe('erasure register re-applied to a restored PostgreSQL key store (int)', () => {
  const keysSchema = uniqueSchema('erkeys');
  const eventsSchema = uniqueSchema('erev');
  let dir: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'nrm-erasure-pg-'));
  });
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await dropSchema(keysSchema);
    await dropSchema(eventsSchema);
  });

  const config = () =>
    loadConfig({
      DATA_DIR: join(dir, 'data'),
      KEY_STORE: 'postgres',
      KEY_STORE_URL: TEST_POSTGRES_URL,
      KEY_STORE_SCHEMA: keysSchema,
      ERASURE_REGISTER_FILE: join(dir, 'register', 'erasure-register.jsonl'),
      ID_DERIVATION_SECRET: 'an-invented-secret-for-this-test-only-0123456789',
    });

  it('destroys at start the key of a subject erased after the backup, keeps the others, refuses the erased one', async () => {
    const first = openSubjectKeys(config());
    const kept = await first.keyFor('subject-kept');
    const erasedKey = await first.keyFor('subject-erased-later');
    await first.close();

    // The backup: the key store's schema as pg_dump takes it, both keys in it.
    const dump = join(dir, 'keys.dump');
    execFileSync('pg_dump', [
      '--format=custom',
      `--schema=${keysSchema}`,
      `--file=${dump}`,
      TEST_POSTGRES_URL,
    ]);

    // After the backup: one subject is erased (its key destroyed, the register appended).
    const second = openSubjectKeys(config());
    await second.destroy('subject-erased-later', '2026-12-07T09:00:00.000Z');
    expect(await second.existingKey('subject-erased-later')).toBeUndefined();
    await second.close();

    // The restore: the schema as it was at the backup, the erased key back in it.
    await dropSchema(keysSchema);
    execFileSync('pg_restore', ['--no-owner', `--dbname=${TEST_POSTGRES_URL}`, dump]);
    const raw = await rawClient(keysSchema);
    const back = await raw.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM subject_keys WHERE subject_id = $1',
      ['subject-erased-later'],
    );
    expect(back.rows[0]!.n).toBe(1);

    // The next start of the api: finishErasures (PrivacyModule.onApplicationBootstrap) before any read.
    expect(existsSync(join(dir, 'register', 'erasure-register.jsonl'))).toBe(true);
    const events = openPostgresStore(eventsSchema);
    const restarted = openSubjectKeys(config());
    try {
      const finished = await finishErasures(events, restarted);
      expect(finished).toEqual(['subject-erased-later']);
      expect(await restarted.existingKey('subject-erased-later')).toBeUndefined();
      await expect(restarted.keyFor('subject-erased-later')).rejects.toBeInstanceOf(SubjectErasedError);
      expect(await restarted.existingKey('subject-kept')).toEqual(kept);
      // The key's bytes are nowhere in the table PostgreSQL rewrote (VACUUM FULL).
      const rows = await raw.query<{ key: string }>('SELECT key FROM subject_keys');
      const found = rows.rows.filter((r) => r.key === erasedKey.toString('base64')).length;
      console.log(
        `erasure register on a restored PostgreSQL key store: ${finished.length} erasure re-applied at start, ` +
          `${rows.rows.length} key kept, erased key found ${found} times`,
      );
      expect(found).toBe(0);
      // A second start finds nothing more to do.
      expect(await finishErasures(events, restarted)).toEqual([]);
    } finally {
      await raw.end();
      await restarted.close();
      await events.close();
    }
  });
});
