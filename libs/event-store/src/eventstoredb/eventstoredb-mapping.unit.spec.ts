import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import {
  AccessDeniedError,
  EventStoreDBClient,
  CancelledError,
  DeadlineExceededError,
  MaxAppendSizeExceededError,
  TimeoutError,
  UnavailableError,
  WrongExpectedVersionError,
  type RecordedEvent as EsdbRecordedEvent,
} from '@eventstore/db-client';
import { newEvent } from '../../test/conformance';
import {
  EventStoreSchemaError,
  EventStoreUnavailable,
  InvalidEventStoreInput,
  WrongExpectedRevision,
} from '../errors';
import {
  DEFAULT_RECONNECT,
  ID_CLAIM_STREAM_PREFIX,
  checkLedgerStreamName,
  BATCH_APPEND_PATH,
  clientConnectionString,
  maxAppendSizeOf,
  withUnaryAppends,
  outcomeUnknownReason,
  connectionStringProblem,
  escapeRegex,
  idClaimStream,
  isLedgerRecord,
  reconnectDelay,
  redactConnectionString,
  serverFilter,
  toEsdbPosition,
  toEventData,
  toPortPosition,
  toRecordedEvent,
  toRevision,
  toStoreError,
  unavailableReason,
} from './eventstoredb-mapping';

describe('positions', () => {
  it('are commit positions, as numbers, and go back as a record position', () => {
    expect(toPortPosition({ commit: 4242n, prepare: 4000n }, 'e')).toBe(4242);
    expect(toEsdbPosition(4242)).toEqual({ commit: 4242n, prepare: 4242n });
    expect(toPortPosition(toEsdbPosition(Number.MAX_SAFE_INTEGER), 'e')).toBe(Number.MAX_SAFE_INTEGER);
  });

  it('refuse an event without a position (servers before 22.10) and one beyond 2^53', () => {
    expect(() => toPortPosition(undefined, 'event x')).toThrow(EventStoreSchemaError);
    expect(() => toPortPosition({ commit: 0n, prepare: 0n }, 'event x')).toThrow(/22\.10/);
    expect(() => toPortPosition({ commit: 2n ** 53n, prepare: 0n }, 'event x')).toThrow(/2\^53/);
  });

  it('revisions fit a number', () => {
    expect(toRevision(7n, 's')).toBe(7);
    expect(() => toRevision(-1n, 's')).toThrow(EventStoreSchemaError);
    expect(() => toRevision(2n ** 60n, 's')).toThrow(EventStoreSchemaError);
  });
});

describe('server-side filters', () => {
  // JavaScript's RegExp stands in for .NET's here: the patterns use only what both read alike.
  const test = (regex: string, subject: string): boolean => new RegExp(regex).test(subject);

  it('match event types exactly, special characters included', () => {
    const filter = serverFilter({ eventTypes: ['ReferralMade', 'a.b(c)+$'] });
    expect(filter).toMatchObject({ filterOn: 'eventType' });
    const regex = (filter as { regex: string }).regex;
    expect(test(regex, 'ReferralMade')).toBe(true);
    expect(test(regex, 'a.b(c)+$')).toBe(true);
    expect(test(regex, 'ReferralMadeAgain')).toBe(false);
    expect(test(regex, 'XReferralMade')).toBe(false);
    expect(test(regex, 'axb(c)+$')).toBe(false);
    expect(test(regex, '$>')).toBe(false);
  });

  it('match stream prefixes by character, unicode included', () => {
    const prefix = 'fall-1-Łódź-東京-👩🏽‍⚕️';
    const regex = (serverFilter({ streamPrefixes: [prefix, 'case-'] }) as { regex: string; filterOn: string })
      .regex;
    expect(serverFilter({ streamPrefixes: ['x'] })).toMatchObject({ filterOn: 'streamName' });
    expect(test(regex, `${prefix}-more`)).toBe(true);
    expect(test(regex, 'case-1')).toBe(true);
    expect(test(regex, 'xcase-1')).toBe(false);
    expect(test(regex, 'fall-1-Lodz')).toBe(false);
  });

  it('without a filter, let through every stream but system streams and id claims', () => {
    const regex = (serverFilter(undefined) as { regex: string }).regex;
    expect(serverFilter(undefined)).toMatchObject({ filterOn: 'streamName' });
    expect(test(regex, 'case-1')).toBe(true);
    expect(test(regex, '$settings')).toBe(false);
    expect(test(regex, '$$case-1')).toBe(false);
    expect(test(regex, idClaimStream('A0000000-0000-4000-8000-000000000001'))).toBe(false);
  });

  it('with both, filter event types on the server (the client checks prefixes); nothing for an empty list', () => {
    expect(serverFilter({ eventTypes: ['A'], streamPrefixes: ['case-'] })).toMatchObject({
      filterOn: 'eventType',
    });
    expect(serverFilter({ eventTypes: [] })).toBe('nothing');
    expect(serverFilter({ streamPrefixes: [] })).toBe('nothing');
  });

  it('escape what is special in .NET and JavaScript patterns', () => {
    expect(escapeRegex('a.b*c+d?e|f(g)h[i]j{k}l^m$n\\o#p')).toBe(
      'a\\.b\\*c\\+d\\?e\\|f\\(g\\)h\\[i\\]j\\{k\\}l\\^m\\$n\\\\o\\#p',
    );
  });

  it('tell the ledger’s records from system records and claims', () => {
    expect(isLedgerRecord('case-1', 'PotentialVictimReported')).toBe(true);
    expect(isLedgerRecord('$stats-1', 'x')).toBe(false);
    expect(isLedgerRecord('case-1', '$metadata')).toBe(false);
    expect(isLedgerRecord(`${ID_CLAIM_STREAM_PREFIX}x`, 'NrmEventIdClaimed')).toBe(false);
    expect(() => checkLedgerStreamName('$$case-1')).toThrow(InvalidEventStoreInput);
    expect(() => checkLedgerStreamName(`${ID_CLAIM_STREAM_PREFIX}1`)).toThrow(/reserved/);
    expect(() => checkLedgerStreamName('case-$1')).not.toThrow();
    expect(idClaimStream('ABC')).toBe(`${ID_CLAIM_STREAM_PREFIX}abc`);
  });
});

