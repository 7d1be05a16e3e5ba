import { newApiKey } from '@nrm/access';
import { connect } from 'node:net';
import { RegistryService } from '../../apps/ledger-api/src/access/registry.service';
import { Ledger, type Principal } from './harness';

const PAIRS = 1000;

/**
 * Reads of the registry among a spy's calls: the ledger reads its store in the background too (the
 * audit log's integrity watch, the projector), which is no registry read a request caused.
 */
function registryReads(calls: ReadonlyArray<readonly unknown[]>): number {
  return calls.filter(([options]) => {
    const types = (options as { filter?: { eventTypes?: readonly string[] } } | undefined)?.filter
      ?.eventTypes;
    return types?.includes('ApiKeyIssued') ?? false;
  }).length;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** GET /agencies with header lines written byte for byte (Latin-1), as no fetch client would send them. */
function rawGet(base: string, lines: string[]): Promise<{ status: number; body: Record<string, unknown> }> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('end', () => {
      const text = Buffer.concat(chunks).toString('latin1');
      const [head, body = ''] = text.split('\r\n\r\n');
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head ?? '')?.[1]);
      resolve({ status, body: body ? (JSON.parse(body) as Record<string, unknown>) : {} });
    });
    const request = [
      `GET /agencies HTTP/1.1`,
      `Host: ${hostname}:${port}`,
      'Connection: close',
      ...lines,
      '',
      '',
    ];
    socket.end(Buffer.from(request.join('\r\n'), 'latin1'));
  });
}

