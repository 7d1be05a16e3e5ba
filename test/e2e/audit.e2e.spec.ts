import {
  eventLeafHash,
  hashFromHex,
  keyIdOf,
  parseSignedCheckpoint,
  publicKeyFrom,
  verifyCheckpointSignature,
  verifyConsistency,
  verifyInclusion,
  type SignedCheckpoint,
} from '@nrm/audit';
import type { RecordedEvent } from '@nrm/event-store';
import type { JsonWebKey } from 'node:crypto';
import { Ledger, type Principal } from './harness';

interface Problem {
  status?: number;
  code?: string;
  field?: string;
}
interface InclusionAnswer extends Problem {
  position: number;
  leafIndex: number;
  treeSize: number;
  leafHash: string;
  rootHash: string;
  proof: string[];
  checkpoint?: SignedCheckpoint;
}
interface ConsistencyAnswer extends Problem {
  fromSize: number;
  toSize: number;
  fromRoot: string;
  toRoot: string;
  proof: string[];
}
interface CheckpointPage {
  entries: SignedCheckpoint[];
  next?: { cursor: number };
}

/**
 * The verifiable log through the API: events made through the API, then the
 * public key, a signed checkpoint and proofs fetched over HTTP and checked
 * client-side with @nrm/audit alone, as an oversight body would.
 */
