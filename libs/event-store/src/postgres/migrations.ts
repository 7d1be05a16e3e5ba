import type pg from 'pg';
import { EventStoreSchemaError } from '../errors';

export interface PostgresMigration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

/**
 * Versioned schema changes of the PostgreSQL event store, applied in order at
 * open, inside the store's own schema (the connection's `search_path`). Never
 * edit a migration that has shipped: add the next one.
 *
 * Data and metadata are kept as the JSON text the port serialised, not `jsonb`:
 * `jsonb` refuses `\u0000` and lone surrogates, which the port accepts and must
 * give back unchanged.
 */
export const POSTGRES_MIGRATIONS: readonly PostgresMigration[] = [
  {
    version: 1,
    name: 'events table, append-only, with positions handed out under one lock',
    sql: `
      CREATE TABLE events (
        position       bigint      PRIMARY KEY CHECK (position >= 1),
        event_id       uuid        NOT NULL CONSTRAINT events_event_id_key UNIQUE,
        stream         text        NOT NULL,
        revision       bigint      NOT NULL CHECK (revision >= 0),
        type           text        NOT NULL,
        schema_version integer     NOT NULL CHECK (schema_version >= 1),
        data           text        NOT NULL,
        metadata       text        NOT NULL,
        recorded_at    timestamptz NOT NULL,
        CONSTRAINT events_stream_revision_key UNIQUE (stream, revision)
      );
      CREATE INDEX events_by_type ON events (type, position);

      CREATE FUNCTION events_are_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'events are immutable' USING ERRCODE = 'restrict_violation';
      END $$;
      CREATE TRIGGER events_are_immutable BEFORE UPDATE OR DELETE ON events
        FOR EACH ROW EXECUTE FUNCTION events_are_immutable();
      CREATE TRIGGER events_are_not_truncated BEFORE TRUNCATE ON events
        FOR EACH STATEMENT EXECUTE FUNCTION events_are_immutable();

      -- The one row every append locks first: appends commit one after the other, so positions
      -- become visible in the order they were handed out, and never again after a deleted tail.
      CREATE TABLE positions_handed_out (
        id        integer PRIMARY KEY CHECK (id = 1),
        position  bigint  NOT NULL CHECK (position >= 0)
      );
      INSERT INTO positions_handed_out (id, position) VALUES (1, 0);
      CREATE FUNCTION positions_handed_out_only_rise() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'DELETE' THEN
          RAISE EXCEPTION 'positions handed out are kept' USING ERRCODE = 'restrict_violation';
        END IF;
        IF NEW.position < OLD.position OR NEW.id <> OLD.id THEN
          RAISE EXCEPTION 'positions handed out never go down' USING ERRCODE = 'restrict_violation';
        END IF;
        RETURN NEW;
      END $$;
      CREATE TRIGGER positions_handed_out_only_rise BEFORE UPDATE OR DELETE ON positions_handed_out
        FOR EACH ROW EXECUTE FUNCTION positions_handed_out_only_rise();

      -- The appends of one batch, as one statement (one round trip, one transaction and one
      -- commit in autocommit). Append a has p_counts[a] events, following those of the appends
      -- before it in the event arrays; p_expected[a]: -1 'no-stream', -2 'stream-exists',
      -- otherwise the exact revision. Answers, per append in order, the stream's revision
      -- before it and the last revision and position written (null when the expectation did
      -- not hold: that append wrote nothing, the others are unaffected).
      CREATE FUNCTION append_batch(
        p_streams text[], p_expected bigint[], p_counts integer[], p_ids uuid[], p_types text[],
        p_schema_versions integer[], p_data text[], p_metadata text[], p_recorded_at timestamptz,
        p_channel text)
      RETURNS TABLE (idx integer, actual bigint, last_revision bigint, last_position bigint)
      LANGUAGE plpgsql AS $$
      DECLARE
        v_next bigint;
        v_first integer := 1;
        v_count integer;
        v_actual bigint;
        v_written boolean := false;
      BEGIN
        -- The global order: the lock on this row is held until commit, so the next batch's
        -- positions are handed out only after this one's are visible to every reader.
        SELECT h.position INTO STRICT v_next FROM positions_handed_out AS h WHERE h.id = 1 FOR UPDATE;
        FOR a IN 1 .. cardinality(p_streams) LOOP
          v_count := p_counts[a];
          -- Each statement of this volatile function takes a fresh snapshot after the lock:
          -- it sees every append that held the lock before, and the batch's own.
          SELECT coalesce(max(e.revision), -1) INTO v_actual FROM events AS e WHERE e.stream = p_streams[a];
          idx := a;
          actual := v_actual;
          IF (CASE p_expected[a] WHEN -1 THEN v_actual = -1 WHEN -2 THEN v_actual >= 0
              ELSE v_actual = p_expected[a] END) THEN
            INSERT INTO events (position, event_id, stream, revision, type, schema_version, data,
                                metadata, recorded_at)
            SELECT v_next + i, p_ids[v_first + i - 1], p_streams[a], v_actual + i,
                   p_types[v_first + i - 1], p_schema_versions[v_first + i - 1],
                   p_data[v_first + i - 1], p_metadata[v_first + i - 1], p_recorded_at
            FROM generate_series(1, v_count) AS i;
            v_next := v_next + v_count;
            last_revision := v_actual + v_count;
            last_position := v_next;
            v_written := true;
          ELSE
            last_revision := NULL;
            last_position := NULL;
          END IF;
          RETURN NEXT;
          v_first := v_first + v_count;
        END LOOP;
        IF v_written THEN
          UPDATE positions_handed_out SET position = v_next WHERE id = 1;
          -- Delivered at commit, to every listening subscriber of this schema.
          PERFORM pg_notify(p_channel, v_next::text);
        END IF;
      END $$;
    `,
  },
];

export const LATEST_POSTGRES_SCHEMA_VERSION =
  POSTGRES_MIGRATIONS[POSTGRES_MIGRATIONS.length - 1]?.version ?? 0;

/**
 * Brings the schema to the latest version in one transaction, under an advisory
 * lock keyed by the schema, so that processes opening the store at once migrate
 * it once.
 */
export async function migratePostgres(
  client: pg.ClientBase,
  schema: string,
  clock: () => Date,
): Promise<void> {
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`nrm-event-store:${schema}`]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL)`);
    const { rows } = await client.query<{ v: number | null }>(
      'SELECT max(version) AS v FROM schema_migrations',
    );
    const current = rows[0]?.v ?? 0;
    if (current > LATEST_POSTGRES_SCHEMA_VERSION)
      throw new EventStoreSchemaError(
        `the event store schema ${schema} has version ${current}, newer than this nrm-ledger knows (${LATEST_POSTGRES_SCHEMA_VERSION}); upgrade nrm-ledger before opening it`,
      );
    for (const m of POSTGRES_MIGRATIONS) {
      if (m.version <= current) continue;
      await client.query(m.sql);
      await client.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [
        m.version,
        m.name,
        clock(),
      ]);
    }
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}