describe('credentials: one per request, matched exactly, no key-id oracle (e2e)', () => {
  let ledger: Ledger;
  let a: Principal;
  let b: Principal;

  beforeAll(async () => {
    ledger = await Ledger.boot();
    a = await ledger.principal('ngo', ['caseworker']);
    b = await ledger.principal('national-coordinator', ['coordinator', 'registry-admin']);
  });
  afterAll(() => ledger.close());

  it('refuses two credentials (400, saying why) instead of picking one, and stores nothing', async () => {
    const head = await ledger.store.headPosition();
    const cases: Array<[string, string[], string]> = [
      [
        'two Authorization headers',
        [`Authorization: Bearer ${a.apiKey}`, `Authorization: Bearer ${b.apiKey}`],
        'Authorization',
      ],
      [
        'the same Authorization twice',
        [`Authorization: Bearer ${a.apiKey}`, `Authorization: Bearer ${a.apiKey}`],
        'Authorization',
      ],
      [
        'a bearer token and an API key',
        [`Authorization: Bearer ${b.apiKey}`, `X-Api-Key: ${a.apiKey}`],
        'X-Api-Key',
      ],
      [
        'an API key and a bearer token',
        [`X-Api-Key: ${a.apiKey}`, `Authorization: Bearer ${b.apiKey}`],
        'X-Api-Key',
      ],
      ['two X-Api-Key headers', [`X-Api-Key: ${a.apiKey}`, `X-Api-Key: ${b.apiKey}`], 'X-Api-Key'],
    ];
    let refused = 0;
    for (const [label, lines, field] of cases) {
      const answer = await rawGet(ledger.base, lines);
      expect({ label, status: answer.status, body: answer.body }).toEqual({
        label,
        status: 400,
        body: expect.objectContaining({
          code: 'AUTH.AMBIGUOUS_CREDENTIALS',
          field,
          detail: expect.stringMatching(/one credential/),
        }),
      });
      refused++;
    }
    expect(await ledger.store.headPosition()).toBe(head);
    console.log(`ambiguous credentials: attempts ${cases.length}, refused ${refused} with 400, stored 0`);
  });

  it('matches a key exactly: only the HTTP grammar’s spaces and tabs are taken off, not a no-break space', async () => {
    const accepted: Array<[string, string[]]> = [
      ['bearer', [`Authorization: Bearer ${a.apiKey}`]],
      ['spaces and tab around the field value (HTTP OWS)', [`X-Api-Key:  ${a.apiKey} \t`]],
      ['several spaces after Bearer (1*SP)', [`Authorization: Bearer   ${a.apiKey}`]],
    ];
    const refused: Array<[string, string[]]> = [
      ['Latin-1 no-break space after the key', [`X-Api-Key: ${a.apiKey}\xa0`]],
      ['Latin-1 no-break space before the key', [`X-Api-Key: \xa0${a.apiKey}`]],
      ['no-break space after Bearer', [`Authorization: Bearer\xa0${a.apiKey}`]],
      ['no-break space after the bearer key', [`Authorization: Bearer ${a.apiKey}\xa0`]],
      ['a tab after Bearer', [`Authorization: Bearer\t${a.apiKey}`]],
      ['a key with a character added', [`X-Api-Key: ${a.apiKey}x`]],
    ];
    for (const [label, lines] of accepted)
      expect({ label, status: (await rawGet(ledger.base, lines)).status }).toEqual({ label, status: 200 });
    for (const [label, lines] of refused) {
      const answer = await rawGet(ledger.base, lines);
      expect({ label, status: answer.status, code: answer.body.code }).toEqual({
        label,
        status: 401,
        code: 'AUTH.UNAUTHENTICATED',
      });
    }
    console.log(`exact keys: accepted ${accepted.length} well-formed, refused ${refused.length} altered`);
  });

  it('takes the same path for an unknown key id and a wrong secret of a known one (no registry read, one comparison each)', async () => {
    const registry = ledger.app.get(RegistryService);
    const knownId = a.apiKey.slice(4, 16);
    const wrongSecret = () => `nrm_${knownId}_${newApiKey().apiKey.slice(-43)}`;
    const unknownId = () => newApiKey().apiKey;
    const reads = jest.spyOn(ledger.store, 'readAll');
    const times = { unknown: [] as number[], wrong: [] as number[] };
    const counts = {
      unknown: { reads: 0, comparisons: 0, statuses: new Set<number>() },
      wrong: { reads: 0, comparisons: 0, statuses: new Set<number>() },
    };
    async function once(kind: 'unknown' | 'wrong'): Promise<void> {
      const key = kind === 'unknown' ? unknownId() : wrongSecret();
      const readsBefore = registryReads(reads.mock.calls);
      const comparisonsBefore = registry.view.secretComparisons;
      const start = process.hrtime.bigint();
      const response = await fetch(`${ledger.base}/agencies`, {
        headers: { authorization: `Bearer ${key}` },
      });
      await response.arrayBuffer();
      times[kind].push(Number(process.hrtime.bigint() - start) / 1000);
      counts[kind].reads += registryReads(reads.mock.calls) - readsBefore;
      counts[kind].comparisons += registry.view.secretComparisons - comparisonsBefore;
      counts[kind].statuses.add(response.status);
    }
    for (let i = 0; i < 50; i++) await once(i % 2 ? 'unknown' : 'wrong'); // warm-up
    for (const kind of ['unknown', 'wrong'] as const) {
      times[kind].length = 0;
      counts[kind].reads = counts[kind].comparisons = 0;
    }
    for (let i = 0; i < PAIRS; i++) {
      // Interleaved, order alternating, so that drift affects both alike.
      const order: Array<'unknown' | 'wrong'> = i % 2 ? ['unknown', 'wrong'] : ['wrong', 'unknown'];
      for (const kind of order) await once(kind);
    }
    reads.mockRestore();
    let unknownSlower = 0;
    for (let i = 0; i < PAIRS; i++) if (times.unknown[i]! > times.wrong[i]!) unknownSlower++;
    console.log(
      `key-id timing over loopback: pairs ${PAIRS}, median unknown id ${median(times.unknown).toFixed(0)} µs, ` +
        `median wrong secret ${median(times.wrong).toFixed(0)} µs, unknown slower in ${((100 * unknownSlower) / PAIRS).toFixed(1)}% of pairs, ` +
        `registry reads ${counts.unknown.reads}/${counts.wrong.reads}, comparisons ${counts.unknown.comparisons}/${counts.wrong.comparisons}`,
    );
    // The code path, not the clock: no store read on either, one hash comparison per request on both.
    expect([...counts.unknown.statuses, ...counts.wrong.statuses]).toEqual([401, 401]);
    expect(counts.unknown.reads).toBe(0);
    expect(counts.wrong.reads).toBe(0);
    expect(counts.unknown.comparisons).toBe(PAIRS);
    expect(counts.wrong.comparisons).toBe(PAIRS);
  }, 300_000); // 2100 requests: about 3 s on an idle machine, far more on a loaded one

  it('in process too: the same time for both, to within noise, and the same work', async () => {
    const registry = ledger.app.get(RegistryService);
    const knownId = a.apiKey.slice(4, 16);
    const reads = jest.spyOn(ledger.store, 'readAll');
    const times = { unknown: [] as number[], wrong: [] as number[] };
    const work = { unknown: 0, wrong: 0 };
    for (let i = 0; i < 200 + PAIRS; i++) {
      for (const kind of i % 2 ? (['unknown', 'wrong'] as const) : (['wrong', 'unknown'] as const)) {
        const key =
          kind === 'unknown' ? newApiKey().apiKey : `nrm_${knownId}_${newApiKey().apiKey.slice(-43)}`;
        const comparisons = registry.view.secretComparisons;
        const start = process.hrtime.bigint();
        const actor = registry.authenticateApiKey(key);
        const ns = Number(process.hrtime.bigint() - start);
        expect(actor).toBeUndefined();
        if (i < 200) continue; // warm-up
        times[kind].push(ns / 1000);
        work[kind] += registry.view.secretComparisons - comparisons;
      }
    }
    const readCount = registryReads(reads.mock.calls);
    reads.mockRestore();
    console.log(
      `key-id timing in process: pairs ${PAIRS}, median unknown id ${median(times.unknown).toFixed(1)} µs, ` +
        `median wrong secret ${median(times.wrong).toFixed(1)} µs, registry reads ${readCount}, comparisons ${work.unknown}/${work.wrong}`,
    );
    expect(readCount).toBe(0);
    expect(work).toEqual({ unknown: PAIRS, wrong: PAIRS });
  });

  it('still accepts a key issued in another process once the registry follows it, without a read on the miss', async () => {
    // As the CLI would: straight into the store, not through this API process.
    const late = await ledger.principal('shelter', ['caseworker']);
    const deadline = Date.now() + 2000;
    let status = 0;
    while (Date.now() < deadline && (status = (await late.get('/agencies')).status) !== 200)
      await new Promise((r) => setTimeout(r, 20));
    expect(status).toBe(200);
  });
});