describe('errors', () => {
  /** What @grpc/grpc-js rejects with, as the client sees it before converting. */
  const serviceError = (code: number, details: string): Error =>
    Object.assign(new Error(`${code} ${details}`), { code, details, metadata: { getMap: () => ({}) } });

  it('map unreachable, slow, refused and misdirected servers to EventStoreUnavailable', () => {
    const cases: Array<[unknown, RegExp]> = [
      [new UnavailableError(undefined, '14 UNAVAILABLE: No connection established'), /unreachable/],
      [serviceError(14, 'UNAVAILABLE: connect ECONNREFUSED 127.0.0.1:2113'), /unreachable.*ECONNREFUSED/],
      [new DeadlineExceededError(), /deadline/],
      [new AccessDeniedError(), /credentials/],
      [new Error('Failed to discover after 10 attempts.'), /discovery/],
      [serviceError(12, 'UNIMPLEMENTED: Received HTTP status code 404'), /does not answer as EventStoreDB/],
      [new EventStoreUnavailable('already mapped'), /already mapped/],
    ];
    for (const [error, reason] of cases) {
      expect(unavailableReason(error)).toMatch(reason);
      const mapped = toStoreError(error);
      expect(mapped).toBeInstanceOf(EventStoreUnavailable);
      expect(mapped).toMatchObject({ code: 'EVENT_STORE.UNAVAILABLE' });
    }
  });

  it('map an append over the server’s size limit to InvalidEventStoreInput', () => {
    const mapped = toStoreError(new MaxAppendSizeExceededError(undefined, 1048576));
    expect(mapped).toBeInstanceOf(InvalidEventStoreInput);
    expect(mapped).toMatchObject({ field: 'events', reason: expect.stringMatching(/1048576 bytes/) });
  });

  it('tell an append whose outcome is unknown from one that never left', () => {
    const cases: Array<[unknown, RegExp | undefined]> = [
      [new DeadlineExceededError(), /deadline/],
      [new TimeoutError(), /timed the commit out/],
      [new CancelledError(), /cancelled/],
      [serviceError(14, 'UNAVAILABLE: Connection dropped'), /connection failed/],
      [new EventStoreUnavailable('no answer within 10000 ms (appending)'), /no answer within/],
      [new UnavailableError(undefined, '14 UNAVAILABLE: No connection established'), undefined],
      [new EventStoreUnavailable('server unreachable (x)'), undefined],
      [new WrongExpectedVersionError(undefined, { streamName: 's', expected: 1n, current: 2n }), undefined],
      ['not an error', undefined],
    ];
    for (const [error, reason] of cases)
      if (reason === undefined) expect(outcomeUnknownReason(error)).toBeUndefined();
      else expect(outcomeUnknownReason(error)).toMatch(reason);
  });

  it('leave other errors as they are', () => {
    const wrong = new WrongExpectedVersionError(undefined, { streamName: 's', expected: 1n, current: 2n });
    const ours = new WrongExpectedRevision('s', 1, 2);
    const plain = new Error('boom');
    expect(toStoreError(wrong)).toBe(wrong);
    expect(toStoreError(ours)).toBe(ours);
    expect(toStoreError(plain)).toBe(plain);
    expect(unavailableReason('not an error')).toBeUndefined();
  });
});

