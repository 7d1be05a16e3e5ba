import { conflict, type IdentityData, type SealedIdentity } from '@nrm/shared-kernel';
import { sealIdentity } from '../sealed-identity';
import { SubjectErasedError, type SubjectKeyStore } from '../subject-key-store';

/**
 * Seals a subject's identity data under its own key (the identification handler's `seal` port).
 * A retry, after the erasure, of the report that created the subject is refused as a
 * `DomainError`: nothing is recorded again.
 */
export function identitySealer(
  keys: SubjectKeyStore,
): (subjectId: string, identity: IdentityData) => Promise<SealedIdentity> {
  return async (subjectId, identity) => {
    try {
      return sealIdentity(await keys.keyFor(subjectId), subjectId, identity);
    } catch (error) {
      if (error instanceof SubjectErasedError)
        throw conflict(
          'SUBJECT.ERASED',
          'This person has been erased: no identity data can be recorded for them.',
        );
      throw error;
    }
  };
}
