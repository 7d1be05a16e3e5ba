import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteReadModelStore, type AccessLogEntry } from '@nrm/projections';
import { SubjectKeyStore, sealTextFor } from '@nrm/privacy';
import { openJustifications } from './opened-text';

const entry = (eventId: string, justification?: AccessLogEntry['justification']): AccessLogEntry => ({
  position: 1,
  eventId,
  type: 'BreakGlassAccessUsed',
  at: '2026-03-02T08:00:00.000Z',
  subjectId: 'subj-1',
  ...(justification !== undefined ? { justification } : {}),
});

describe('opening the justifications of access-log entries', () => {
  let dir: string;
  let keys: SubjectKeyStore;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'opened-text-'));
    keys = new SubjectKeyStore(
      new SqliteReadModelStore(join(dir, 'keys.sqlite'), { secureDelete: true, durable: true }),
    );
  });
  afterEach(async () => {
    await keys.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('opens sealed text, keeps text in clear, and shows the erased mark once the key is gone', async () => {
    const text = 'Person reported missing from the shelter; location needed now.';
    const sealed = await sealTextFor(keys, 'subj-1', text);
    const entries = [
      entry('clear', 'Recorded in clear before texts were sealed.'),
      entry('sealed', sealed),
      entry('after-erasure', null),
      entry('no-text'),
    ];
    const lookups = jest.spyOn(keys, 'existingKey');
    const before = await openJustifications(keys, [...entries, entry('sealed-again', sealed)]);
    expect(before.map((e) => e.justification)).toEqual([
      'Recorded in clear before texts were sealed.',
      text,
      { erased: true },
      undefined,
      text,
    ]);
    expect(lookups).toHaveBeenCalledTimes(1); // one lookup per subject in an answer
    await keys.destroy('subj-1', '2026-12-07T12:00:00.000Z');
    const after = await openJustifications(keys, entries);
    expect(after.map((e) => e.justification)).toEqual([
      'Recorded in clear before texts were sealed.',
      { erased: true },
      { erased: true },
      undefined,
    ]);
    expect(JSON.stringify(after)).not.toContain('shelter');
  });

  it('opens review notes (on the access and on the review) the same way', async () => {
    const sealed = await sealTextFor(keys, 'subj-1', 'DPA:Invented_Name:ok');
    const access: AccessLogEntry = {
      ...entry('access'),
      review: { status: 'reviewed', finding: 'justified', note: sealed },
    };
    const review: AccessLogEntry = { ...entry('review'), type: 'AccessReviewed', note: sealed };
    const old: AccessLogEntry = { ...entry('old'), type: 'AccessReviewed', note: 'DPA-2026-0117' };
    const notes = (opened: Awaited<ReturnType<typeof openJustifications>>) =>
      opened.map((e) => e.review?.note ?? e.note);
    expect(notes(await openJustifications(keys, [access, review, old]))).toEqual([
      'DPA:Invented_Name:ok',
      'DPA:Invented_Name:ok',
      'DPA-2026-0117',
    ]);
    await keys.destroy('subj-1', '2026-12-07T12:00:00.000Z');
    const after = await openJustifications(keys, [access, review, old]);
    expect(notes(after)).toEqual([{ erased: true }, { erased: true }, 'DPA-2026-0117']);
    expect(after[0]!.review).toEqual({ status: 'reviewed', finding: 'justified', note: { erased: true } });
    expect(JSON.stringify(after)).not.toContain('Invented_Name');
  });
});