describe('reconnection back-off', () => {
  it('doubles from the initial delay up to the cap, between half and all of each step', () => {
    const options = { initialDelayMs: 100, maxDelayMs: 1000 };
    const highest = [1, 2, 3, 4, 5, 6, 10, 1000].map((n) => reconnectDelay(n, options, () => 1));
    const lowest = [1, 2, 3, 4, 5, 6, 10, 1000].map((n) => reconnectDelay(n, options, () => 0));
    expect(highest).toEqual([100, 200, 400, 800, 1000, 1000, 1000, 1000]);
    expect(lowest).toEqual([50, 100, 200, 400, 500, 500, 500, 500]);
  });

  it('has bounded defaults', () => {
    expect(reconnectDelay(1, {}, () => 1)).toBe(DEFAULT_RECONNECT.initialDelayMs);
    expect(reconnectDelay(50, {}, () => 1)).toBe(DEFAULT_RECONNECT.maxDelayMs);
    expect(Number.isFinite(DEFAULT_RECONNECT.maxAttempts)).toBe(true);
  });
});

describe('the workaround for 6.2.1’s process-global table of pending appends', () => {
  it('answers "no BatchAppend" for that method only, so that every append is a unary call', async () => {
    const client = withUnaryAppends(EventStoreDBClient.connectionString('esdb://127.0.0.1:1?tls=false'));
    const supports = (client as unknown as { supports: (m: { path: string }) => Promise<boolean> }).supports;
    expect(await supports({ path: BATCH_APPEND_PATH })).toBe(false);
    await client.dispose();
  });

  it('still matches how the installed client chooses between BatchAppend and Append', () => {
    // If an upgrade changes this, the workaround above may no longer apply: look again.
    const dir = dirname(require.resolve('@eventstore/db-client'));
    const source = readFileSync(join(dir, 'streams', 'appendToStream', 'index.js'), 'utf8');
    expect(source).toMatch(/this\.supports\(streams_grpc_pb_1\.StreamsService\.batchAppend\)/);
    const methods = readFileSync(join(dir, '..', 'generated', 'streams_grpc_pb.js'), 'utf8');
    expect(methods).toContain(`path: '${BATCH_APPEND_PATH}'`);
    // The table itself: one Map for the whole module, shared by every client.
    const batch = readFileSync(join(dir, 'streams', 'appendToStream', 'batchAppend.js'), 'utf8');
    expect(batch).toMatch(/^const promiseBank = new Map\(\);$/m);
  });
});

