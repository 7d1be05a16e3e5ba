export { isSealedIdentity, type SealedIdentity } from '@nrm/shared-kernel';
export { KEY_BYTES, openIdentity, sealIdentity } from './sealed-identity';
export type { IdentityData } from './sealed-identity';
export { SubjectErasedError, SubjectKeyStore } from './subject-key-store';
export {
  ERASURE_GROUNDS,
  erasureDecider,
  erasureGrounds,
  erasureStream,
  requireErasureRight,
} from './erasure';
export type { EraseSubject, ErasureGround, ErasureState, SubjectErased } from './erasure';
export { ErasureRegister, type RegisteredErasure } from './erasure-register';
export { identitySealer } from './application/identity-sealer';
export * from './application/erasure-commands';
export { ERASED, openText, openTextFor, sealText, sealTextFor } from './sealed-text';
export { identityOf } from './identity';