describe('audit log (e2e)', () => {
  let ledger: Ledger;
  let clinic: Principal;
  let dpa: Principal;

  async function reportCase(): Promise<number> {
    const answer = await clinic.post<{ position: number }>('/cases', {
      indicators: ['debt-bondage'],
      exploitationForms: ['labour'],
      minor: false,
      region: 'NL-ZH',
    });
    expect(answer.status).toBe(201);
    return answer.body.position;
  }

  /** The latest checkpoint once it covers `position` (the log signs one after each batch here). */
  async function checkpointCovering(position: number): Promise<SignedCheckpoint> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const answer = await dpa.get<SignedCheckpoint>('/audit/checkpoints/latest');
      if (answer.status === 200 && answer.body.treeSize >= position) return answer.body;
      if (Date.now() > deadline)
        throw new Error(`no checkpoint covers position ${position} (last answer ${answer.status})`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  async function eventAt(position: number): Promise<RecordedEvent> {
    for await (const event of ledger.store.readAll({ fromPosition: { after: position - 1 }, maxCount: 1 }))
      return event;
    throw new Error(`no event at ${position}`);
  }

  beforeAll(async () => {
    ledger = await Ledger.boot({ AUDIT_CHECKPOINT_EVERY: '1', AUDIT_CHECKPOINT_INTERVAL_SECONDS: '1' });
    clinic = await ledger.principal('health', ['caseworker'], 'clinic-audit');
    dpa = await ledger.principal('oversight-body', ['oversight'], 'dpa-audit');
  });
  afterAll(() => ledger.close());

  it('proves an event made through the API is in the signed log, checked client-side', async () => {
    const position = await reportCase();
    const checkpoint = await checkpointCovering(position);

    const key = await clinic.get<{
      algorithm: string;
      keyId: string;
      fingerprint: string;
      verifierKey: string;
      publicKeyPem: string;
      publicKeyJwk: JsonWebKey;
    }>('/audit/public-key');
    expect(key.status).toBe(200);
    const publicKey = publicKeyFrom(key.body.publicKeyPem);
    expect(key.body).toMatchObject({ algorithm: 'Ed25519', fingerprint: keyIdOf(publicKey) });
    expect(keyIdOf(publicKeyFrom(key.body.publicKeyJwk))).toBe(key.body.fingerprint);
    // The checkpoint names the key by its note key ID, which the verifier key carries.
    expect(key.body.verifierKey).toContain(`+${key.body.keyId}+`);
    expect(checkpoint.keyId).toBe(key.body.keyId);

    const parsed = parseSignedCheckpoint(checkpoint);
    expect(parsed.ok).toBe(true);
    expect(verifyCheckpointSignature(checkpoint, publicKey)).toEqual({ valid: true });

    const proof = await dpa.get<InclusionAnswer>(
      `/audit/proofs/inclusion?position=${position}&treeSize=${checkpoint.treeSize}`,
    );
    expect(proof.status).toBe(200);
    expect(proof.body.checkpoint).toEqual(checkpoint);
    // The leaf is recomputed from the event itself, not taken from the answer.
    const event = await eventAt(position);
    expect(event.type).toBe('PotentialVictimReported');
    const leaf = eventLeafHash(event);
    expect(proof.body.leafHash).toBe(leaf.toString('hex'));
    const claim = {
      leafIndex: position - 1,
      treeSize: checkpoint.treeSize,
      leafHash: leaf,
      proof: proof.body.proof.map(hashFromHex),
      rootHash: hashFromHex(checkpoint.rootHash),
    };
    expect(verifyInclusion(claim)).toEqual({ valid: true });
    // The same proof does not vouch for a changed event, nor for another position.
    const changed = eventLeafHash({ ...event, data: { ...event.data, region: 'NL-NH' } });
    expect(verifyInclusion({ ...claim, leafHash: changed }).valid).toBe(false);
    if (checkpoint.treeSize > 1)
      expect(verifyInclusion({ ...claim, leafIndex: position === 1 ? 1 : 0 }).valid).toBe(false);
  });

  it('proves a later checkpoint consistent with an earlier one', async () => {
    const earlier = await checkpointCovering(await reportCase());
    await reportCase();
    const later = await checkpointCovering(await reportCase());
    expect(later.treeSize).toBeGreaterThan(earlier.treeSize);
    const proof = await dpa.get<ConsistencyAnswer>(
      `/audit/proofs/consistency?from=${earlier.treeSize}&to=${later.treeSize}`,
    );
    expect(proof.status).toBe(200);
    expect(proof.body).toMatchObject({
      fromSize: earlier.treeSize,
      toSize: later.treeSize,
      fromRoot: earlier.rootHash,
    });
    expect(
      verifyConsistency({
        firstSize: earlier.treeSize,
        secondSize: later.treeSize,
        firstRoot: hashFromHex(earlier.rootHash),
        secondRoot: hashFromHex(later.rootHash),
        proof: proof.body.proof.map(hashFromHex),
      }),
    ).toEqual({ valid: true });
  });

  it('lists every checkpoint in pages, each signed by the key', async () => {
    const key = publicKeyFrom(
      (await dpa.get<{ publicKeyPem: string }>('/audit/public-key')).body.publicKeyPem,
    );
    const seen: SignedCheckpoint[] = [];
    let cursor: number | undefined;
    for (let pages = 0; pages < 100; pages++) {
      const page = await clinic.get<CheckpointPage>(
        `/audit/checkpoints?limit=2${cursor === undefined ? '' : `&cursor=${cursor}`}`,
      );
      expect(page.status).toBe(200);
      expect(page.body.entries.length).toBeLessThanOrEqual(2);
      seen.push(...page.body.entries);
      if (!page.body.next) break;
      cursor = page.body.next.cursor;
    }
    expect(seen.length).toBeGreaterThanOrEqual(3);
    for (let i = 1; i < seen.length; i++) expect(seen[i]!.treeSize).toBeGreaterThan(seen[i - 1]!.treeSize);
    for (const checkpoint of seen)
      expect(verifyCheckpointSignature(checkpoint, key)).toEqual({ valid: true });
    expect(seen[seen.length - 1]).toEqual(
      (await dpa.get<SignedCheckpoint>('/audit/checkpoints/latest')).body,
    );
  });

  it('gives proofs to the oversight body only, and records each refusal', async () => {
    const checkpoint = await checkpointCovering(1);
    const denials = async () => {
      let count = 0;
      for await (const e of ledger.store.readAll({ filter: { eventTypes: ['AccessDenied'] } }))
        if (e.data.view === 'audit-inclusion-proof' && e.data.agencyId === 'clinic-audit') count++;
      return count;
    };
    const before = await denials();
    const refused = await clinic.get<Problem>(
      `/audit/proofs/inclusion?position=1&treeSize=${checkpoint.treeSize}`,
    );
    expect(refused.status).toBe(403);
    expect(refused.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(refused.body.code).toBe('OVERSIGHT.ONLY');
    expect(await denials()).toBe(before + 1);
    expect((await clinic.get<Problem>('/audit/proofs/consistency?from=1')).status).toBe(403);
    // A caseworker of the oversight body is not enough either: the role is.
    const clerk = await ledger.principal('oversight-body', ['caseworker'], 'dpa-audit');
    expect((await clerk.get<Problem>('/audit/proofs/consistency?from=1')).status).toBe(403);
    const anonymous = await fetch(`${ledger.base}/audit/checkpoints/latest`);
    expect(anonymous.status).toBe(401);
  });

  it('answers bad input with a problem naming the field', async () => {
    const latest = await checkpointCovering(1);
    const beyond = latest.treeSize + 1000;
    const cases: Array<[string, number, string, string?]> = [
      ['/audit/proofs/inclusion?position=abc', 400, 'position'],
      ['/audit/proofs/inclusion?position=1.5', 400, 'position'],
      ['/audit/proofs/inclusion?position=-3', 400, 'position'],
      ['/audit/proofs/inclusion?position=0', 400, 'position'],
      ['/audit/proofs/inclusion?position=1e3', 400, 'position'],
      ['/audit/proofs/inclusion', 400, 'position'],
      ['/audit/proofs/inclusion?position=1&treeSize=x', 400, 'treeSize'],
      ['/audit/proofs/inclusion?position=1&colour=red', 400, 'colour'],
      [`/audit/proofs/inclusion?position=1&treeSize=${beyond}`, 422, 'treeSize', 'AUDIT.BEYOND_CHECKPOINT'],
      [`/audit/proofs/inclusion?position=${beyond}`, 422, 'position', 'AUDIT.BEYOND_CHECKPOINT'],
      [`/audit/proofs/inclusion?position=3&treeSize=2`, 422, 'position', 'AUDIT.BEYOND_CHECKPOINT'],
      ['/audit/proofs/consistency?from=3&to=2', 400, 'from', 'REQUEST.INVALID'],
      ['/audit/proofs/consistency?from=0', 400, 'from'],
      [`/audit/proofs/consistency?from=1&to=${beyond}`, 422, 'to', 'AUDIT.BEYOND_CHECKPOINT'],
      [`/audit/proofs/consistency?from=${beyond}`, 400, 'from', 'REQUEST.INVALID'],
      ['/audit/checkpoints?limit=101', 400, 'limit'],
      ['/audit/checkpoints?cursor=-1', 400, 'cursor'],
    ];
    const wrong: string[] = [];
    for (const [path, status, field, code] of cases) {
      const answer = await dpa.get<Problem>(path);
      const contentType = answer.headers.get('content-type') ?? '';
      if (
        answer.status !== status ||
        answer.body.field !== field ||
        (code !== undefined && answer.body.code !== code) ||
        !contentType.startsWith('application/problem+json')
      )
        wrong.push(`${path}: ${answer.status} ${JSON.stringify(answer.body)}`);
    }
    expect(wrong).toEqual([]);
  });
});