describe('connection strings', () => {
  it('accept esdb, esdb+discover, kurrentdb and kurrentdb+discover, in the form the client reads', () => {
    expect(clientConnectionString('esdb://db:2113?tls=false')).toBe('esdb://db:2113?tls=false');
    expect(clientConnectionString('kurrentdb://admin:changeit@db:2113')).toBe(
      'esdb://admin:changeit@db:2113',
    );
    expect(clientConnectionString(' KurrentDB+discover://cluster.example:2113 ')).toBe(
      'esdb+discover://cluster.example:2113',
    );
    for (const url of [
      'esdb://db:2113?tls=false',
      'esdb://a:2113,b:2113,c:2113?nodePreference=leader',
      'esdb+discover://cluster.example:2113?tlsVerifyCert=true',
      'kurrentdb://admin:changeit@localhost:2113?tls=false&defaultDeadline=5000',
      'kurrentdb+discover://cluster.example:2113',
    ])
      expect(connectionStringProblem(url)).toBeUndefined();
  });

  it('say what is wrong, without quoting credentials', () => {
    const cases: Array<[string, RegExp]> = [
      ['', /must start with esdb:\/\//],
      ['postgres://db:5432', /must start with/],
      ['esdb://', /must name a host/],
      ['esdb://admin:s3cret@', /must name a host/],
      ['esdb://admin:s3cret@db:port', /position \d+ \(expected port number\)/],
      ['esdb://db:2113?tls=maybe', /expected true or false/],
      ['kurrentdb://db:2113?tls=maybe', /at position 24 \(expected true or false\)/],
      ['esdb://db:2113?colour=blue', /unknown option "colour"/],
      ['esdb://db:2113?throwOnAppendFailure=false', /throwOnAppendFailure/],
      ['esdb://db:2113?tlsVerifyCert=false', /tlsCAFile/],
      ['esdb://admin:s3cret@db:2113?tlsCAFile=/nonexistent/ca.pem', /certificate file/],
    ];
    for (const [url, problem] of cases) {
      const text = connectionStringProblem(url);
      expect(text).toMatch(problem);
      expect(text).not.toMatch(/s3cret/);
    }
  });

  it('carry the server’s MaxAppendSize for the adapter, not for the client', () => {
    expect(clientConnectionString('kurrentdb://db:2113?tls=false&maxAppendSize=9437184')).toBe(
      'esdb://db:2113?tls=false',
    );
    expect(clientConnectionString('esdb://db:2113?max-append-size=2048')).toBe('esdb://db:2113');
    expect(maxAppendSizeOf('kurrentdb://db:2113?tls=false&maxAppendSize=9437184')).toBe(9437184);
    expect(maxAppendSizeOf('esdb://db:2113?tls=false')).toBeUndefined();
    expect(connectionStringProblem('esdb://db:2113?maxAppendSize=9437184&tls=false')).toBeUndefined();
    for (const bad of ['lots', '12', '-5', ''])
      expect(connectionStringProblem(`esdb://db:2113?maxAppendSize=${bad}`)).toMatch(/maxAppendSize/);
  });

  it('are redacted for messages', () => {
    expect(redactConnectionString('esdb://admin:s3cret@db:2113?tls=false')).toBe(
      'esdb://***@db:2113?tls=false',
    );
    expect(redactConnectionString('esdb://db:2113')).toBe('esdb://db:2113');
  });
});

describe('events', () => {
  function stored(overrides: Partial<Record<string, unknown>> = {}): EsdbRecordedEvent {
    const event = newEvent('ConsentGranted', { categories: ['case-status'] });
    const data = toEventData(event);
    return {
      streamId: 'consent-1',
      id: event.id,
      revision: 3n,
      type: event.type,
      isJson: true,
      created: new Date('2026-11-30T12:00:01.234Z'),
      data: data.data,
      metadata: JSON.parse(JSON.stringify(data.metadata)) as unknown,
      position: { commit: 900n, prepare: 800n },
      ...overrides,
    } as EsdbRecordedEvent;
  }

  it('keep our id, type, schema version, data and metadata, with EventStoreDB’s correlation names', () => {
    const event = { ...newEvent('A', { x: [1, 'y', null] }), schemaVersion: 3 };
    const data = toEventData(event);
    expect(data).toMatchObject({
      id: event.id,
      type: 'A',
      contentType: 'application/json',
      data: event.data,
    });
    expect(data.metadata).toEqual({
      $correlationId: event.metadata.correlationId,
      schemaVersion: 3,
      metadata: event.metadata,
    });
    const back = toRecordedEvent(stored());
    expect(back).toMatchObject({
      stream: 'consent-1',
      revision: 3,
      position: 900,
      type: 'ConsentGranted',
      schemaVersion: 1,
      data: { categories: ['case-status'] },
      recordedAt: '2026-11-30T12:00:01.234Z',
    });
    expect(back.metadata).toMatchObject({ principalId: 'principal-test', agencyId: 'agency-test' });
  });

  it('refuse what this adapter did not write', () => {
    expect(() => toRecordedEvent(stored({ isJson: false, data: new Uint8Array([1]) }))).toThrow(
      EventStoreSchemaError,
    );
    expect(() => toRecordedEvent(stored({ data: 'text' }))).toThrow(/not written by the nrm-ledger adapter/);
    expect(() => toRecordedEvent(stored({ metadata: { schemaVersion: 0, metadata: {} } }))).toThrow(
      /cannot read/,
    );
    expect(() => toRecordedEvent(stored({ metadata: undefined }))).toThrow(EventStoreSchemaError);
  });
});
