import type { CaseDoc, IdentityPart } from '@nrm/projections';
import { openIdentity, type SubjectKeyStore } from '@nrm/privacy';

/**
 * The identity part of a case for a reader entitled to it: opened with the
 * subject's key, or the mark of an erased subject (erased in the directory, or
 * its key already destroyed while the directory catches up). `shown` is the
 * document shown (today's, or one of the past); `current` says whether the
 * subject has been erased since.
 */
export async function identityOf(
  keys: SubjectKeyStore,
  current: CaseDoc,
  shown: CaseDoc,
): Promise<IdentityPart | undefined> {
  if (current.erased) return 'erased';
  if (shown.identity === undefined) return undefined;
  const key = await keys.existingKey(current.subjectId);
  if (key === undefined) return 'erased';
  return openIdentity(key, shown.identity);
}
