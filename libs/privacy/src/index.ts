export { isSealedIdentity, type SealedIdentity } from '@nrm/shared-kernel';
export { KEY_BYTES, openIdentity, sealIdentity } from './sealed-identity';
export type { IdentityData } from './sealed-identity';
export { SubjectErasedError, SubjectKeyStore } from './subject-key-store';
export { erasureDecider, erasureStream, requireErasureRight } from './erasure';
export type { EraseSubject, ErasureState, SubjectErased } from './erasure';
export { ErasureRegister, type RegisteredErasure } from './erasure-register';
export { ERASED, openText, openTextFor, sealText, sealTextFor } from './sealed-text';
