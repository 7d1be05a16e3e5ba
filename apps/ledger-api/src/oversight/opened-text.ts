import type { AccessLogEntry } from '@nrm/projections';
import { openTextFor, type SubjectKeyStore } from '@nrm/privacy';
import type { ErasedMark } from '@nrm/shared-kernel';

/**
 * An access-log entry as a reader is shown it: its justification and review note opened, or the
 * erased mark.
 */
export type OpenedAccessLogEntry = Omit<AccessLogEntry, 'justification' | 'note' | 'review'> & {
  readonly justification?: string | ErasedMark;
  readonly note?: string | ErasedMark;
  readonly review?: Omit<NonNullable<AccessLogEntry['review']>, 'note'> & {
    readonly note?: string | ErasedMark;
  };
};

/**
 * The key store as one answer reads it: each subject's key looked up once, however many of its
 * texts the answer opens.
 */
export function keysOnce(keys: SubjectKeyStore): Pick<SubjectKeyStore, 'existingKey'> {
  const looked = new Map<string, Promise<Buffer | undefined>>();
  return {
    existingKey: (subjectId) => {
      let key = looked.get(subjectId);
      if (key === undefined) looked.set(subjectId, (key = keys.existingKey(subjectId)));
      return key;
    },
  };
}

/**
 * Opens the break-glass justifications and review notes of access-log entries with their subjects'
 * keys: sealed ones (schema 2) are opened, or shown as `{ "erased": true }` once the subject is
 * erased; those kept in clear (schema 1) are shown as they are.
 */
export async function openJustifications(
  keys: SubjectKeyStore,
  entries: readonly AccessLogEntry[],
): Promise<OpenedAccessLogEntry[]> {
  const once = keysOnce(keys);
  const opened: OpenedAccessLogEntry[] = [];
  for (const entry of entries) {
    const { justification, note, review, ...rest } = entry;
    opened.push({
      ...rest,
      ...(justification !== undefined ? { justification: await openTextFor(once, justification) } : {}),
      ...(note !== undefined ? { note: await openTextFor(once, note) } : {}),
      ...(review !== undefined ? { review: await openReview(once, review) } : {}),
    });
  }
  return opened;
}

async function openReview(
  keys: Pick<SubjectKeyStore, 'existingKey'>,
  review: NonNullable<AccessLogEntry['review']>,
): Promise<NonNullable<OpenedAccessLogEntry['review']>> {
  const { note, ...rest } = review;
  return note === undefined ? rest : { ...rest, note: await openTextFor(keys, note) };
}
